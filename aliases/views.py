"""Alias pages: thin views that read through the scoping helper and write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, FormView
from django.views.generic.detail import SingleObjectMixin

from accounts.scoping import scoped
from aliases.forms import AliasCreateForm, AliasFilterForm, AliasForm
from aliases.models import Alias
from aliases.selectors import alias_list, destination_suggestions, missing_local_targets
from aliases.services import (
    alias_create,
    alias_delete,
    alias_limit_text,
    alias_set_active,
    alias_update,
)
from aliases.tables import AliasTable, alias_label, target_label
from core.http import AuthedRequest
from core.sticky import sticky_domain
from core.views import (
    AdminRequiredMixin,
    CreateRoomMixin,
    CreateRoomView,
    DomainFilteredListView,
    ScopedObjectMixin,
    ToggleActiveView,
    apply_service_error,
)
from domains.models import Domain
from mail.names import address_to_unicode, domain_filter_value, normalize_local_part
from mailboxes.models import Mailbox
from pfa.goto import is_vacation_target


def warn_missing_targets(request: AuthedRequest, targets: list[str]) -> None:
    """Warn (the alias is saved) about destinations in the user's domains that do not exist."""
    missing = missing_local_targets(request.user, targets)
    if missing:
        messages.warning(
            request,
            ngettext(
                "%(addresses)s does not exist in your domains: mail to it bounces until a "
                "mailbox or alias of that name is created.",
                "%(addresses)s do not exist in your domains: mail to them bounces until "
                "mailboxes or aliases of those names are created.",
                len(missing),
            )
            % {"addresses": ", ".join(address_to_unicode(a) for a in missing)},
        )


def list_url() -> str:
    """Return the address of the alias list."""
    return reverse("aliases:alias-list")


class AliasRoomMixin(CreateRoomMixin):
    """The domain's aliases against its limit, on the list and the new-alias form."""

    room_kind = "aliases"

    def limit_text(self, limit: int) -> str:
        return alias_limit_text(limit)

    def disabled_text(self) -> str:
        return _("This domain may not have aliases.")


class AliasRoomView(AliasRoomMixin, CreateRoomView):
    """One domain's aliases against its limit, for the new-alias form's domain field."""


class AliasListView(DomainFilteredListView, AliasRoomMixin):
    """List the user's aliases (mailboxes' own rows hidden unless asked for) with search."""

    model = Alias
    table_class = AliasTable
    template_name = "aliases/alias_list.html"
    filter_form_class = AliasFilterForm

    def filter_data(self) -> dict[str, str]:
        data = super().filter_data()
        if self.request.GET.get("show_mailbox_aliases"):
            data["show_mailbox_aliases"] = self.request.GET["show_mailbox_aliases"]
        return data

    def select(self, filters: dict[str, Any]) -> QuerySet[Alias]:
        return alias_list(self.request.user, filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        domain = context["filter_domain"] if context["filter_domain_managed"] else ""
        context.update(self.room_context(domain))
        return context


class AliasCreateView(AdminRequiredMixin, FormView, AliasRoomMixin):
    """Create an alias or catch-all in one of the user's domains, within its limit."""

    request: AuthedRequest

    form_class = AliasCreateForm
    template_name = "aliases/alias_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        chosen = domain_filter_value(sticky_domain(self.request))
        if chosen and scoped(self.request.user, Domain).filter(domain=chosen).exists():
            kwargs["initial_domain"] = chosen
        kwargs["domain_notes"] = self.room_notes()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        domain = context["form"]["domain"].value() or ""
        context.update(self.room_context(getattr(domain, "domain", str(domain))))
        return context

    def form_valid(self, form: AliasCreateForm) -> HttpResponse:
        data = form.cleaned_data
        domain = data["domain"]
        local_part = data["local_part"]
        if local_part not in ("", "*"):
            try:
                local_part = normalize_local_part(local_part, domain.domain)
            except ValidationError as exc:
                apply_service_error(form, exc, default_field="local_part")
                return self.form_invalid(form)
        try:
            alias = alias_create(
                actor=self.request.user,
                domain=domain,
                local_part=local_part,
                targets=data["targets"],
                override_limits=data.get("override_limits", False),
            )
        except ValidationError as exc:
            # Limits are about the domain: show them next to the domain choice.
            apply_service_error(form, exc, default_field="domain")
            return self.form_invalid(form)
        messages.success(
            self.request, _("Alias %(address)s created.") % {"address": alias_label(alias.address)}
        )
        warn_missing_targets(self.request, data["targets"])
        return HttpResponseRedirect(list_url())


class AliasObjectMixin(ScopedObjectMixin, SingleObjectMixin):
    """Find the alias of the URL among the user's aliases (404 otherwise).

    A mailbox's own alias row is not edited here: the user is sent to the mailbox's forwarding.
    """

    model = Alias
    lookup_field = "address"
    context_object_name = "alias"

    def mailbox_redirect(self, alias: Alias) -> HttpResponse | None:
        """Send the user to the mailbox page when the alias is a mailbox's own row."""
        if not Mailbox.objects.filter(username=alias.address).exists():
            return None
        messages.info(
            self.request,
            _("%(address)s is a mailbox: its destinations are set as the mailbox's forwarding.")
            % {"address": alias_label(alias.address)},
        )
        url = reverse("mailboxes:mailbox-detail", kwargs={"username": alias.address})
        return HttpResponseRedirect(f"{url}#forwarding")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return self.mailbox_redirect(self.object) or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return self.mailbox_redirect(self.object) or super().post(request, *args, **kwargs)


class AliasSuggestView(AdminRequiredMixin, View):
    """Suggest destinations while typing (the alias forms' datalist): the user's addresses only.

    `?q=an&domain=example.org` answers {"addresses": ["anna@example.org", ...]} in Unicode,
    those of the alias's domain first.
    """

    request: AuthedRequest

    http_method_names = ["get"]

    def get(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        typed = request.GET.get("q", "")[:255]
        domain = domain_filter_value(request.GET.get("domain", "")[:255])
        found = destination_suggestions(request.user, typed, domain)
        return JsonResponse({"addresses": [address_to_unicode(a) for a in found]})


class AliasUpdateView(AliasObjectMixin, FormView):
    """Change an alias's destinations."""

    request: AuthedRequest

    form_class = AliasForm
    template_name = "aliases/alias_edit.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["alias"] = self.object
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        # Vacation targets are kept by the service and not offered for editing.
        address = self.object.address
        return {
            "targets": "\n".join(
                target_label(t) for t in self.object.targets if not is_vacation_target(t, address)
            )
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["alias_label"] = alias_label(self.object.address)
        return context

    def form_valid(self, form: AliasForm) -> HttpResponse:
        try:
            alias_update(
                actor=self.request.user, alias=self.object, targets=form.cleaned_data["targets"]
            )
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="targets")
            return self.form_invalid(form)
        except PermissionDenied:
            # The alias became a mailbox's own row meanwhile.
            return self.mailbox_redirect(self.object) or HttpResponseRedirect(list_url())
        messages.success(
            self.request,
            _("Alias %(address)s saved.") % {"address": alias_label(self.object.address)},
        )
        warn_missing_targets(self.request, form.cleaned_data["targets"])
        return HttpResponseRedirect(list_url())


class AliasToggleView(ToggleActiveView):
    """Activate or deactivate an alias (a mailbox's own row follows its mailbox instead)."""

    model = Alias
    lookup_field = "address"

    def perform(self, obj: Alias, active: bool) -> None:
        alias_set_active(actor=self.request.user, alias=obj, active=active)

    def fallback_url(self, obj: Alias) -> str:
        return list_url()


class AliasDeleteView(AliasObjectMixin, DetailView):
    """Ask for confirmation (GET), then delete the alias (POST)."""

    request: AuthedRequest

    template_name = "aliases/alias_confirm_delete.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["alias_label"] = alias_label(self.object.address)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        redirect = self.mailbox_redirect(self.object)
        if redirect is not None:
            return redirect
        try:
            alias_delete(actor=self.request.user, alias=self.object)
        except PermissionDenied:
            return self.mailbox_redirect(self.object) or HttpResponseRedirect(list_url())
        messages.success(
            request, _("Alias %(address)s deleted.") % {"address": alias_label(self.object.address)}
        )
        return HttpResponseRedirect(list_url())
