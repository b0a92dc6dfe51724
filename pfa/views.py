"""The audit log page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.views.generic import ListView

from pfa.forms import LogFilterForm
from pfa.models import Log
from pfa.selectors import log_list
from pfa.tables import LogTable
from vimbadmin import sticky
from vimbadmin.pagination import DeferredLazyPaginator, ListPaginationMixin
from vimbadmin.views import AdminRequiredMixin


class LogListView(AdminRequiredMixin, ListPaginationMixin, ListView):
    """List the log rows of the user's domains, newest first, with filters."""

    table_class = LogTable
    template_name = "pfa/log_list.html"
    # A lazy paginator never counts the whole (possibly huge) log table.
    paginator_class = DeferredLazyPaginator

    def get_queryset(self) -> QuerySet[Log]:
        data = self.request.GET.copy()
        remembered = "domain" not in data
        data["domain"] = sticky.sticky_domain(self.request)
        self.filter_form = LogFilterForm(data, user=self.request.user)
        if (
            data["domain"]
            and not self.filter_form.is_valid()
            and "domain" in self.filter_form.errors
        ):
            # A selection that is gone or out of reach is forgotten; one typed now is reported.
            self.request.session.pop(sticky.SESSION_KEY, None)
            if remembered:
                data["domain"] = ""
                self.filter_form = LogFilterForm(data, user=self.request.user)
        self.sticky_domain = self.request.session.get(sticky.SESSION_KEY, "")
        if not self.filter_form.is_valid():
            return Log.objects.none()
        return log_list(self.request.user, self.filter_form.cleaned_data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            filter_form=self.filter_form, sticky_domain=self.sticky_domain, **kwargs
        )
