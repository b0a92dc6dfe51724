"""Searching a list: the read side of the search indexes, for the mailbox and alias lists.

A search starts from the list's scope (accounts.scoping.list_scope) and its match (a condition
the caller builds), and shows at most SEARCH_RESULTS_LIMIT matches. How it finds them depends
on the engine:

- PostgreSQL: the trigram indexes of pfa.derived.indexes. searched_rows() lets the planner's
  own estimates choose between the domain's index and the trigram indexes; SearchQuerySet
  keeps the keys of the matches its count found and reads a page from those keys.
- MariaDB/MySQL: the project's trigram tables (pfa.derived.search_grams, the write side),
  where installed, name candidate rows (GramSearch); the list's condition picks the matches.
- SQLite, or without the tables: the list's own query.

Every way finds the same rows; why each exists is told in bench/RESULTS.md ("Why the list
queries look like this").
"""

from __future__ import annotations

import json
import re
from typing import Any

import idna
from django.core.exceptions import FieldDoesNotExist
from django.db import ProgrammingError, connections
from django.db.models import BooleanField, F, Func, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact, In

from accounts.scoping import ListScope
from core.listing.pagination import ListQuerySet, by_keys
from domains.models import Domain
from mail.names import to_unicode
from pfa.derived import search_grams, triggers

# A search shows at most this many matches (20 pages of 50); past it, it asks for more words.
SEARCH_RESULTS_LIMIT = 1_000

# pg_trgm looks a LIKE pattern up by the trigrams of its runs of letters and digits: a term
# without three in a row ('zz', 'a.b') makes the trigram index read all of itself.
_TRIGRAM_RUN = re.compile(r"[A-Za-z0-9]{3}")


# How many internationalised domains a search for a piece of a Unicode name reads, and how
# many of those that hold the piece it looks for.
IDN_SCAN_LIMIT = 5_000
IDN_MATCH_LIMIT = 50


def idn_domains_containing(text: str) -> list[str]:
    """Return stored (punycode) domain names whose Unicode form holds a typed non-ASCII piece.

    A piece such as "ü" has no punycode form that occurs in "xn--bcher-kva", so the
    internationalised names (those with an "xn--" label, few beside the ASCII ones) are read
    and compared in Unicode. The caller's query keeps its scope: a name only widens a match.
    """
    piece = text.strip().lower()
    if not piece or piece.isascii():
        return []
    names = Domain.objects.filter(domain__contains="xn--").order_by("domain")
    found = []
    for name in names.values_list("domain", flat=True)[:IDN_SCAN_LIMIT]:
        if piece in to_unicode(name).lower():
            found.append(name)
            if len(found) >= IDN_MATCH_LIMIT:
                break
    return found


def address_search_terms(q: str) -> list[str]:
    """Return the forms of a typed search text that can occur in stored (punycode) addresses."""
    text = (q or "").strip().lower()
    if not text:
        return []
    terms = [text]
    local, sep, domain = text.rpartition("@")
    part = domain if sep else text
    if part and not part.isascii():
        try:
            encoded = idna.encode(part, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            encoded = ""
        if encoded:
            terms.append(f"{local}{sep}{encoded}")
        if not sep:
            # A piece of a Unicode domain name ("ü", "bü"): every address of such a domain.
            terms.extend(f"@{name}" for name in idn_domains_containing(part))
    return terms


def searched_rows(scope: ListScope, model: type[Any], match: Q, texts: list[str]) -> QuerySet:
    """Return the rows of `model` within the list's scope that match.

    On PostgreSQL, with the list's domains named, the planner's estimates choose by the fewer
    rows in the worst case: where it would find the match's rows of all domains through the
    trigram indexes and expects fewer of them than the domains have rows, the domain is
    compared as an expression no index answers, which leaves the trigram indexes as the way in
    (for the count and for the pages); otherwise the planner keeps its own choice (walking the
    domain's index until enough rows match). The same rows either way; other engines, and
    lists without named domains, are left as they are.
    """
    unindexed = _domain_past_the_index(scope, model, match, texts)
    if unindexed is not None:
        return model._default_manager.filter(unindexed).filter(match)
    return scope.rows(model).filter(match)


def _domain_past_the_index(
    scope: ListScope, model: type[Any], match: Q, texts: list[str]
) -> Exact | In | None:
    """Return the scope's domain condition as an unindexed expression where PostgreSQL finds
    the match's rows of all domains by index and expects fewer than the domains' rows, else
    None (also where the trigram indexes are missing, as in an adopted database)."""
    if connections[model._default_manager.db].vendor != "postgresql":
        return None
    if not scope.names:
        return None  # Every domain (no domain condition to move), or none (nothing to find).
    if not all(_TRIGRAM_RUN.search(text) for text in texts):
        return None
    # Both plans always: a search page runs the same number of queries whatever they say.
    candidates = _plan(model._default_manager.filter(match).order_by())
    domain_rows = _plan(scope.rows(model).order_by())
    if not _found_by_index(candidates) or candidates["Plan Rows"] >= domain_rows["Plan Rows"]:
        return None
    domain = _Unindexed(F("domain"))
    if len(scope.names) == 1:
        return Exact(domain, scope.names[0])
    return In(domain, list(scope.names))


def _plan(queryset: QuerySet) -> dict[str, Any]:
    """Return the plan PostgreSQL would run the queryset by, with its estimates (not run)."""
    plan = json.loads(queryset.explain(format="json"))
    # One plan, as a list of it or alone (depending on how the driver hands JSON back).
    return (plan[0] if isinstance(plan, list) else plan)["Plan"]


def _found_by_index(plan: dict[str, Any]) -> bool:
    """Tell whether a plan reaches its rows only through index conditions (bitmap index
    scans, the trigram indexes' only kind), reading no table or index from end to end."""
    children = plan.get("Plans", ())
    if not children:
        return plan["Node Type"] == "Bitmap Index Scan"
    return all(_found_by_index(child) for child in children)


class _Unindexed(Func):
    """A text column's own value, as an expression no index returns in order."""

    template = "(%(expressions)s || '')"
    output_field = TextField()


class _AmongKeys(Func):
    """`key = ANY(ARRAY(subquery))`: the rows whose key a subquery returns (PostgreSQL).

    An array of keys is looked up in the primary key's index; as `key IN (...)` the planner
    estimates each key, and a subquery it may hash and match against the whole table.
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple]:
        key, keys = self.get_source_expressions()
        key_sql, key_params = compiler.compile(key)
        keys_sql, keys_params = compiler.compile(keys)
        return f"{key_sql} = ANY(ARRAY{keys_sql})", (*key_params, *keys_params)


class SearchQuerySet(ListQuerySet):
    """Search results: at most SEARCH_RESULTS_LIMIT of them, the rest announced (`capped`).

    The paginator's count stops at SEARCH_RESULTS_LIMIT + 1; past the limit the list says there
    are more and shows the first SEARCH_RESULTS_LIMIT matches (on PostgreSQL the first the
    trigram index finds, then sorted; elsewhere the first in order), so a search costs what
    SEARCH_RESULTS_LIMIT matches cost, however common its word.

    On PostgreSQL the count keeps the keys of those matches, and a page is sorted from those
    keys alone, looked up by the primary key, by an expression no index provides (which sorts
    exactly like the column), so that only the matches are sorted and finding them is done
    once. On MariaDB/MySQL the trigram tables, where installed, name the candidate rows
    (`_grams`): count() keeps the keys of the first SEARCH_RESULTS_LIMIT + 1 that really match,
    and a page is those rows, looked up by key and sorted. SQLite counts, and a page is a slice.
    """

    FACTS = (*ListQuerySet.FACTS, "_matches", "_keys", "_grams")
    _matches: int | None = None
    _keys: list[Any] | None = None
    _grams: GramSearch | None = None

    @property
    def capped(self) -> bool:
        """Tell whether count() found more matches than a search shows."""
        return self._matches is not None and self._matches > SEARCH_RESULTS_LIMIT

    @property
    def holds_more(self) -> bool:
        """Tell whether more matches exist than the ones shown (so no reading from the end)."""
        return self.capped

    def count(self) -> int:
        if self._result_cache is not None or self.query.is_sliced:
            return super().count()
        found = self._grams.keys(self) if self._grams is not None else None
        if found is not None:
            self._matches, self._keys = len(found), found[:SEARCH_RESULTS_LIMIT]
            return min(self._matches, SEARCH_RESULTS_LIMIT)
        first = self.order_by()[: SEARCH_RESULTS_LIMIT + 1]
        if connections[self.db].vendor == "postgresql":
            keys = list(first.values_list("pk", flat=True))
            self._matches, self._keys = len(keys), keys[:SEARCH_RESULTS_LIMIT]
        else:
            self._matches = QuerySet.count(first)
        return min(self._matches, SEARCH_RESULTS_LIMIT)

    def __getitem__(self, key: Any) -> Any:
        source: QuerySet = self
        postgresql = connections[self.db].vendor == "postgresql"
        if self._keys is not None and isinstance(key, slice):
            # The matches the count found (the first ones the index found, when capped), as a
            # plain list queryset: the keys chose the rows by this queryset's own conditions.
            plain = ListQuerySet.of(self, scope=self.scope)
            # A deep page asks for values_list("pk") first: keep what the rows are made into.
            plain._iterable_class, plain._fields = self._iterable_class, self._fields
            if not postgresql:
                return QuerySet.__getitem__(by_keys(plain, self._keys), key)
            keys = RawSQL("SELECT unnest(%s::text[])", (self._keys,))
            source = by_keys(plain, self._keys, condition=_AmongKeys(F("pk"), keys))
        result = QuerySet.__getitem__(source, key)
        if isinstance(result, QuerySet) and self._keys is not None and postgresql:
            result.query.order_by = tuple(
                _sorted_after_matching(result.model, item) for item in result.query.order_by
            )
        return result


def _sorted_after_matching(model: Any, item: Any) -> Any:
    """Return an ordering item of a text column as an unindexed expression, others unchanged."""
    if not isinstance(item, str):
        return item
    name = item.removeprefix("-")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return item
    target = field.target_field if field.is_relation and field.many_to_one else field
    if target.get_internal_type() not in ("CharField", "TextField"):
        return item
    expression = _Unindexed(F(name))
    return expression.desc() if item.startswith("-") else expression.asc()


class GramSearch:
    """How a search finds its candidate rows in the trigram tables of pfa.derived.search_grams.

    `kind` is the indexed table, `terms` the lower-cased forms of the search, `scope` the
    list's. The candidates are only ever a lead: the list's condition picks the matches.
    `verify` is that condition without its domain restriction: where the scope names its
    domains, the candidates already lie within them (and each match's domain is checked
    against the scope, OutOfScope otherwise); where it does not, the list's own rows verify.
    """

    # More candidates than this: read the rows instead (the grams say too little).
    CANDIDATES = 20_000

    def __init__(self, kind: int, terms: list[str], scope: ListScope, verify: QuerySet) -> None:
        self.kind, self.terms, self.scope = kind, terms, scope
        self.domains = list(scope.names) if scope.names is not None else None
        literal = scope.names is not None or scope.everything
        # Without literal names (the scope's subquery) the list's own rows verify.
        self.verify = verify if literal else None

    def _matching_domains(self) -> list[str]:
        # Every address of a domain whose name contains a term matches by its domain part.
        words = [t for t in self.terms if "@" not in t]
        if not words:
            return []
        if self.domains is not None:
            return [d for d in self.domains if any(w in d for w in words)]
        match = Q()
        for word in words:
            match |= Q(domain__contains=word)
        return list(Domain.objects.filter(match).values_list("domain", flat=True))

    def keys(self, qs: QuerySet) -> list[Any] | None:
        """Return the keys of up to SEARCH_RESULTS_LIMIT + 1 matching rows, or None to scan."""
        connection = connections[qs.db]
        if not search_grams.usable(connection):
            return None
        probes = search_grams.plan(self.terms, self._matching_domains())
        if probes is None:
            return None
        try:
            return self._keys(connection, qs, probes)
        except ProgrammingError:
            # Removed by another process since this one last looked: read the rows.
            triggers.forget()
            return None

    def _keys(self, connection: Any, qs: QuerySet, probes: list[Any]) -> list[Any] | None:
        plain = QuerySet(model=qs.model, query=qs.query.chain(), using=qs.db).order_by()
        verify = plain if self.verify is None else self.verify.order_by()
        found: dict[Any, None] = {}
        for probe in probes:
            if probe.grams:
                if not self._verify(connection, probe.grams, verify, found):
                    return None
            else:
                # Rows of the domains that match whatever their text: their first matches.
                names = list(probe.domains)
                if probe.domain_prefix is not None:
                    starting = Domain.objects.filter(domain__startswith=probe.domain_prefix)
                    names += starting.values_list("domain", flat=True)
                rows = plain.filter(domain_id__in=names).values_list("pk", flat=True)
                for key in rows[: SEARCH_RESULTS_LIMIT + 1]:
                    found[key] = None
            if len(found) > SEARCH_RESULTS_LIMIT:
                break
        return list(found)

    def _verify(self, connection: Any, grams: tuple[str, ...], rows: QuerySet, found: dict) -> bool:
        """Add the matching rows among the probe's candidates to `found`, a batch at a time.

        Most searches end in the first batch: either few rows contain the grams, or so many
        do that a batch of them already holds more matches than a search shows. False: the
        grams led to more than CANDIDATES rows without enough matches; read the rows.
        """
        batch = SEARCH_RESULTS_LIMIT + 200
        grams, ordered = search_grams.choose(connection, self.kind, grams, self.domains)
        if not grams:
            return True  # A gram no row has: no row contains the term.
        leads = search_grams.candidates(
            connection, self.kind, grams, self.domains, batch, ordered=ordered
        )
        self._keep_matching(rows, leads, found)
        if len(leads) < batch or len(found) > SEARCH_RESULTS_LIMIT:
            return True
        # More candidates than a batch and too few matches among them: the rest, in one query.
        rest = search_grams.candidates(
            connection,
            self.kind,
            grams,
            self.domains,
            self.CANDIDATES - batch + 1,
            batch,
            ordered=ordered,
        )
        if len(rest) > self.CANDIDATES - batch:
            return False
        for start in range(0, len(rest), batch):
            self._keep_matching(rows, rest[start : start + batch], found)
            if len(found) > SEARCH_RESULTS_LIMIT:
                break
        return True

    def _keep_matching(self, rows: QuerySet, leads: list[Any], found: dict) -> None:
        matches = list(rows.filter(pk__in=leads).values_list("pk", "domain"))
        # The candidates came from the scope's domains: a match of any other is a defect.
        self.scope.require(domain for _key, domain in matches)
        for key, _domain in matches:
            found[key] = None


def search_queryset(qs: QuerySet, scope: ListScope, grams: GramSearch | None = None) -> Any:
    """Return the same rows as a SearchQuerySet within `scope` (found through the trigram
    tables if given)."""
    return SearchQuerySet.of(qs, scope=scope, _grams=grams)
