"""The alias list as a django-tables2 table (sorted and paginated in SQL)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aliases.models import Alias
from domains.names import address_to_unicode, to_unicode
from vimbadmin.tables import active_badge, row_url, toggle_form

# Destinations shown per row; the alias page shows them all.
SHOWN_DESTINATIONS = 3


def alias_label(address: str) -> str:
    """Return an alias address for display; the catch-all reads "@domain (catch-all)"."""
    if address.startswith("@"):
        return gettext("@%(domain)s (catch-all)") % {"domain": to_unicode(address[1:])}
    return address_to_unicode(address)


def target_label(target: str) -> str:
    """Return a destination for display, with IDN domains in Unicode."""
    if target.startswith("@"):
        return "@" + to_unicode(target[1:])
    return address_to_unicode(target)


class AliasTable(tables.Table):
    """Aliases with their destinations, one-click activation and row actions."""

    address = tables.Column(verbose_name=_("Address"))
    goto = tables.Column(verbose_name=_("Destinations"), orderable=False)
    domain = tables.Column(verbose_name=_("Domain"), accessor="domain_id", order_by="domain_id")
    active = tables.Column(verbose_name=_("Active"), empty_values=())
    actions = tables.Column(verbose_name=_("Actions"), orderable=False, empty_values=())

    class Meta:
        model = Alias
        fields = ("address", "goto", "domain", "active")
        sequence = ("address", "goto", "domain", "active", "actions")
        order_by = "address"
        attrs = {"class": "table table-striped table-hover align-middle"}
        empty_text = _("No aliases match.")

    def render_address(self, value: str, record: Any) -> SafeString:
        if getattr(record, "is_mailbox", False):
            url = row_url(self, "mailboxes:mailbox-detail", value)
        else:
            url = row_url(self, "aliases:alias-edit", value)
        return format_html('<a href="{}">{}</a>', url, alias_label(value))

    def render_goto(self, record: Alias) -> SafeString:
        targets = record.targets
        shown = format_html_join(
            ", ", "{}", ((target_label(t),) for t in targets[:SHOWN_DESTINATIONS])
        )
        hidden = len(targets) - SHOWN_DESTINATIONS
        if hidden > 0:
            more = gettext("and %(count)d more") % {"count": hidden}
            return format_html('{} <span class="text-body-secondary">{}</span>', shown, more)
        return shown

    def render_domain(self, value: str) -> str:
        return to_unicode(value)

    def render_active(self, record: Alias) -> SafeString:
        if getattr(record, "is_mailbox", False):
            # A mailbox's own alias row follows the mailbox: no toggle here.
            return active_badge(record.active, gettext("Follows its mailbox"))
        url = row_url(self, "aliases:alias-toggle", record.address)
        return toggle_form(self, url, record.active)

    def render_actions(self, record: Alias) -> SafeString:
        address = record.address
        if getattr(record, "is_mailbox", False):
            return format_html(
                '<a class="btn btn-sm btn-outline-primary" href="{}#forwarding">{}</a>',
                row_url(self, "mailboxes:mailbox-detail", address),
                gettext("Mailbox forwarding"),
            )
        return format_html(
            '<div class="btn-group btn-group-sm" role="group" aria-label="{}">\n'
            '  <a class="btn btn-outline-primary" href="{}">{}</a>\n'
            '  <a class="btn btn-outline-danger" href="{}">{}</a>\n</div>',
            gettext("Actions"),
            row_url(self, "aliases:alias-edit", address),
            gettext("Edit"),
            row_url(self, "aliases:alias-delete", address),
            gettext("Delete"),
        )
