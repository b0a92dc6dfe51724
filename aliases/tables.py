"""The alias list as a django-tables2 table (sorted and paginated in SQL)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from aliases.models import Alias
from core.listing.tables import (
    SelectColumn,
    action_buttons,
    active_badge,
    display_address,
    display_domain,
    escape,
    per_table,
    row_url,
    select_box,
    toggle_form,
)

# Destinations shown per row; the alias page shows them all.
SHOWN_DESTINATIONS = 3


def alias_label(address: str) -> str:
    """Return an alias address for display; the catch-all reads "@domain (catch-all)"."""
    if address.startswith("@"):
        return gettext("@%(domain)s (catch-all)") % {"domain": display_domain(address[1:])}
    return display_address(address)


def target_label(target: str) -> str:
    """Return a destination for display, with IDN domains in Unicode."""
    if target.startswith("@"):
        return "@" + display_domain(target[1:])
    return display_address(target)


# The buttons of each alias row (a mailbox's own row links to its forwarding instead).
ALIAS_ACTIONS = (
    ("aliases:alias-edit", _("Edit"), "primary"),
    ("aliases:alias-delete", _("Delete"), "danger"),
)


class AliasTable(tables.Table):
    """Aliases with their destinations, one-click activation and row actions."""

    select = SelectColumn()
    address = tables.Column(verbose_name=_("Address"))
    goto = tables.Column(verbose_name=_("Destinations"), orderable=False)
    domain = tables.Column(verbose_name=_("Domain"), accessor="domain_id", order_by="domain_id")
    active = tables.Column(verbose_name=_("Active"), empty_values=())
    actions = tables.Column(verbose_name=_("Actions"), orderable=False, empty_values=())

    class Meta:
        model = Alias
        fields = ("address", "goto", "domain", "active")
        sequence = ("select", "address", "goto", "domain", "active", "actions")
        order_by = "address"
        attrs = {"class": "table table-striped table-hover align-middle"}
        empty_text = _("No aliases match.")

    def render_select(self, record: Alias) -> SafeString:
        if getattr(record, "is_mailbox", False):
            return mark_safe("")  # a mailbox's own row is changed as the mailbox
        return select_box(self, record.address, alias_label(record.address))

    def render_address(self, value: str, record: Any) -> SafeString:
        if getattr(record, "is_mailbox", False):
            url = row_url(self, "mailboxes:mailbox-detail", value)
        else:
            url = row_url(self, "aliases:alias-edit", value)
        return mark_safe(f'<a href="{escape(url)}">{escape(alias_label(value))}</a>')  # noqa: S308

    def render_goto(self, record: Alias) -> SafeString:
        targets = record.targets
        shown = ", ".join(escape(target_label(t)) for t in targets[:SHOWN_DESTINATIONS])
        hidden = len(targets) - SHOWN_DESTINATIONS
        if hidden > 0:
            more = escape(
                ngettext("and %(count)d more", "and %(count)d more", hidden) % {"count": hidden}
            )
            return mark_safe(f'{shown} <span class="text-body-secondary">{more}</span>')  # noqa: S308
        return mark_safe(shown)  # noqa: S308 - every target is escaped

    def render_domain(self, value: str) -> str:
        return display_domain(value)

    def render_active(self, record: Alias) -> SafeString:
        if getattr(record, "is_mailbox", False):
            # A mailbox's own alias row follows the mailbox: no toggle here.
            active = bool(record.active)
            return per_table(
                self,
                f"badge:{active}",
                lambda: active_badge(active, gettext("Follows its mailbox")),
            )
        url = row_url(self, "aliases:alias-toggle", record.address)
        return toggle_form(self, url, record.active, alias_label(record.address))

    def render_actions(self, record: Alias) -> SafeString:
        address = record.address
        if getattr(record, "is_mailbox", False):
            label = per_table(self, "forwarding", lambda: escape(gettext("Mailbox forwarding")))
            url = escape(row_url(self, "mailboxes:mailbox-detail", address))
            return mark_safe(  # noqa: S308 - escaped
                f'<a class="btn btn-sm btn-outline-primary" href="{url}#forwarding">{label}</a>'
            )
        return action_buttons(self, address, ALIAS_ACTIONS, alias_label(address))
