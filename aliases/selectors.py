"""Reads of aliases, always through the scoping helper and in SQL (no Python-side filtering)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.scoping import scoped
from aliases.models import Alias
from mailboxes.models import Mailbox
from mailboxes.selectors import address_search_terms, domain_filter_value, restrict_to_domains


def alias_list(user: Any, filters: dict[str, Any]) -> QuerySet[Alias]:
    """Return the user's aliases matching `q` (address or destinations) and `domain`.

    Mailboxes' own alias rows are left out unless `show_mailbox_aliases` is set.
    """
    is_mailbox = Exists(Mailbox.objects.filter(username=OuterRef("address")))
    qs = scoped(user, Alias).annotate(is_mailbox=is_mailbox)
    if not filters.get("show_mailbox_aliases"):
        # NOT EXISTS in SQL, so hiding the rows costs nothing per row in Python.
        qs = qs.filter(is_mailbox=False)
    qs = restrict_to_domains(user, qs, domain_filter_value(filters.get("domain") or ""))
    match = Q()
    for term in address_search_terms(filters.get("q") or ""):
        match |= Q(address__contains=term) | Q(goto__contains=term)
    if match:
        qs = qs.filter(match)
    return qs.order_by("address")
