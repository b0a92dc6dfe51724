"""The mailbox list as a django-tables2 table (sorted and paginated in SQL)."""

from __future__ import annotations

import datetime
from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.listing.tables import (
    SelectColumn,
    action_buttons,
    display_address,
    display_domain,
    escape,
    per_table,
    row_url,
    select_box,
    toggle_form,
)
from mail.names import visible_controls
from mail.quota import format_bytes
from mailboxes.models import Mailbox
from mailboxes.vacation import LATEST_UNTIL, Window, vacation_windows


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


def _day(value: datetime.datetime, now: datetime.datetime) -> str:
    local = timezone.localtime(value)
    same_year = local.year == timezone.localtime(now).year
    return date_format(local, "MONTH_DAY_FORMAT" if same_year else "SHORT_DATE_FORMAT")


def vacation_badge(window: Window | None, now: datetime.datetime | None = None) -> SafeString:
    """Render a vacation's state as a small badge: away until, away from, or nothing.

    Nothing when it is off or its window has ended (no replies go out then either).
    """
    if window is None:
        return mark_safe("")
    now = now or timezone.now()
    start, end = window
    if end is not None and end <= now:
        return mark_safe("")
    if start is not None and start > now:
        text, style = gettext("Away from %(date)s") % {"date": _day(start, now)}, "secondary"
    elif end is None or end >= LATEST_UNTIL - datetime.timedelta(days=366):
        # Postfix Admin's default end (2038) means "until switched off".
        text, style = gettext("Auto-reply on"), "info"
    else:
        text, style = gettext("Away until %(date)s") % {"date": _day(end, now)}, "info"
    title = escape(gettext("Automatic reply"))
    return mark_safe(  # noqa: S308 - escaped
        f'<span class="badge text-bg-{style} vacation-badge" title="{title}">{escape(text)}</span>'
    )


# The buttons of each mailbox row.
MAILBOX_ACTIONS = (
    ("mailboxes:mailbox-edit", _("Edit"), "primary"),
    ("mailboxes:mailbox-password", _("Password"), "primary"),
    ("mailboxes:mailbox-purge", _("Purge"), "danger"),
)


class MailboxTable(tables.Table):
    """Mailboxes with usage bar, one-click activation and row actions."""

    select = SelectColumn()
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
        sequence = ("select", "username", "name", "domain", "quota", "active", "created", "actions")
        order_by = "username"
        attrs = {"class": "table table-striped table-hover align-middle"}
        empty_text = _("No mailboxes match.")

    def render_select(self, record: Mailbox) -> SafeString:
        return select_box(self, record.username, display_address(record.username))

    def vacation_windows(self) -> dict[str, Window]:
        """Return the page's vacations, read once per table in one query of its addresses."""
        return per_table(
            self,
            "vacation",
            lambda: vacation_windows([row.record.username for row in self.paginated_rows]),
        )

    def render_username(self, value: str) -> SafeString:
        url = row_url(self, "mailboxes:mailbox-detail", value)
        link = f'<a href="{escape(url)}">{escape(display_address(value))}</a>'
        badge = vacation_badge(self.vacation_windows().get(value))
        return mark_safe(f"{link} {badge}" if badge else link)  # noqa: S308 - escaped

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
