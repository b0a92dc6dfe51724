"""The audit log as a django-tables2 table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from auditlog.forms import action_label
from core.listing.tables import display_domain
from mail.names import text_to_unicode


class LogTable(tables.Table):
    """List log rows, newest first; only the time is sortable, as only it is indexed."""

    timestamp = tables.DateTimeColumn(
        verbose_name=_("Time"), format="Y-m-d H:i:s", order_by=("timestamp", "id")
    )
    username = tables.Column(verbose_name=_("Admin"), orderable=False)
    domain = tables.Column(verbose_name=_("Domain"), orderable=False)
    action = tables.Column(verbose_name=_("Action"), orderable=False)
    data = tables.Column(verbose_name=_("Data"), orderable=False)

    class Meta:
        attrs = {"class": "table table-striped table-sm align-middle"}
        empty_text = _("No log rows match.")

    def render_domain(self, value: str) -> str:
        return display_domain(value)

    def render_action(self, value: str) -> str:
        return action_label(value)

    def render_data(self, value: str) -> str:
        return text_to_unicode(value)
