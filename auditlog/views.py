"""The audit log page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.views.generic import ListView

from accounts.models import AuthEvent
from accounts.scoping import is_superadmin, scoped
from accounts.selectors import throttled_addresses
from auditlog.forms import DOMAIN_SUGGESTIONS_ID, AccessFilterForm, LogFilterForm
from auditlog.selectors import access_list, log_list
from auditlog.tables import AuthEventTable, LogTable
from core import sticky
from core.http import AuthedRequest
from core.listing.pagination import DeferredLazyPaginator, ListPaginationMixin
from core.views import AdminRequiredMixin, SuperAdminRequiredMixin
from domains.models import Domain
from pfa.models import Log


class LogListView(AdminRequiredMixin, ListPaginationMixin, ListView):
    """List the log rows of the user's domains, newest first, with filters."""

    request: AuthedRequest

    table_class = LogTable
    template_name = "auditlog/log_list.html"
    # A lazy paginator never counts the whole (possibly huge) log table.
    paginator_class = DeferredLazyPaginator

    def get_queryset(self) -> QuerySet[Log]:
        request, user = self.request, self.request.user
        typed = "domain" in request.GET
        data = request.GET.copy()
        data["domain"] = data.get("domain", "") if typed else sticky.sticky_domain(request)
        self.filter_form = LogFilterForm(data, user=user)
        valid = self.filter_form.is_valid()
        name = self.filter_form.cleaned_data.get("domain", "")
        # Only a domain of the user's stays selected for the other lists; any other name (a
        # purged domain's, or one out of reach) filters this page once.
        selectable = bool(name) and scoped(user, Domain).filter(domain=name).exists()
        if typed:
            sticky.select(request, name if selectable else "")
        elif name and not selectable:
            # A remembered selection that is gone or out of reach is forgotten.
            sticky.select(request, "")
            data["domain"] = ""
            self.filter_form = LogFilterForm(data, user=user)
            valid = self.filter_form.is_valid()
        self.sticky_domain = request.session.get(sticky.SESSION_KEY, "")
        if not valid:
            return Log.objects.none()
        return log_list(user, self.filter_form.cleaned_data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            filter_form=self.filter_form,
            sticky_domain=self.sticky_domain,
            domain_suggestions_id=DOMAIN_SUGGESTIONS_ID,
            log_tab="changes",
            show_log_tabs=is_superadmin(self.request.user),
            **kwargs,
        )


class AccessListView(SuperAdminRequiredMixin, ListPaginationMixin, ListView):
    """List logins, failures, lockouts and resets (super admins only), and throttled addresses."""

    request: AuthedRequest

    table_class = AuthEventTable
    template_name = "auditlog/access_list.html"
    paginator_class = DeferredLazyPaginator

    def get_queryset(self) -> QuerySet[AuthEvent]:
        self.filter_form = AccessFilterForm(self.request.GET)
        if not self.filter_form.is_valid():
            return AuthEvent.objects.none()
        return access_list(self.request.user, self.filter_form.cleaned_data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            filter_form=self.filter_form,
            throttled=throttled_addresses(self.request.user),
            log_tab="access",
            show_log_tabs=True,
            **kwargs,
        )
