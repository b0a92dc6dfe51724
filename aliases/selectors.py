"""Reads of aliases, starting from the scoping helper, in SQL."""

from __future__ import annotations

from typing import Any

from django.db import ProgrammingError, connections
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value

from accounts.scoping import list_scope, scoped
from aliases.models import Alias
from core.listing.pagination import LAST_PAGE_SLACK, ListQuerySet, RuleCountedQuerySet, counted_by
from core.listing.search import GramSearch, address_search_terms, search_queryset, searched_rows
from domains import counters
from domains.models import AliasDomain, Domain
from mail.names import domain_filter_value
from mailboxes.models import Mailbox
from pfa.derived import search_grams, triggers
from pfa.derived.alias_listed import ALIAS_LISTED


def alias_list(user: Any, filters: dict[str, Any]) -> QuerySet[Alias]:
    """Return the user's aliases matching `q` (address or destinations) and `domain`.

    Mailboxes' own alias rows are left out unless `show_mailbox_aliases` is set.
    """
    scope = list_scope(user, domain_filter_value(filters.get("domain") or ""))
    match = Q()
    terms = address_search_terms(filters.get("q") or "")
    for term in terms:
        match |= Q(address__contains=term) | Q(goto__contains=term)
    # The match before the NOT EXISTS below: MariaDB tests conditions in the written order,
    # and the match rules out far more rows than the probe of `mailbox` does.
    qs = searched_rows(scope, Alias, match, terms) if match else scope.rows(Alias)
    is_mailbox = Exists(Mailbox.objects.filter(username=OuterRef("address")))
    hide_mailboxes = not filters.get("show_mailbox_aliases")
    if hide_mailboxes:
        # NOT EXISTS in SQL, so hiding the rows costs nothing per row in Python. The flag the
        # table reads is then a constant: as a second EXISTS in the select list PostgreSQL
        # would hash every mailbox of every domain to label one page's rows.
        qs = qs.filter(~is_mailbox).annotate(is_mailbox=Value(False, output_field=BooleanField()))
    else:
        qs = qs.annotate(is_mailbox=is_mailbox)
    qs = qs.order_by("address")
    if match:
        verify = Alias.objects.filter(match)
        if hide_mailboxes:
            verify = verify.filter(~is_mailbox)
        return search_queryset(qs, scope, GramSearch(search_grams.ALIAS, terms, scope, verify))
    if not hide_mailboxes:
        return ListQuerySet.of(qs, scope=scope)

    def postfix_admin_count() -> int | None:
        # Postfix Admin's rule (and the number its own lists show): every mailbox owns one
        # alias row, so the other aliases are the alias rows minus the mailboxes, both from
        # the kept per-domain figures instead of the NOT EXISTS anti-join over every alias row
        # or two COUNTs of the domain's index entries. The
        # page's rows still come from NOT EXISTS and are exact; only the total can be off, and
        # only where a mailbox has no alias row of its own (possible in adopted databases):
        # then the total is too low by that many, and the last page shows the rows past it
        # (see core.listing.pagination.RuleCountedQuerySet).
        totals = counters.totals(scope.domains())
        if totals is None:
            return None
        mailboxes, alias_rows = totals
        return max(alias_rows - mailboxes, 0)

    if scope.one_domain is not None:
        return AliasListQuerySet.of(qs, _count_rule=postfix_admin_count, scope=scope)
    return counted_by(qs, postfix_admin_count, scope=scope)


# The keys of one page of one domain's aliases, mailboxes' own rows left out (PostgreSQL).
# Both sides in the page's direction: with the mailbox names ascending, a descending page
# sorted all of the domain's mailboxes first.
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
# A keyset page of them (the API, CSV export): the keys after one, in either direction.
_LISTED_AFTER_SQL = {
    (False, False): _LISTED_KEYS + " ORDER BY address ASC LIMIT %s",
    (False, True): _LISTED_KEYS + " AND address > %s ORDER BY address ASC LIMIT %s",
    (True, False): _LISTED_KEYS + " ORDER BY address DESC LIMIT %s",
    (True, True): _LISTED_KEYS + " AND address < %s ORDER BY address DESC LIMIT %s",
}


class AliasListQuerySet(RuleCountedQuerySet):
    """One domain's aliases without the mailboxes' own rows, in address order: the alias list.

    A page's keys come from a cheaper way than NOT EXISTS, which probes `mailbox` once per
    alias row up to the page. On PostgreSQL: a merge of the domain's two ordered indexes, alias
    (domain, address) and mailbox (domain, username), written as a join to the domain's sorted
    mailbox names. On MariaDB/MySQL, which has no merge join: a range of the primary key
    (domain, address) of the table of the domain's listed aliases (pfa.derived.alias_listed, a
    trigger-maintained table) where it is installed; without it the query itself finds them.
    The measurements are in bench/RESULTS.md.
    """

    def page_keys(self, bottom: int, top: int) -> list[str] | None:
        """Return the addresses of rows bottom..top, or None to let the query itself find them.

        The keys are those of the scope's one domain: the raw SQL starts from the scope.
        """
        order = tuple(self.query.order_by)
        domain = self.scope.one_domain if self.scope is not None else None
        if domain is None or order not in (("address",), ("-address",)):
            return None
        connection = connections[self.db]
        if connection.vendor == "postgresql":
            statements = _MERGED_KEYS_SQL
            params = [domain, domain]
        elif connection.vendor == "mysql" and triggers.installed_cached(ALIAS_LISTED, connection):
            statements = _LISTED_KEYS_SQL
            params = [domain]
        else:
            return None
        if self._counted is not None and top == self._counted:
            top += LAST_PAGE_SLACK
        sql = statements["DESC" if order[0].startswith("-") else "ASC"]
        listed = statements is _LISTED_KEYS_SQL
        return _read_keys(connection, sql, [*params, top - bottom, bottom], listed=listed)

    def keys_after(self, key: str, after: Any, size: int, descending: bool) -> list[str] | None:
        """Return up to `size` addresses after `after`, from the listed aliases' table (MariaDB).

        The first page of a domain whose mailboxes sort before its aliases otherwise probes
        `mailbox` for every mailbox row up to the first alias (bench/RESULTS.md, API at L).
        PostgreSQL's anti-join finds them at the speed of the page already.
        """
        domain = self.scope.one_domain if self.scope is not None else None
        connection = connections[self.db]
        if (
            domain is None
            or key != "address"
            or connection.vendor != "mysql"
            or not triggers.installed_cached(ALIAS_LISTED, connection)
        ):
            return None
        sql = _LISTED_AFTER_SQL[(descending, after is not None)]
        params = [domain, *([after] if after is not None else []), size]
        return _read_keys(connection, sql, params, listed=True)


def _read_keys(connection: Any, sql: str, params: list[Any], *, listed: bool) -> list[str] | None:
    """Run a statement of alias keys; None when it reads the listed aliases' table (`listed`)
    and another process has removed it since this one last looked (triggers.installed_cached):
    the list's own query then finds the keys."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
    except ProgrammingError:
        if not listed:
            raise
        triggers.forget()
        return None


def missing_local_targets(user: Any, targets: list[str]) -> list[str]:
    """Return the destinations in the user's own domains that no mailbox or alias receives.

    Mail to them bounces; a domain with a catch-all receives everything, and an alias domain's
    addresses are the target domain's, so neither is reported.
    """
    wanted: dict[str, list[str]] = {}
    for target in targets:
        local, at, domain = target.rpartition("@")
        if at and local and not target.startswith("@"):
            wanted.setdefault(domain.lower(), []).append(target.lower())
    if not wanted:
        return []
    mine = set(
        scoped(user, Domain).filter(domain__in=list(wanted)).values_list("domain", flat=True)
    )
    addresses = [a for name in mine for a in wanted[name]]
    if not addresses:
        return []
    known = set(Mailbox.objects.filter(username__in=addresses).values_list("username", flat=True))
    known |= set(Alias.objects.filter(address__in=addresses).values_list("address", flat=True))
    caught = set(
        Alias.objects.filter(address__in=[f"@{name}" for name in mine]).values_list(
            "domain_id", flat=True
        )
    )
    aliased = set(
        AliasDomain.objects.filter(alias_domain_id__in=list(mine)).values_list(
            "alias_domain_id", flat=True
        )
    )
    return [a for a in addresses if a not in known and a.rpartition("@")[2] not in caught | aliased]


SUGGESTIONS_LIMIT = 20


def destination_suggestions(user: Any, typed: str, domain: str = "") -> list[str]:
    """Return up to SUGGESTIONS_LIMIT addresses of the user's mailboxes and aliases that start
    with what was typed (a local part, or an address), those of `domain` first."""
    text = typed.strip().lower()
    if not text:
        return []
    local, at, rest = text.partition("@")
    mailboxes = scoped(user, Mailbox)
    aliases = scoped(user, Alias).exclude(address__startswith="@")
    if at:
        name = domain_filter_value(rest) if rest else ""
        mailboxes = mailboxes.filter(local_part__startswith=local)
        aliases = aliases.filter(address__startswith=f"{local}@")
        if name:
            mailboxes = mailboxes.filter(username__startswith=f"{local}@{name}")
            aliases = aliases.filter(address__startswith=f"{local}@{name}")
    else:
        mailboxes = mailboxes.filter(local_part__startswith=local)
        aliases = aliases.filter(address__startswith=local)
    found = set(
        mailboxes.order_by("username").values_list("username", flat=True)[:SUGGESTIONS_LIMIT]
    )
    found |= set(aliases.order_by("address").values_list("address", flat=True)[:SUGGESTIONS_LIMIT])
    home = f"@{domain}" if domain else ""
    ordered = sorted(found, key=lambda address: (not (home and address.endswith(home)), address))
    return ordered[:SUGGESTIONS_LIMIT]


def existing_addresses(addresses: list[str]) -> set[str]:
    """Return which of the (stored-form) addresses a mailbox or an alias has."""
    if not addresses:
        return set()
    found = set(Mailbox.objects.filter(username__in=addresses).values_list("username", flat=True))
    found |= set(Alias.objects.filter(address__in=addresses).values_list("address", flat=True))
    return found
