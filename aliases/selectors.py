"""Reads of aliases, always through the scoping helper and in SQL (no Python-side filtering)."""

from __future__ import annotations

from typing import Any

from django.db import ProgrammingError, connections
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value

from aliases.models import Alias
from core.listing.pagination import LAST_PAGE_SLACK, RuleCountedQuerySet, counted_by
from domains import counters
from mailboxes.models import Mailbox
from mailboxes.selectors import (
    GramSearch,
    address_search_terms,
    domain_filter_value,
    domain_restriction,
    rows_within,
    search_queryset,
    searched_rows,
    shown_domains,
)
from pfa.derived import search_grams, triggers
from pfa.derived.alias_listed import ALIAS_LISTED


def alias_list(user: Any, filters: dict[str, Any]) -> QuerySet[Alias]:
    """Return the user's aliases matching `q` (address or destinations) and `domain`.

    Mailboxes' own alias rows are left out unless `show_mailbox_aliases` is set.
    """
    domain = domain_filter_value(filters.get("domain") or "")
    restriction = domain_restriction(user, domain)
    match = Q()
    terms = address_search_terms(filters.get("q") or "")
    for term in terms:
        match |= Q(address__contains=term) | Q(goto__contains=term)
    if match:
        # Before the NOT EXISTS below: MariaDB tests conditions in the written order, and
        # probing the mailboxes for every alias row of a domain first made a search 4x slower.
        qs = searched_rows(user, Alias, restriction, match, terms)
    else:
        qs = rows_within(user, Alias, restriction)
    is_mailbox = Exists(Mailbox.objects.filter(username=OuterRef("address")))
    hide_mailboxes = not filters.get("show_mailbox_aliases")
    if hide_mailboxes:
        # NOT EXISTS in SQL, so hiding the rows costs nothing per row in Python. The flag the
        # table reads is then a constant: as a second EXISTS in the select list PostgreSQL
        # would hash every mailbox of every domain (40 ms at 110,000) to label 50 rows.
        qs = qs.filter(~is_mailbox).annotate(is_mailbox=Value(False, output_field=BooleanField()))
    else:
        qs = qs.annotate(is_mailbox=is_mailbox)
    qs = qs.order_by("address")
    if match:
        verify = Alias.objects.filter(match)
        if hide_mailboxes:
            verify = verify.filter(~is_mailbox)
        return search_queryset(qs, GramSearch(search_grams.ALIAS, terms, restriction, verify))
    if not hide_mailboxes:
        return qs

    def postfix_admin_count() -> int | None:
        # Postfix Admin's rule (and the number its own lists show): every mailbox owns one
        # alias row, so the other aliases are the alias rows minus the mailboxes, both from
        # the domain counters instead of the NOT EXISTS anti-join over every alias row
        # (1-3 s for a 400,000-row domain) or two COUNTs of the domain's index entries. The
        # page's rows still come from NOT EXISTS and are exact; only the total can be off, and
        # only where a mailbox has no alias row of its own (possible in adopted databases):
        # then the total is too low by that many, and the last page shows the rows past it
        # (see core.listing.pagination.RuleCountedQuerySet).
        totals = counters.totals(shown_domains(user, domain))
        if totals is None:
            return None
        mailboxes, alias_rows = totals
        return max(alias_rows - mailboxes, 0)

    names = (restriction or {}).get("domain_id__in") or [(restriction or {}).get("domain_id")]
    if len(names) == 1 and names[0]:
        return AliasListQuerySet.of(qs, _count_rule=postfix_admin_count, _one_domain=names[0])
    return counted_by(qs, postfix_admin_count)


# The keys of one page of one domain's aliases, mailboxes' own rows left out (PostgreSQL).
# Both sides in the page's direction: with the mailbox names ascending, a descending page
# sorted all of the domain's mailboxes first (170 ms instead of 25 at 200,000).
_MERGED_KEYS = (
    "SELECT a.address FROM alias a LEFT JOIN"
    " (SELECT username FROM mailbox WHERE domain = %s ORDER BY username {0}) m"
    " ON m.username = a.address WHERE a.domain = %s AND m.username IS NULL"
    " ORDER BY a.address {0} LIMIT %s OFFSET %s"
)
_MERGED_KEYS_SQL = {
    "ASC": _MERGED_KEYS.format("ASC"),
    "DESC": _MERGED_KEYS.format("DESC"),
}
# The same keys from the trigger-maintained table (MariaDB/MySQL, see pfa.derived.alias_listed).
_LISTED_KEYS = f"SELECT address FROM {ALIAS_LISTED.name} WHERE domain = %s"  # noqa: S608
_LISTED_KEYS_SQL = {
    "ASC": _LISTED_KEYS + " ORDER BY address ASC LIMIT %s OFFSET %s",
    "DESC": _LISTED_KEYS + " ORDER BY address DESC LIMIT %s OFFSET %s",
}


class AliasListQuerySet(RuleCountedQuerySet):
    """One domain's aliases without the mailboxes' own rows, in address order: the alias list.

    On PostgreSQL a page's keys come from a merge of the domain's two ordered indexes, alias
    (domain, address) and mailbox (domain, username), written as a join to the domain's sorted
    mailbox names: NOT EXISTS made the planner probe the mailbox index once per alias row
    (nested loop) or merge against every domain's mailboxes (the primary key), 37 ms for
    page 1 and 170-480 ms for page 1,000 of a 400,000-row domain instead of 7 and 38 ms.

    MariaDB has no merge join: NOT EXISTS probes `mailbox` once per alias row up to the page
    (160-200 ms for page 1,000 of that domain). Where the table of the domain's listed aliases
    (pfa.derived.alias_listed, a trigger-maintained table) is installed, a page's keys are a
    range of its primary key (domain, address) instead; without it the query itself finds them.
    """

    FACTS = (*RuleCountedQuerySet.FACTS, "_one_domain")
    _one_domain: str | None = None

    def page_keys(self, bottom: int, top: int) -> list[str] | None:
        """Return the addresses of rows bottom..top, or None to let the query itself find them."""
        order = tuple(self.query.order_by)
        if self._one_domain is None or order not in (("address",), ("-address",)):
            return None
        connection = connections[self.db]
        if connection.vendor == "postgresql":
            statements = _MERGED_KEYS_SQL
            params = [self._one_domain, self._one_domain]
        elif connection.vendor == "mysql" and triggers.installed_cached(ALIAS_LISTED, connection):
            statements = _LISTED_KEYS_SQL
            params = [self._one_domain]
        else:
            return None
        if self._counted is not None and top == self._counted:
            top += LAST_PAGE_SLACK
        sql = statements["DESC" if order[0].startswith("-") else "ASC"]
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, [*params, top - bottom, bottom])
                return [row[0] for row in cursor.fetchall()]
        except ProgrammingError:
            if statements is _MERGED_KEYS_SQL:
                raise
            # Removed by another process since this one last looked (see triggers.installed_cached).
            triggers.forget()
            return None
