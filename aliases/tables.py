"""The alias list as a django-tables2 table (sorted and paginated in SQL)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aliases.models import Alias
from domains.names import address_to_unicode, to_unicode

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
    active = tables.TemplateColumn(
        verbose_name=_("Active"), template_name="aliases/_toggle_cell.html"
    )
    actions = tables.TemplateColumn(
        verbose_name=_("Actions"),
        template_name="aliases/_actions_cell.html",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = Alias
        fields = ("address", "goto", "domain", "active")
        sequence = ("address", "goto", "domain", "active", "actions")
        order_by = "address"
        attrs = {"class": "table table-striped table-hover align-middle"}
        empty_text = _("No aliases match.")

    def render_address(self, value: str, record: Any) -> SafeString:
        if getattr(record, "is_mailbox", False):
            url = reverse("mailboxes:mailbox-detail", kwargs={"username": value})
        else:
            url = reverse("aliases:alias-edit", kwargs={"address": value})
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
