"""Mailbox pages: thin views that read through the scoping helper and write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import DetailView, FormView
from django.views.generic.detail import SingleObjectMixin

from accounts.resets import mailbox_reset_route
from accounts.scoping import scoped, scoped_domain_names
from aliases.tables import target_label
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
from domains.models import Domain, by_sort_name
from domains.selectors import Room
from mail.names import address_to_unicode, normalize_local_part, to_unicode
from mail.quota import quota_text
from mailboxes.emails import send_settings_email
from mailboxes.forms import (
    ForwardingForm,
    MailboxCreateForm,
    MailboxFilterForm,
    MailboxForm,
    MailboxPasswordForm,
    SettingsEmailForm,
)
from mailboxes.models import Mailbox
from mailboxes.selectors import (
    aliases_delivering_query,
    aliases_delivering_to,
    default_quotas,
    mailbox_list,
    mailbox_password_changed,
    mailbox_used_bytes,
    password_expiry_enforced,
)
from mailboxes.services import (
    default_quota_bytes,
    mailbox_create,
    mailbox_forwarding,
    mailbox_limit_text,
    mailbox_purge,
    mailbox_set_active,
    mailbox_set_forwarding,
    mailbox_set_password,
    mailbox_smtp_active,
    mailbox_update,
    unlimited_quota_allowed,
)
from mailboxes.tables import MailboxTable, quota_cell, vacation_badge
from mailboxes.vacation import vacation_get


def warn_about_reset(request: HttpRequest, mailbox: Mailbox) -> None:
    """Say when the owner's alternative address will not get reset links, and why."""
    if mailbox.email_other:
        route = mailbox_reset_route(mailbox)
        if not route.allowed:
            messages.warning(request, route.problem)


def detail_url(mailbox: Mailbox) -> str:
    """Return the address of a mailbox's page."""
    return reverse("mailboxes:mailbox-detail", kwargs={"username": mailbox.username})


class MailboxRoomMixin(CreateRoomMixin):
    """The domain's mailboxes against its limit, on the list and the new-mailbox form."""

    room_kind = "mailboxes"

    def limit_text(self, limit: int) -> str:
        return mailbox_limit_text(limit)

    def disabled_text(self) -> str:
        return _("This domain may not have mailboxes.")


class MailboxRoomView(MailboxRoomMixin, CreateRoomView):
    """One domain's mailboxes against its limit, and its default quota, for the new-mailbox
    form's domain field (the quota field follows it, unless a quota was typed)."""

    def room_answer(self, room: Room, context: dict[str, Any]) -> dict[str, Any]:
        answer = super().room_answer(room, context)
        quota = default_quotas(self.request.user, [room.domain]).get(room.domain)
        answer["default_quota"] = quota_text(quota) if quota is not None else ""
        return answer


class MailboxListView(DomainFilteredListView, MailboxRoomMixin):
    """List the user's mailboxes with search, domain filter, usage and one-click activation."""

    model = Mailbox
    table_class = MailboxTable
    template_name = "mailboxes/mailbox_list.html"
    filter_form_class = MailboxFilterForm

    def select(self, filters: dict[str, Any]) -> QuerySet[Mailbox]:
        return mailbox_list(self.request.user, filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        domain = context["filter_domain"] if context["filter_domain_managed"] else ""
        context.update(self.room_context(domain))
        return context


class MailboxCreateView(AdminRequiredMixin, FormView, MailboxRoomMixin):
    """Create a mailbox in one of the user's domains, within its limits."""

    request: AuthedRequest

    form_class = MailboxCreateForm
    template_name = "mailboxes/mailbox_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        domains = scoped(self.request.user, Domain)
        chosen = sticky_domain(self.request)
        domain = domains.filter(domain=chosen).first() if chosen else None
        # The first of the form's select.
        domain = domain or by_sort_name(domains).first()
        kwargs["user"] = self.request.user
        if domain is not None:
            kwargs["initial_domain"] = domain.domain
            kwargs["default_quota"] = quota_text(default_quota_bytes(domain))
        if scoped_domain_names(self.request.user) is not None:  # a select of the domains
            quotas = default_quotas(self.request.user)
            kwargs["default_quotas"] = {name: quota_text(size) for name, size in quotas.items()}
        kwargs["domain_notes"] = self.room_notes()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        domain = form["domain"].value() or ""
        context.update(self.room_context(getattr(domain, "domain", str(domain))))
        return context

    def form_valid(self, form: MailboxCreateForm) -> HttpResponse:
        data = form.cleaned_data
        domain = data["domain"]
        try:
            local_part = normalize_local_part(data["local_part"], domain.domain)
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="local_part")
            return self.form_invalid(form)
        try:
            mailbox = mailbox_create(
                actor=self.request.user,
                domain=domain,
                local_part=local_part,
                password=data["password"],
                name=data["name"],
                quota_bytes=data["quota"],
                email_other=data["email_other"],
                send_welcome=data["send_welcome"],
                override_limits=data.get("override_limits", False),
                invite=data.get("invite", False),
            )
        except ValidationError as exc:
            # Limits are about the domain: show them next to the domain choice.
            apply_service_error(form, exc, default_field="domain")
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Mailbox %(address)s created.") % {"address": address_to_unicode(mailbox.username)},
        )
        if domain.backupmx:
            messages.warning(
                self.request,
                _(
                    "%(domain)s is a backup MX domain: this server only passes its mail on, so "
                    "the mailbox receives no mail here until the domain's Backup MX box is "
                    "cleared."
                )
                % {"domain": to_unicode(domain.domain)},
            )
        if data.get("invite"):
            messages.info(
                self.request,
                _("A link to choose the password was mailed to %(address)s.")
                % {"address": address_to_unicode(mailbox.email_other)},
            )
        warn_about_reset(self.request, mailbox)
        return HttpResponseRedirect(detail_url(mailbox))


class MailboxObjectMixin(ScopedObjectMixin, SingleObjectMixin):
    """Find the mailbox of the URL among the user's mailboxes (404 otherwise)."""

    model = Mailbox
    lookup_field = "username"
    context_object_name = "mailbox"


class MailboxFormMixin(MailboxObjectMixin):
    """A form page about the mailbox of the URL: the mailbox is looked up for GET and POST."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)


class MailboxDetailView(MailboxObjectMixin, DetailView):
    """Show a mailbox with its usage, the aliases that reach it, forwarding and settings e-mail."""

    request: AuthedRequest

    template_name = "mailboxes/mailbox_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        mailbox = self.object
        if "forwarding_form" not in kwargs:
            targets, keep = mailbox_forwarding(mailbox)
            kwargs["forwarding_form"] = ForwardingForm(
                initial={"targets": "\n".join(target_label(t) for t in targets), "keep_copy": keep}
            )
        if "settings_form" not in kwargs:
            kwargs["settings_form"] = SettingsEmailForm(mailbox=mailbox)
        context = super().get_context_data(**kwargs)
        context["used_bytes"] = mailbox_used_bytes(mailbox)
        delivering = aliases_delivering_to(mailbox, user=self.request.user)
        context["delivering_aliases"] = delivering.listed
        context["delivering"] = delivering
        context["smtp_active"] = mailbox_smtp_active(mailbox)
        context["password_expires"] = password_expiry_enforced(mailbox)
        context["quota_display"] = quota_cell(mailbox.quota, context["used_bytes"])
        vacation = context["vacation"] = vacation_get(mailbox)
        context["vacation_badge"] = vacation_badge(
            (vacation.row.activefrom, vacation.row.activeuntil)
            if vacation.is_on and vacation.row is not None
            else None
        )
        context["password_changed"] = mailbox_password_changed(mailbox)
        return context


class MailboxForwardingView(MailboxDetailView):
    """Set where a mailbox's mail goes: forward with or without a copy kept."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(detail_url(self.get_object()))

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        form = ForwardingForm(request.POST)
        if form.is_valid():
            try:
                mailbox_set_forwarding(
                    actor=request.user,
                    mailbox=self.object,
                    targets=form.cleaned_data["targets"],
                    keep_copy=form.cleaned_data["keep_copy"],
                )
            except ValidationError as exc:
                apply_service_error(form, exc, default_field="targets")
            else:
                messages.success(request, _("Forwarding saved."))
                return HttpResponseRedirect(detail_url(self.object))
        return self.render_to_response(self.get_context_data(forwarding_form=form))


class MailboxSendSettingsView(MailboxDetailView):
    """Send a mailbox's client settings to it, its alternative address or typed addresses."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseRedirect(detail_url(self.get_object()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        form = SettingsEmailForm(request.POST, mailbox=self.object)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(settings_form=form))
        recipients = form.cleaned_data["recipients"]
        # A failed send is reported as a warning by send_settings_email itself.
        if send_settings_email(self.object, recipients):
            messages.success(
                request,
                _("The settings were sent to %(recipients)s.")
                % {"recipients": ", ".join(address_to_unicode(r) for r in recipients)},
            )
        return HttpResponseRedirect(detail_url(self.object))


class MailboxUpdateView(MailboxFormMixin, FormView):
    """Change a mailbox's name, quota, alternative address and SMTP switch."""

    request: AuthedRequest

    form_class = MailboxForm
    template_name = "mailboxes/mailbox_edit.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        self.smtp_active = mailbox_smtp_active(self.object)
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["smtp_active"] = self.smtp_active
        kwargs["unlimited_allowed"] = unlimited_quota_allowed(self.object.domain)
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        mailbox = self.object
        return {
            "name": mailbox.name,
            "quota": quota_text(mailbox.quota),
            "email_other": mailbox.email_other,
            "smtp_active": self.smtp_active,
        }

    def form_valid(self, form: MailboxForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            mailbox_update(
                actor=self.request.user,
                mailbox=self.object,
                name=data["name"],
                quota_bytes=data["quota"],
                email_other=data["email_other"],
                smtp_active=data["smtp_active"] if "smtp_active" in form.fields else None,
                override_limits=data.get("override_limits", False),
            )
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="quota")
            return self.form_invalid(form)
        messages.success(self.request, _("Mailbox saved."))
        warn_about_reset(self.request, self.object)
        return HttpResponseRedirect(detail_url(self.object))


class MailboxPasswordView(MailboxFormMixin, FormView):
    """Set a mailbox's password (policy checked, a generated one suggested)."""

    request: AuthedRequest

    form_class = MailboxPasswordForm
    template_name = "mailboxes/mailbox_password.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["mailbox"] = self.object
        return kwargs

    def form_valid(self, form: MailboxPasswordForm) -> HttpResponse:
        try:
            mailbox_set_password(
                actor=self.request.user, mailbox=self.object, password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            apply_service_error(form, exc, default_field="password")
            return self.form_invalid(form)
        messages.success(self.request, _("Password changed."))
        return HttpResponseRedirect(detail_url(self.object))


class MailboxToggleView(ToggleActiveView):
    """Activate or deactivate a mailbox (its own alias row follows)."""

    model = Mailbox
    lookup_field = "username"

    def perform(self, obj: Mailbox, active: bool) -> None:
        mailbox_set_active(actor=self.request.user, mailbox=obj, active=active)

    def after(self, obj: Mailbox, active: bool) -> None:
        if not active:
            count = aliases_delivering_query(self.request.user, obj).count()
            if count:
                messages.warning(
                    self.request,
                    ngettext(
                        "%(count)d alias still delivers to %(address)s: its mail for it "
                        "bounces while the mailbox is inactive.",
                        "%(count)d aliases still deliver to %(address)s: their mail for it "
                        "bounces while the mailbox is inactive.",
                        count,
                    )
                    % {"count": count, "address": address_to_unicode(obj.username)},
                )

    def fallback_url(self, obj: Mailbox) -> str:
        return reverse("mailboxes:mailbox-list")


class MailboxPurgeView(MailboxObjectMixin, DetailView):
    """Ask for confirmation (GET), then delete the mailbox with Postfix Admin's cascade (POST)."""

    request: AuthedRequest

    template_name = "mailboxes/mailbox_confirm_delete.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The aliases that keep the address after the purge (mail to them then bounces).
        context["delivering"] = aliases_delivering_to(self.object, user=self.request.user)
        return context

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        mailbox = self.get_object()
        changed = mailbox_purge(
            actor=request.user,
            mailbox=mailbox,
            remove_from_aliases=bool(request.POST.get("remove_from_aliases")),
        )
        messages.success(
            request,
            _("Mailbox %(address)s purged.") % {"address": address_to_unicode(mailbox.username)},
        )
        if changed:
            messages.info(
                request,
                ngettext(
                    "Its address was removed from %(count)d alias.",
                    "Its address was removed from %(count)d aliases.",
                    changed,
                )
                % {"count": changed},
            )
        return HttpResponseRedirect(reverse("mailboxes:mailbox-list"))
