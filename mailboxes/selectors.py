"""Reads of mailboxes, always through the scoping helper and in SQL (no Python-side filtering)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import idna
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import ProgrammingError, connections
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Lower, Replace
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import WhereNode

from accounts.scoping import can_manage_domain, is_superadmin, scoped
from aliases.models import Alias
from core.listing.pagination import ListQuerySet, by_keys, counted_by
from domains import counters
from domains.models import AliasDomain, Domain
from mail.names import normalize_domain
from mailboxes.models import Mailbox
from pfa.derived import search_grams, triggers
from pfa.models import Quota2

# Up to this many managed domains are spelled out as literals in list queries (see below).
LITERAL_DOMAINS_LIMIT = 200

# How many aliases pointing at one mailbox its page lists; the rest is reached by searching.
DELIVERING_ALIASES_LIMIT = 100

# A search shows at most this many matches (20 pages of 50); past it, it asks for more words.
SEARCH_RESULTS_LIMIT = 1_000


def domain_filter_value(value: str) -> str:
    """Return the stored (punycode) form of a domain typed into a filter, or the text itself."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    try:
        return normalize_domain(text)
    except ValidationError:
        # An impossible domain simply matches nothing.
        return text


def domain_restriction(user: Any, domain: str) -> dict[str, Any] | None:
    """Return the filter on `domain` that selects exactly the user's rows of a list, or None.

    Naming the selected domain, or a domain admin's few domains, as literal values lets the
    database use its statistics and the (domain, key) indexes instead of planning for the
    scope's subquery (seconds instead of milliseconds on 200,000 rows; MariaDB planned the two
    together as a join even where the literals were there too). The literals are checked
    against the scope here, so they replace it. {} means every row (a super admin); None means
    the scope's subquery is needed (more domains than LITERAL_DOMAINS_LIMIT).
    """
    if is_superadmin(user):
        return {"domain_id": domain} if domain else {}
    if domain:
        # A domain the user does not manage selects nothing.
        return {"domain_id": domain} if can_manage_domain(user, domain) else {"pk__in": []}
    names = list(
        scoped(user, Domain)
        .order_by()
        .values_list("domain", flat=True)[: LITERAL_DOMAINS_LIMIT + 1]
    )
    if len(names) > LITERAL_DOMAINS_LIMIT:
        return None
    return {"domain_id__in": names}


def rows_within(user: Any, model: type[Any], restriction: dict[str, Any] | None) -> QuerySet:
    """Return the user's Mailbox or Alias rows that a domain_restriction() selects."""
    if restriction is None:
        return scoped(user, model)
    return model.objects.filter(**restriction)


# pg_trgm looks a LIKE pattern up by the trigrams of its runs of letters and digits: a term
# without three in a row ('zz', 'a.b') makes the trigram index read all of itself.
_TRIGRAM_RUN = re.compile(r"[A-Za-z0-9]{3}")


def searched_rows(
    user: Any,
    model: type[Any],
    restriction: dict[str, Any] | None,
    match: Q,
    texts: list[str],
) -> QuerySet:
    """Return the user's Mailbox or Alias rows that a domain_restriction() selects and that match.

    A search counts its first SEARCH_RESULTS_LIMIT + 1 matches and pages through its first
    SEARCH_RESULTS_LIMIT (SearchQuerySet). With the domain named, PostgreSQL may walk the
    domain's index testing row after row until that many match, assuming matches are spread
    evenly; where they sit together at the far end it reads most of the domain: 'sales-1' in
    400,000 alias rows 280,000 rows (50-120 ms), 'zoe' in 200,000 mailboxes 110 ms, where
    the trigram indexes find all domains' candidates in 11 and 6 ms. Neither way is always the
    cheaper: a word in nearly every row ('elsewhere', in every forwarding alias) has a million
    candidates (160 ms) and is found at once by the walk (6 ms). So the planner's own
    estimates choose by the fewer rows in the worst case: where it would find the match's rows
    of all domains through the trigram indexes and expects fewer of them than the domain has
    rows, the domain is compared as an expression no index answers, which leaves the trigram
    indexes as the way in (for the count and for the pages); otherwise the planner keeps its
    own choice. The same rows either way; MariaDB and SQLite, which have no trigram index, and
    lists without a named domain are left as they are.
    """
    unindexed = _domain_past_the_index(model, restriction, match, texts)
    if unindexed is not None:
        return model.objects.filter(unindexed).filter(match)
    return rows_within(user, model, restriction).filter(match)


def _domain_past_the_index(
    model: type[Any], restriction: dict[str, Any] | None, match: Q, texts: list[str]
) -> Exact | In | None:
    """Return the restriction with the domain as an unindexed expression where PostgreSQL
    finds the match's rows of all domains by index and expects fewer than the domains' rows,
    else None (also where the trigram indexes are missing, as in an adopted database)."""
    if connections[model.objects.db].vendor != "postgresql":
        return None
    if not restriction or set(restriction) not in ({"domain_id"}, {"domain_id__in"}):
        return None
    if restriction.get("domain_id__in") == []:
        return None  # No domain: nothing to find, and no plan to ask for.
    if not all(_TRIGRAM_RUN.search(text) for text in texts):
        return None
    # Both plans always: a search page runs the same number of queries whatever they say.
    candidates = _plan(model.objects.filter(match).order_by())
    domain_rows = _plan(model.objects.filter(**restriction).order_by())
    if not _found_by_index(candidates) or candidates["Plan Rows"] >= domain_rows["Plan Rows"]:
        return None
    domain = _Unindexed(F("domain_id"))
    if "domain_id" in restriction:
        return Exact(domain, restriction["domain_id"])
    return In(domain, restriction["domain_id__in"])


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


def shown_domains(user: Any, domain: str) -> QuerySet[Domain]:
    """Return the domains whose rows a list shows: the selected one (if the user's) or all."""
    domains = scoped(user, Domain)
    return domains.filter(domain=domain) if domain else domains


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
            return terms
        terms.append(f"{local}{sep}{encoded}")
    return terms


class _Unindexed(Func):
    """A text column's own value, as an expression no index returns in order."""

    template = "(%(expressions)s || '')"
    output_field = TextField()


class _AmongKeys(Func):
    """`key = ANY(ARRAY(subquery))`: the rows whose key a subquery returns (PostgreSQL).

    As `key IN (...)` the planner estimates each of up to 1,000 keys: a list of literals took
    4.5 ms to plan, and a subquery with LIMIT 1000 was expected to return 1,000 rows, which
    at 110,000 mailboxes it rather hashed and matched against the whole table (15-30 ms)
    than looked up; the keys as an array it looks up in the primary key's index (2 ms).
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple]:
        key, keys = self.get_source_expressions()
        key_sql, key_params = compiler.compile(key)
        keys_sql, keys_params = compiler.compile(keys)
        return f"{key_sql} = ANY(ARRAY{keys_sql})", (*key_params, *keys_params)


class SearchQuerySet(ListQuerySet):
    """Search results, at most SEARCH_RESULTS_LIMIT of them, sorted after matching on PostgreSQL.

    Counting every match of a common word ('anna': 12,500 of 200,000 mailboxes) cost 74 ms,
    and sorting them as much again. The paginator's count stops at SEARCH_RESULTS_LIMIT + 1;
    past the limit the list says there are more and shows the first SEARCH_RESULTS_LIMIT
    matches (on PostgreSQL the first the trigram index finds, then sorted; elsewhere the first
    in order), so a search costs what 1,000 matches cost, however common its word.

    On PostgreSQL the count reads the keys of those matches instead of counting them, and a
    page is then sorted from those keys alone, looked up by the primary key: finding the
    matches is the expensive part (the trigram indexes hand over every candidate of every
    domain, 25 ms for 'hartmann.12' at a million mailboxes), and it is done once, not again
    for the page. The page orders by an expression no index provides, which sorts exactly
    like the column, so that only the matches are sorted: with `ORDER BY username LIMIT 50`
    PostgreSQL preferred walking the (domain, username) index testing every row until 50
    matched (96,000 rows, 43 ms, for 4,000 matches that all sort last).
    SQLite has no such index: there a search counts, and a page is a slice.
    On MariaDB/MySQL the project's trigram tables (pfa.derived.search_grams), where installed, name
    the candidate rows (`_grams`): count() keeps the keys of the first SEARCH_RESULTS_LIMIT + 1
    of them that really match, and a page is those rows, looked up by key and sorted.
    """

    @property
    def capped(self) -> bool:
        """Tell whether count() found more matches than a search shows."""
        return self._matches is not None and self._matches > SEARCH_RESULTS_LIMIT

    @property
    def holds_more(self) -> bool:
        """Tell whether more matches exist than the ones shown (so no reading from the end)."""
        return self.capped

    FACTS = ("_matches", "_keys", "_grams")
    _matches: int | None = None
    _keys: list[Any] | None = None
    _grams: GramSearch | None = None

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
        source = self
        postgresql = connections[self.db].vendor == "postgresql"
        if self._keys is not None and isinstance(key, slice):
            # The matches the count found (the first ones the index found, when capped).
            plain = QuerySet(model=self.model, query=self.query.chain(), using=self.db)
            # A deep page asks for values_list("pk") first: keep what the rows are made into.
            plain._iterable_class, plain._fields = self._iterable_class, self._fields
            if not postgresql:
                return QuerySet.__getitem__(by_keys(plain, self._keys), key)
            source = plain.all()
            # The keys chose the rows by the queryset's own conditions (as in by_keys).
            source.query.where = WhereNode()
            keys = RawSQL("SELECT unnest(%s::text[])", (self._keys,))
            source = source.filter(_AmongKeys(F("pk"), keys))
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

    `kind` is the indexed table, `terms` the lower-cased forms of the search, `domains` the
    list's domains when it names them (None: all, or those of a scope checked by the list's own
    condition). The candidates are only ever a lead: the list's condition picks the matches,
    `verify` when given: the list's condition without its domain restriction, which the
    candidates already meet (with `domain = X AND username IN (...)` MariaDB reads the whole
    domain's index, 20-50 ms, instead of looking the candidates up).
    """

    # More candidates than this: read the rows instead (the grams say too little).
    CANDIDATES = 20_000

    def __init__(
        self,
        kind: int,
        terms: list[str],
        restriction: dict[str, Any] | None,
        verify: QuerySet,
    ) -> None:
        self.kind, self.terms = kind, terms
        self.domains = listed_domains(restriction)
        # Without a literal restriction (the scope's subquery) the list's own rows verify.
        self.verify = verify if restriction is not None else None

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

    @staticmethod
    def _keep_matching(rows: QuerySet, leads: list[Any], found: dict) -> None:
        for key in rows.filter(pk__in=leads).values_list("pk", flat=True):
            found[key] = None


def search_queryset(qs: QuerySet, grams: GramSearch | None = None) -> SearchQuerySet:
    """Return the same rows as a SearchQuerySet (found through the trigram tables if given)."""
    return SearchQuerySet.of(qs, _grams=grams)


def listed_domains(restriction: dict[str, Any] | None) -> list[str] | None:
    """Return the domains a domain_restriction() names, or None when it names none."""
    if not restriction:
        return None
    if "domain_id" in restriction:
        return [restriction["domain_id"]]
    if "domain_id__in" in restriction:
        return list(restriction["domain_id__in"])
    return []


def mailbox_list(user: Any, filters: dict[str, Any]) -> QuerySet[Mailbox]:
    """Return the user's mailboxes matching `q` (address or name) and `domain`, with usage.

    On PostgreSQL the trigram indexes of pfa.derived.indexes find the matches (see SearchQuerySet).
    """
    domain = domain_filter_value(filters.get("domain") or "")
    restriction = domain_restriction(user, domain)
    q = (filters.get("q") or "").strip()
    if q:
        # icontains is UPPER(name) LIKE UPPER(...) on PostgreSQL: the name index is on upper().
        match = Q(name__icontains=q)
        terms = address_search_terms(q)
        for term in terms:
            match |= Q(username__contains=term)
        grams = GramSearch(search_grams.MAILBOX, terms, restriction, Mailbox.objects.filter(match))
        qs = search_queryset(searched_rows(user, Mailbox, restriction, match, [q, *terms]), grams)
    else:
        qs = rows_within(user, Mailbox, restriction)
    # Usage comes from Dovecot's quota dict when it fills quota2; one subquery, not one per row.
    used = Quota2.objects.filter(username=OuterRef("username")).values("bytes")[:1]
    qs = qs.annotate(used_bytes=Subquery(used)).order_by("username")
    if q:
        return qs

    def counted_total() -> int | None:
        # The domain counters instead of COUNT(*) over the domain's index entries.
        totals = counters.totals(shown_domains(user, domain))
        return None if totals is None else totals[0]

    return counted_by(qs, counted_total)


def mailbox_used_bytes(mailbox: Mailbox) -> int | None:
    """Return what Dovecot reports as used by the mailbox, or None when it reports nothing."""
    return Quota2.objects.filter(username=mailbox.username).values_list("bytes", flat=True).first()


@dataclass(frozen=True)
class DeliveringAliases:
    """The aliases that deliver to a mailbox: its own domain's, listed; other domains', counted."""

    # Of the mailbox's domain (its own alias row left out), by address, at most
    # DELIVERING_ALIASES_LIMIT; `more` tells that the domain has further ones.
    listed: list[Alias]
    more: bool
    # How many aliases of other domains deliver to it (up to limit + 1, which reads "more than
    # the limit"), never which; None on an admin's page.
    elsewhere: int | None
    limit: int


def _delivering(aliases: QuerySet[Alias], address: str) -> QuerySet[Alias]:
    """Narrow aliases to those whose destination list names the address as a whole element.

    The address is matched in any case and with spaces around the commas, as Postfix reads the
    list, but never as part of another address ("jimbob@x" or "bob@x.org" are not "bob@x").
    """
    # goto is unindexable text, so both conditions scan the rows the queryset's others leave.
    # A plain LIKE (ILIKE on PostgreSQL, whose LIKE minds case; MariaDB's collation and
    # SQLite's LIKE do not) cheaply keeps the rows holding the address anywhere: LOWER() and
    # REPLACE() on every row tripled the time of a 200,000-alias domain. Unescaped, "_" and
    # "%" only widen it. The list as ",a,b," (lower case, no spaces) then holds ",address,"
    # exactly when an element is the address, compared byte for byte.
    connection = connections[aliases.db]
    operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    column = (
        f"{connection.ops.quote_name(Alias._meta.db_table)}.{connection.ops.quote_name('goto')}"
    )
    pattern = "%" + address.replace("\\", "_") + "%"
    loosely = RawSQL(f"{column} {operator} %s", [pattern])  # noqa: S611 - constants, bound value
    text = TextField()
    comma = Value(",", output_field=text)
    spaceless = Replace(
        Lower("goto"),
        Value(" ", output_field=text),
        Value("", output_field=text),
        output_field=text,
    )
    elements = Concat(comma, spaceless, comma, output_field=text)
    return (
        aliases.filter(ExpressionWrapper(loosely, output_field=BooleanField()))
        .alias(goto_elements=elements)
        .filter(goto_elements__contains=f",{address},")
    )


def aliases_delivering_to(mailbox: Mailbox, *, user: Any = None) -> DeliveringAliases:
    """Return the aliases delivering to a mailbox: its own domain's listed, others' only counted.

    `user` is the admin looking, whose scope applies, or None for the mailbox's owner, who sees
    the aliases of the mailbox's domain and only a count of those of other domains.
    """
    address = mailbox.username.lower()
    limit = DELIVERING_ALIASES_LIMIT
    if user is not None:
        # The domain's index keeps the scan to the one domain.
        own = _delivering(scoped(user, Alias).filter(domain_id=mailbox.domain_id), address)
        found = list(own.exclude(address=address).order_by("address")[: limit + 1])
        return DeliveringAliases(
            listed=found[:limit], more=len(found) > limit, elsewhere=None, limit=limit
        )
    # Other domains are counted as well, so one scan of every alias row serves both: scanning
    # the domain and then every other one read most rows twice.
    matches = (
        _delivering(Alias.objects.all(), address)
        .exclude(address=address)
        .only("address", "domain", "active")
        .order_by("address")
    )
    listed: list[Alias] = []
    elsewhere = 0
    for alias in matches.iterator():
        if alias.domain_id != mailbox.domain_id:
            elsewhere += 1
        elif len(listed) <= limit:
            listed.append(alias)
        if len(listed) > limit and elsewhere > limit:
            break
    return DeliveringAliases(
        listed=listed[:limit],
        more=len(listed) > limit,
        elsewhere=min(elsewhere, limit + 1),
        limit=limit,
    )


def mailbox_for_login(address: str) -> Mailbox | None:
    """Return the mailbox for a typed address, with its domain, or None when there is none."""
    return Mailbox.objects.select_related("domain").filter(username=address).first()


def mailbox_alias_domains(mailbox: Mailbox) -> list[str]:
    """Return the other addresses this mailbox receives through active alias domains."""
    names = AliasDomain.objects.filter(target_domain_id=mailbox.domain_id, active=True).values_list(
        "alias_domain_id", flat=True
    )
    return [f"{mailbox.local_part}@{name}" for name in names.order_by("alias_domain_id")]
