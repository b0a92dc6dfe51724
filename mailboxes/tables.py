"""The mailbox list as a django-tables2 table (sorted and paginated in SQL)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.listing.tables import (
    action_buttons,
    display_address,
    display_domain,
    escape,
    row_url,
    toggle_form,
)
from mail.names import visible_controls
from mail.quota import format_bytes
from mailboxes.models import Mailbox


def quota_cell(quota: int, used: int | None) -> SafeString:
    """Render a quota with its usage as an accessible <meter> (text for unlimited)."""
    if quota <= 0:
        if used is None:
            return mark_safe(escape(gettext("unlimited")))  # noqa: S308 - escaped
        shown = format_bytes(used) if used else "0"
        return mark_safe(f"{escape(shown)} / {escape(gettext('unlimited'))}")  # noqa: S308
    if used is None:
        return mark_safe(escape(format_bytes(quota)))  # noqa: S308 - escaped
    percent = min(round(used * 100 / quota), 999)
    label = escape(
        gettext("%(used)s of %(quota)s used (%(percent)d%%)")
        % {
            "used": format_bytes(used) if used else "0",
            "quota": format_bytes(quota),
            "percent": percent,
        }
    )
    return mark_safe(  # noqa: S308 - the label is escaped, the rest are integers
        f'<meter class="quota-meter" min="0" max="{quota}" low="{quota * 8 // 10}" '
        f'high="{quota * 95 // 100}" value="{min(used, quota)}" '
        f'aria-label="{label}" title="{label}">{percent}%</meter> '
        f'<span class="small">{label}</span>'
    )


# The buttons of each mailbox row.
MAILBOX_ACTIONS = (
    ("mailboxes:mailbox-edit", _("Edit"), "primary"),
    ("mailboxes:mailbox-password", _("Password"), "primary"),
    ("mailboxes:mailbox-purge", _("Purge"), "danger"),
)


class MailboxTable(tables.Table):
    """Mailboxes with usage bar, one-click activation and row actions."""

    username = tables.Column(verbose_name=_("Address"))
    name = tables.Column(verbose_name=_("Name"))
    domain = tables.Column(verbose_name=_("Domain"), accessor="domain_id", order_by="domain_id")
    quota = tables.Column(verbose_name=_("Quota and usage"), empty_values=())
    active = tables.Column(verbose_name=_("Active"), empty_values=())
    created = tables.DateTimeColumn(verbose_name=_("Created"), format="Y-m-d H:i")
    actions = tables.Column(verbose_name=_("Actions"), orderable=False, empty_values=())

    class Meta:
        model = Mailbox
        fields = ("username", "name", "domain", "quota", "active", "created")
        sequence = ("username", "name", "domain", "quota", "active", "created", "actions")
        order_by = "username"
        attrs = {"class": "table table-striped table-hover align-middle"}
        empty_text = _("No mailboxes match.")

    def render_username(self, value: str) -> SafeString:
        url = row_url(self, "mailboxes:mailbox-detail", value)
        return mark_safe(f'<a href="{escape(url)}">{escape(display_address(value))}</a>')  # noqa: S308

    def render_name(self, value: str) -> str:
        return visible_controls(value)

    def render_domain(self, value: str) -> str:
        return display_domain(value)

    def render_quota(self, value: int, record: Any) -> SafeString:
        return quota_cell(value, getattr(record, "used_bytes", None))

    def render_active(self, record: Mailbox) -> SafeString:
        url = row_url(self, "mailboxes:mailbox-toggle", record.username)
        return toggle_form(self, url, record.active, display_address(record.username))

    def render_actions(self, record: Mailbox) -> SafeString:
        name = display_address(record.username)
        return action_buttons(self, record.username, MAILBOX_ACTIONS, name)
