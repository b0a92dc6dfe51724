"""The audit log as a django-tables2 table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import AuthEvent
from auditlog.forms import action_label
from core.listing.tables import display_domain
from mail.names import text_to_unicode
from pfa.audit import CHANGE_ARROW, CHANGE_SEPARATOR


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
        # An edit row lists its changes "field old -> new", one a line, with an arrow.
        lines = value.replace(CHANGE_ARROW, " \u2192 ").split(CHANGE_SEPARATOR)
        if len(lines) == 1:
            return text_to_unicode(lines[0])
        return format_html_join(
            "", '<span class="d-block">{}</span>', ((text_to_unicode(line),) for line in lines)
        )


class AuthEventTable(tables.Table):
    """List logins, failures, lockouts and resets, newest first.

    A row collects the events of one kind, account and client address within an hour.
    """

    timestamp = tables.DateTimeColumn(
        verbose_name=_("First"), format="Y-m-d H:i:s", order_by=("timestamp", "id")
    )
    last_seen = tables.DateTimeColumn(verbose_name=_("Last"), format="Y-m-d H:i:s", orderable=False)
    count = tables.Column(verbose_name=_("Times"), orderable=False)
    kind = tables.Column(verbose_name=_("Event"), orderable=False)
    realm = tables.Column(verbose_name=_("Realm"), orderable=False)
    # An address held back as a whole is recorded without the login that was typed.
    username = tables.Column(verbose_name=_("Login"), orderable=False, default="\u2014")
    client_address = tables.Column(verbose_name=_("Client address"), orderable=False)

    class Meta:
        model = AuthEvent
        fields = ("timestamp", "last_seen", "count", "kind", "realm", "username", "client_address")
        attrs = {"class": "table table-striped table-sm align-middle"}
        empty_text = _("No access events match.")
