"""Reads of domains and alias domains, always through the scoping helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import idna
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.scoping import scoped, scoped_domain_names
from aliases.models import Alias
from core.listing.pagination import RuleCountedQuerySet
from core.listing.search import idn_domains_containing
from domains import counters
from domains.models import AliasDomain, Domain, by_sort_name, sort_key_of, with_sort_name
from mail.names import to_unicode
from mailboxes.models import Mailbox
from pfa.models import Log, Quota2


class _Total(Func):
    """SUM/COUNT over a whole correlated subquery; a plain Func adds no GROUP BY."""

    template = "%(function)s(%(expressions)s)"


class _CountRows(Func):
    """COUNT(*), which the database answers from the smallest index on the filtered column."""

    template = "COUNT(*)"
    output_field = IntegerField()


class _DomainUsage(Func):
    """Sum quota2's bytes of a domain's mailboxes, joined on username, for the outer domain.

    Written as a join so that the database walks the mailbox (domain) index and probes quota2's
    primary key per mailbox; `username IN (SELECT ...)` made PostgreSQL hash all of quota2 for
    every domain row (bench/RESULTS.md).
    quota2 has no relation the ORM could join through, hence the hand-written subquery.
    """

    template = (
        "(SELECT SUM(u.%(bytes)s) FROM %(mailbox)s m INNER JOIN %(quota2)s u"
        " ON u.%(username)s = m.%(username)s WHERE m.%(domain)s = %(expressions)s)"
    )
    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        names = {
            "mailbox": q(Mailbox._meta.db_table),
            "quota2": q(Quota2._meta.db_table),
            "bytes": q("bytes"),
            "username": q("username"),
            "domain": q("domain"),
        }
        return super().as_sql(compiler, connection, **names, **extra)


def _scalar(queryset: QuerySet, function: str, column: str) -> Coalesce:
    """Return one number computed by the database per outer row, 0 when there is nothing."""
    total = queryset.order_by().annotate(total=_Total(F(column), function=function))
    return Coalesce(Subquery(total.values("total")[:1]), Value(0), output_field=IntegerField())


def _count(queryset: QuerySet) -> Coalesce:
    """Return the number of rows of a correlated queryset per outer row."""
    total = queryset.order_by().annotate(total=_CountRows())
    return Coalesce(Subquery(total.values("total")[:1]), Value(0), output_field=IntegerField())


def _live_figures() -> dict[str, Any]:
    """Return the expressions counting each outer domain's rows in SQL (see with_live_figures)."""
    # Negative quotas mean "disabled" and must not lower the allocated total.
    quotas = Mailbox.objects.filter(domain=OuterRef("pk"), quota__gt=0)
    return {
        "mailbox_count": _count(Mailbox.objects.filter(domain=OuterRef("pk"))),
        "alias_rows": _count(Alias.objects.filter(domain=OuterRef("pk"))),
        "quota_allocated": _scalar(quotas, "SUM", "quota"),
        "usage_bytes": Coalesce(_DomainUsage(F("pk")), Value(0), output_field=IntegerField()),
    }


def with_live_figures(queryset: QuerySet[Domain]) -> QuerySet[Domain]:
    """Add mailbox count, alias row count, allocated quota and usage, counted live in SQL.

    The alias count shown is `alias_rows - mailbox_count` (Postfix Admin's rule: every mailbox
    owns one alias row, which is not counted); callers subtract, so neither COUNT runs twice.
    Both counts are index-only scans of the (domain) indexes; SUM(quota) and the usage read
    the domain's mailbox rows, so this is for one domain's page; lists use with_domain_counters.
    """
    return queryset.annotate(**_live_figures())


def with_domain_counters(queryset: QuerySet[Domain]) -> QuerySet[Domain]:
    """Add the same figures as with_live_figures, read from the domain counters (domains.counters).

    One join instead of four correlated subqueries per domain: the figures of a
    200,000-mailbox domain cost what those of an empty one do. A domain without a counters row
    (created by another tool since the last `domain_counters` run, and not yet seen by a list
    page, which stores the rows it is missing) is counted live, so no figure is ever blank.
    """
    live = _live_figures()
    return queryset.annotate(
        mailbox_count=Coalesce(F("counters__mailboxes"), live["mailbox_count"]),
        alias_rows=Coalesce(F("counters__alias_rows"), live["alias_rows"]),
        quota_allocated=Coalesce(F("counters__quota_allocated"), live["quota_allocated"]),
        usage_bytes=Coalesce(F("counters__usage_bytes"), live["usage_bytes"]),
        usage_counted=F("counters__usage_counted"),
    )


def alias_count_of(domain: Domain) -> int:
    """Return the aliases of a domain annotated by with_live_figures, mailboxes' rows left out."""
    return max(domain.alias_rows - domain.mailbox_count, 0)


def _punycode_term(term: str) -> str:
    """Return a typed Unicode search term in its stored (punycode) form, or '' if it has none."""
    if term.isascii():
        return ""
    labels = []
    for label in term.lower().split("."):
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii") if label else "")
        except (idna.IDNAError, UnicodeError):
            return ""
    return ".".join(labels)


def _names_match(term: str, *fields: str) -> Q:
    """Match a typed term in domain-name fields, as typed and in its stored (punycode) form."""
    match = Q()
    for text in filter(None, (term, _punycode_term(term))):
        for field in fields:
            match |= Q(**{f"{field}__icontains": text})
    # A piece of a Unicode name ("ü") that no punycode form contains.
    idn = idn_domains_containing(term)
    if idn:
        for field in fields:
            match |= Q(**{f"{field}__in": idn})
    return match


# A typed domain field suggests at most this many of the user's domains.
DOMAIN_SUGGESTIONS_LIMIT = 20


def domain_suggestions(user: Any, typed: str) -> list[str]:
    """Return the first DOMAIN_SUGGESTIONS_LIMIT of the user's domains (stored names, in the
    lists' order) that start with what was typed, in Unicode or punycode."""
    text = typed.strip().lower()
    starts = Q(domain__startswith=text)
    stored = _punycode_term(text)
    if stored:
        starts |= Q(domain__startswith=stored)
    # A Unicode piece of a label ("bü") is no prefix of any punycode form ("xn--bcher-kva").
    idn = [name for name in idn_domains_containing(text) if to_unicode(name).startswith(text)]
    if idn:
        starts |= Q(domain__in=idn)
    names = by_sort_name(scoped(user, Domain).filter(starts))
    return list(names.values_list("domain", flat=True)[:DOMAIN_SUGGESTIONS_LIMIT])


def domain_list(user: Any, filters: dict[str, Any], *, keyed: bool = False) -> QuerySet[Domain]:
    """Return the domains the user may see, matching the search, with counts, usage and the
    key they are listed by (`sort_name`; `keyed`: every domain has it, see with_sort_name)."""
    queryset = scoped(user, Domain)
    term = (filters.get("q") or "").strip()
    if term:
        match = Q(description__icontains=term) | _names_match(term, "domain")
        queryset = queryset.filter(match)
    rows = with_sort_name(with_domain_counters(queryset), keyed=keyed)
    if keyed:
        # Counted without the join to their keys, which a count would read for each domain;
        # the key is unique, so pages past the middle are read from the end.
        return RuleCountedQuerySet.of(
            rows, _count_rule=queryset.count, scope=None, unique_key="sort_name"
        )
    return rows


def domains_with_figures(user: Any) -> QuerySet[Domain]:
    """Return the domains the user may see, each with its counts and usage (a domain's page)."""
    return with_live_figures(scoped(user, Domain))


def domain_log(user: Any, domain: Domain, limit: int = 10) -> list[Log]:
    """Return the newest log rows of a domain the user may see."""
    return list(scoped(user, Log).filter(domain=domain.domain).order_by("-timestamp")[:limit])


def alias_domain_list(user: Any, filters: dict[str, Any]) -> QuerySet[AliasDomain]:
    """Return the alias domains the user may see, matching the search on either side, with the
    keys both sides are listed by (`sort_name`, unique, and `target_sort_name`)."""
    queryset = scoped(user, AliasDomain)
    term = (filters.get("q") or "").strip()
    if term:
        names = ("alias_domain__domain", "target_domain__domain")
        queryset = queryset.filter(_names_match(term, *names))
    return queryset.annotate(
        sort_name=sort_key_of("alias_domain"), target_sort_name=sort_key_of("target_domain")
    )


def alias_domains_of(user: Any, domain: Domain) -> QuerySet[AliasDomain]:
    """Return the alias domains that point at the domain, as far as the user may see them."""
    rows = scoped(user, AliasDomain).filter(target_domain_id=domain.domain)
    return rows.annotate(sort_name=sort_key_of("alias_domain")).order_by("sort_name")


@dataclass(frozen=True)
class Room:
    """How many mailboxes (or aliases) a domain holds against its limit (0 none, -1 disabled)."""

    domain: str
    used: int
    limit: int

    @property
    def full(self) -> bool:
        """Tell whether a domain admin may create no more of them here."""
        return self.limit < 0 or (self.limit > 0 and self.used >= self.limit)


def room_for_new(user: Any, kind: str, names: list[str]) -> dict[str, Room]:
    """Return, per named domain the user manages, its usage of the `kind` limit.

    `kind` is "mailboxes" or "aliases"; alias usage counts as Postfix Admin does (without
    the mailboxes' own rows). Reads the domain counters (measured once if missing).
    """
    managed = scoped_domain_names(user)  # read once per request, shared with the page
    if managed is not None:
        domains = Domain.objects.filter(domain__in=[n for n in names if n in set(managed)])
    else:
        domains = scoped(user, Domain).filter(domain__in=names)
    limits = dict(domains.values_list("domain", kind))
    if not limits:
        return {}
    found = counters.ensure(sorted(limits))
    rooms = {}
    for name, limit in limits.items():
        row = found[name]
        used = row.mailboxes if kind == "mailboxes" else max(row.alias_rows - row.mailboxes, 0)
        rooms[name] = Room(domain=name, used=used, limit=limit)
    return rooms
