"""Pages for domains and alias domains: thin views over forms, selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from accounts.scoping import is_superadmin, scoped
from core import sticky
from core.http import AuthedRequest
from core.listing.pagination import DeferredPaginator, ListPaginationMixin
from core.views import (
    AdminRequiredMixin,
    ScopedMixin,
    ScopedObjectMixin,
    SuperAdminRequiredMixin,
    ToggleActiveView,
    apply_validation_error,
    safe_next,
)
from domains import counters, selectors, services
from domains.forms import (
    AliasDomainFilterForm,
    AliasDomainForm,
    DomainCreateForm,
    DomainEditForm,
    DomainFilterForm,
    DomainPurgeForm,
)
from domains.models import AliasDomain, Domain
from domains.tables import (
    AliasDomainTable,
    DomainTable,
    limit_text,
    mb_limit_text,
    usage_text,
)
from mail.names import address_to_unicode, special_use, to_unicode
from mail.quota import format_bytes


class DomainListView(AdminRequiredMixin, ListPaginationMixin, ListView):
    """List the visible domains with counts, quota and usage, searched and sorted in SQL."""

    request: AuthedRequest

    paginator_class = DeferredPaginator

    table_class = DomainTable
    template_name = "domains/domain_list.html"

    def get_table_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_table_kwargs()
        if not is_superadmin(self.request.user):
            # Only super admins set transport and backup MX, and switch or purge domains in bulk
            # (the boxes), so domain admins are not shown them.
            kwargs["exclude"] = ("select", "transport", "backupmx")
        return kwargs

    def get_queryset(self) -> QuerySet[Domain]:
        self.filter_form = DomainFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        # Store the figures and sort keys of domains other tools have added; with every key
        # there, the page is read from the keys' index.
        keyed = counters.ensure_missing(scoped(self.request.user, Domain))
        return selectors.domain_list(self.request.user, filters, keyed=keyed)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        # The usage shown is what domain_counters last read from Dovecot's quota2: say since when.
        stamps = [
            row.record.usage_counted
            for row in context["table"].paginated_rows
            if getattr(row.record, "usage_counted", None) is not None
        ]
        context["usage_as_of"] = min(stamps) if stamps else None
        # The list itself is never narrowed by the selected domain, but ?domain= clears it here.
        context["sticky_domain"] = sticky.sticky_domain(self.request)
        return context


class DomainSuggestView(AdminRequiredMixin, View):
    """Suggest the user's domains while one is typed (a create form's domain field, typed
    past accounts.scoping.LITERAL_DOMAINS_LIMIT): the user's domains only.

    `?q=bü` answers {"domains": ["bücher.example", ...]} in Unicode.
    """

    request: AuthedRequest

    http_method_names = ["get"]

    def get(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        found = selectors.domain_suggestions(request.user, request.GET.get("q", "")[:255])
        return JsonResponse({"domains": [to_unicode(name) for name in found]})


class DomainCreateView(SuperAdminRequiredMixin, FormView):
    """Create a domain with its limits and, by default, its RFC 2142 aliases."""

    request: AuthedRequest

    form_class = DomainCreateForm
    template_name = "domains/domain_form.html"

    def form_valid(self, form: DomainCreateForm) -> HttpResponse:
        try:
            domain = services.domain_create(actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        name = to_unicode(domain.domain)
        messages.success(self.request, _("Domain %(name)s created.") % {"name": name})
        made = [a for a in domain.rfc2142_aliases if not a.refused]
        if made:
            listed = ", ".join(
                f"{address_to_unicode(a.address)} → {address_to_unicode(a.goto)}" for a in made
            )
            messages.success(self.request, _("Aliases created: %(aliases)s.") % {"aliases": listed})
        for alias in domain.rfc2142_aliases:
            if alias.refused:
                messages.warning(
                    self.request,
                    _("The alias %(address)s → %(target)s was not created: %(reason)s")
                    % {
                        "address": address_to_unicode(alias.address),
                        "target": address_to_unicode(alias.goto),
                        "reason": alias.refused,
                    },
                )
        reserved = special_use(domain.domain)
        if reserved:
            messages.warning(
                self.request,
                _(
                    "%(name)s is under the special-use name .%(reserved)s: mail from the "
                    "Internet never reaches it, only mail from your own network."
                )
                % {"name": name, "reserved": reserved},
            )
        return HttpResponseRedirect(reverse("domains:domain-detail", args=[domain.domain]))


class DomainWorkView(ScopedObjectMixin, View):
    """Select the domain for the lists that follow ("Work in this domain"), or stop (clear=1).

    Only this explicit choice (and a list's own domain filter) selects a domain: opening a
    domain's page does not.
    """

    request: AuthedRequest

    model = Domain
    lookup_field = "domain"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        domain = self.get_object()
        if request.POST.get("clear"):
            if request.session.get(sticky.SESSION_KEY) == domain.domain:
                sticky.select(request, "")
            return HttpResponseRedirect(reverse("domains:domain-detail", args=[domain.domain]))
        sticky.select(request, domain.domain)
        messages.info(
            request,
            _("Working in %(name)s: the mailbox, alias and log lists show only this domain.")
            % {"name": to_unicode(domain.domain)},
        )
        return HttpResponseRedirect(reverse("mailboxes:mailbox-list"))


class DomainDetailView(ScopedObjectMixin, TemplateView):
    """Show a domain's limits and usage, its alias domains and its recent log rows."""

    request: AuthedRequest

    model = Domain
    lookup_field = "domain"
    template_name = "domains/domain_detail.html"

    def get_queryset(self) -> QuerySet[Domain]:
        return selectors.domains_with_figures(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        domain = self.get_object()
        target_of = scoped(user, AliasDomain).filter(alias_domain_id=domain.domain).first()
        kwargs["domain"] = domain
        domain_settings = services.domain_settings(domain)
        return super().get_context_data(
            domain_settings=domain_settings,
            alias_domains=list(selectors.alias_domains_of(user, domain)),
            target_of=target_of,
            log_rows=selectors.domain_log(user, domain),
            selected=self.request.session.get(sticky.SESSION_KEY) == domain.domain,
            is_super=is_superadmin(user),
            mailbox_limit=limit_text(domain.mailboxes),
            alias_count=selectors.alias_count_of(domain),
            alias_limit=limit_text(domain.aliases),
            maxquota=mb_limit_text(domain.maxquota),
            quota_allocated=format_bytes(max(domain.quota_allocated or 0, 0)),
            quota_limit=mb_limit_text(domain.quota),
            default_quota=mb_limit_text(domain_settings.default_mailbox_quota),
            usage=usage_text(domain.usage_bytes),
            **kwargs,
        )


class DomainObjectMixin(SuperAdminRequiredMixin, ScopedObjectMixin):
    """The domain of the URL, for a super admin (404 when missing, and for anybody else)."""

    model = Domain
    lookup_field = "domain"

    @property
    def domain(self) -> Domain:
        return self.get_object()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["domain"] = self.domain
        return super().get_context_data(**kwargs)


class DomainEditView(DomainObjectMixin, FormView):
    """Change a domain's description, limits, transport and flags."""

    request: AuthedRequest

    form_class = DomainEditForm
    template_name = "domains/domain_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["current_transport"] = self.domain.transport or ""
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        d = self.domain
        return {
            "description": d.description,
            "mailboxes": d.mailboxes,
            "aliases": d.aliases,
            "maxquota": d.maxquota,
            "quota": d.quota,
            "default_mailbox_quota": services.domain_settings(d).default_mailbox_quota,
            "transport": d.transport,
            "backupmx": d.backupmx,
            "active": d.active,
            "language": services.domain_settings(d).language,
            "password_expiry": d.password_expiry or 0,
        }

    def form_valid(self, form: DomainEditForm) -> HttpResponse:
        try:
            services.domain_update(actor=self.request.user, domain=self.domain, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Domain %(name)s saved.") % {"name": to_unicode(self.domain.domain)}
        )
        return HttpResponseRedirect(reverse("domains:domain-detail", args=[self.domain.domain]))


class DomainToggleView(SuperAdminRequiredMixin, ToggleActiveView):
    """Activate a domain with one click; deactivate it only after a page said what that stops.

    GET shows the question (with the domain's mailbox and alias counts); a POST that
    deactivates without `confirmed=1` is sent there instead of acting.
    """

    request: AuthedRequest

    http_method_names = ["get", "post"]
    model = Domain
    lookup_field = "domain"
    template_name = "domains/domain_confirm_deactivate.html"

    def get(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        domain = self.get_object()
        back = safe_next(request, reverse("domains:domain-detail", args=[domain.domain]))
        if not domain.active:
            return HttpResponseRedirect(back)
        # With the live counts as annotations (mailbox_count, alias_rows).
        stats: Any = selectors.domains_with_figures(request.user).get(pk=domain.pk)
        context = {
            "domain": domain,
            "mailbox_count": stats.mailbox_count,
            "alias_count": max(stats.alias_rows - stats.mailbox_count, 0),
            "alias_domains": list(selectors.alias_domains_of(request.user, domain)),
            "next": back,
        }
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        deactivate = request.POST.get("active", "") not in ("1", "true", "on")
        if deactivate and request.POST.get("confirmed") != "1":
            domain = self.get_object()
            url = reverse("domains:domain-toggle", args=[domain.domain])
            back = safe_next(request, self.fallback_url(domain))
            return HttpResponseRedirect(f"{url}?{urlencode({'next': back})}")
        return super().post(request, *args, **kwargs)

    def perform(self, obj: Domain, active: bool) -> None:
        services.domain_set_active(actor=self.request.user, domain=obj, active=active)

    def fallback_url(self, obj: Domain) -> str:
        return reverse("domains:domain-list")


class DomainPurgeView(DomainObjectMixin, FormView):
    """Delete a domain and everything in it, after the admin has typed its name."""

    request: AuthedRequest

    form_class = DomainPurgeForm
    template_name = "domains/domain_confirm_delete.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["domain"] = self.domain
        return kwargs

    def get_queryset(self) -> QuerySet[Domain]:
        # The counts of what the purge deletes are shown on the confirmation page.
        return selectors.domains_with_figures(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        return super().get_context_data(
            stats=self.domain,
            alias_domains=list(selectors.alias_domains_of(user, self.domain)),
            **kwargs,
        )

    def form_valid(self, form: DomainPurgeForm) -> HttpResponse:
        try:
            services.domain_purge(actor=self.request.user, domain=self.domain)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        if self.request.session.get(sticky.SESSION_KEY) == self.domain.domain:
            self.request.session.pop(sticky.SESSION_KEY)
        messages.success(
            self.request,
            _("Domain %(name)s and everything in it deleted.")
            % {"name": to_unicode(self.domain.domain)},
        )
        return HttpResponseRedirect(reverse("domains:domain-list"))


class AliasDomainListView(ScopedMixin, ListPaginationMixin, ListView):
    """List the visible alias domains, searched and sorted in SQL."""

    request: AuthedRequest

    model = AliasDomain
    table_class = AliasDomainTable
    template_name = "domains/aliasdomain_list.html"

    def get_queryset(self) -> QuerySet[AliasDomain]:
        self.filter_form = AliasDomainFilterForm(self.request.GET or None)
        filters = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return selectors.alias_domain_list(self.request.user, filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(filter_form=self.filter_form, **kwargs)


class AliasDomainCreateView(AdminRequiredMixin, FormView):
    """Make one managed domain an alias of another."""

    request: AuthedRequest

    form_class = AliasDomainForm
    template_name = "domains/aliasdomain_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form: AliasDomainForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            if data["alias_domain"] is None:
                obj = services.alias_domain_create_with_domain(
                    actor=self.request.user,
                    domain=data["new_domain"],
                    target_domain=data["target_domain"],
                    active=data["active"],
                )
            else:
                obj = services.alias_domain_create(
                    actor=self.request.user,
                    alias_domain=data["alias_domain"],
                    target_domain=data["target_domain"],
                    active=data["active"],
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
            return self.form_invalid(form)
        except PermissionDenied:
            raise Http404 from None
        messages.success(
            self.request,
            _("Mail to %(alias)s now goes to %(target)s.")
            % {
                "alias": to_unicode(obj.alias_domain_id),
                "target": to_unicode(obj.target_domain_id),
            },
        )
        return HttpResponseRedirect(reverse("domains:aliasdomain-list"))


class AliasDomainToggleView(ToggleActiveView):
    """Activate or deactivate an alias domain with one click."""

    model = AliasDomain
    lookup_field = "alias_domain"

    def perform(self, obj: AliasDomain, active: bool) -> None:
        services.alias_domain_set_active(actor=self.request.user, alias_domain=obj, active=active)

    def fallback_url(self, obj: AliasDomain) -> str:
        return reverse("domains:aliasdomain-list")


class AliasDomainDeleteView(ScopedObjectMixin, TemplateView):
    """Ask, then remove an alias domain (the domain itself stays)."""

    request: AuthedRequest

    model = AliasDomain
    lookup_field = "alias_domain"
    template_name = "domains/aliasdomain_confirm_delete.html"

    def post(self, request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            services.alias_domain_delete(actor=request.user, alias_domain=obj)
        except PermissionDenied:
            raise Http404 from None
        messages.success(
            request,
            _("Alias domain %(name)s removed.") % {"name": to_unicode(obj.alias_domain_id)},
        )
        return HttpResponseRedirect(safe_next(request, reverse("domains:aliasdomain-list")))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kwargs["object"] = self.get_object()
        return super().get_context_data(**kwargs)
