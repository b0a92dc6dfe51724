"""The domain and alias domain lists as django-tables2 tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import is_superadmin
from core.listing.tables import (
    SelectColumn,
    active_badge,
    display_domain,
    escape,
    per_table,
    row_url,
    select_box,
    state_and_link,
    toggle_form,
)
from mail.names import visible_controls
from mail.quota import format_bytes, format_mb

_TABLE_ATTRS = {"class": "table table-striped table-hover align-middle"}


def limit_text(limit: int) -> str:
    """Show a Postfix Admin limit: 0 is unlimited, -1 is disabled."""
    if limit == 0:
        return "∞"
    if limit < 0:
        return _("disabled")
    return str(limit)


def mb_limit_text(limit: int) -> str:
    """Show a domain's MB limit in the quota units; 0 is unlimited, -1 disabled."""
    return format_mb(limit) if limit > 0 else limit_text(limit)


def usage_text(value: int | None) -> str:
    """Show used bytes; nothing used reads as 0 B, never as "unlimited"."""
    return format_bytes(value) if value and value > 0 else format_bytes(0)


def _domain_link(table: tables.Table, name: str) -> SafeString:
    url = row_url(table, "domains:domain-detail", name)
    return mark_safe(f'<a href="{escape(url)}">{escape(display_domain(name))}</a>')  # noqa: S308


class DomainTable(tables.Table):
    """List domains with their counts against limits, quota and usage."""

    # Bulk actions on domains are a super admin's (the list view leaves it out for others).
    select = SelectColumn()
    # By the Unicode name people read (domain_list's sort_name), not the stored xn-- form.
    domain = tables.Column(verbose_name=gettext_lazy("Domain"), order_by="sort_name")
    description = tables.Column(verbose_name=gettext_lazy("Description"))
    mailbox_count = tables.Column(verbose_name=gettext_lazy("Mailboxes"), empty_values=())
    # Alias rows minus the mailboxes' own rows, subtracted here rather than in SQL (see below).
    alias_count = tables.Column(
        verbose_name=gettext_lazy("Aliases"), accessor="alias_rows", empty_values=()
    )
    quota_allocated = tables.Column(verbose_name=gettext_lazy("Quota allocated"), empty_values=())
    usage_bytes = tables.Column(verbose_name=gettext_lazy("Usage"), empty_values=())
    transport = tables.Column(verbose_name=gettext_lazy("Transport"))
    backupmx = tables.BooleanColumn(verbose_name=gettext_lazy("Backup MX"))
    active = tables.Column(verbose_name=gettext_lazy("Active"), empty_values=())
    created = tables.DateTimeColumn(verbose_name=gettext_lazy("Created"), format="Y-m-d H:i")

    class Meta:
        attrs = _TABLE_ATTRS
        order_by = "domain"
        empty_text = gettext_lazy("No domains match.")

    def render_select(self, record: Any) -> SafeString:
        return select_box(self, record.domain, display_domain(record.domain))

    def render_domain(self, value: str) -> SafeString:
        return _domain_link(self, value)

    def render_description(self, value: str) -> str:
        return visible_controls(value)

    def render_mailbox_count(self, value: int, record: Any) -> str:
        return f"{value} / {limit_text(record.mailboxes)}"

    def render_alias_count(self, value: int, record: Any) -> str:
        return f"{max(value - record.mailbox_count, 0)} / {limit_text(record.aliases)}"

    def order_alias_count(self, queryset: Any, is_descending: bool) -> tuple[Any, bool]:
        # Only sorting by it needs the difference in SQL: as a plain annotation the database
        # would compute both COUNT subqueries a second time for every row.
        count = F("alias_rows") - F("mailbox_count")
        key = count.desc() if is_descending else count.asc()
        return queryset.order_by(key, "sort_name"), True

    def render_quota_allocated(self, value: int, record: Any) -> str:
        return f"{format_bytes(value or 0)} / {mb_limit_text(record.quota)}"

    def render_usage_bytes(self, value: int) -> str:
        return usage_text(value)

    def render_backupmx(self, value: Any, record: Any, bound_column: Any) -> SafeString:
        # The column's own yes/no markup, made once for each answer.
        return per_table(
            self,
            f"backupmx:{bool(value)}",
            lambda: bound_column.column.render(value, record, bound_column),
        )

    def render_active(self, record: Any) -> SafeString:
        # Only a super admin may switch a whole domain on or off.
        if per_table(self, "superadmin", lambda: is_superadmin(self.request.user)):
            url = row_url(self, "domains:domain-toggle", record.domain)
            name = display_domain(record.domain)
            if record.active:
                # Deactivating stops a whole domain's mail: a page asks first (with counts).
                return state_and_link(self, url, True, name)
            return toggle_form(self, url, False, name)
        return active_badge(record.active)


class AliasDomainTable(tables.Table):
    """List alias domains with their target and a one-click activation."""

    alias_domain = tables.Column(
        verbose_name=gettext_lazy("Alias domain"),
        accessor="alias_domain_id",
        order_by="sort_name",
    )
    target_domain = tables.Column(
        verbose_name=gettext_lazy("Target domain"),
        accessor="target_domain_id",
        order_by=("target_sort_name", "sort_name"),
    )
    active = tables.TemplateColumn(
        template_name="domains/_aliasdomain_toggle.html", verbose_name=gettext_lazy("Active")
    )
    modified = tables.DateTimeColumn(verbose_name=gettext_lazy("Modified"), format="Y-m-d H:i")
    actions = tables.TemplateColumn(
        template_name="domains/_aliasdomain_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        attrs = _TABLE_ATTRS
        order_by = "alias_domain"
        empty_text = gettext_lazy("No alias domains match.")

    def render_alias_domain(self, value: str) -> str:
        return display_domain(value)

    def render_target_domain(self, value: str) -> SafeString:
        return _domain_link(self, value)
