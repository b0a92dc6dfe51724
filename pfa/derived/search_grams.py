# ruff: noqa: S608 (every statement is built from this module's constants; values are bound)
"""A trigram index for the lists' substring searches on MariaDB/MySQL, as trigger-maintained tables.

PostgreSQL answers `LIKE '%term%'` from its pg_trgm indexes (pfa.derived.indexes); MariaDB and
MySQL have no index for it, so a search read every row of the domain. This module keeps that
index as two project tables, a TriggerTable (pfa.derived.triggers) named SEARCH_TABLES:

- `vimbadmin_search_row` numbers the indexed rows (kind 1 = a mailbox by username, kind 2 = an
  alias by address), so a posting is 12 bytes of key instead of an address;
- `vimbadmin_search_gram` holds one row per distinct three-character piece (gram) of a row's
  searchable text, and per four-character piece that holds a digit (see DIGIT_GRAM), keyed
  (kind, gram, CRC32 of the row's domain, row number), the gram itself as an integer (see
  piece()): the rows that contain all the grams of a search term are found by joining a few
  postings, in one domain or in all of them.

The searchable text is what the lists match, lower-cased and cut where the lists' matches cannot
cross:

- mailbox: the address's local part with its '@' (`anna.becker.17@`), and the name;
- alias: the address's local part with its '@', and the destinations (goto) unless they are the
  address itself (a mailbox's own alias row), which the address already covers.

The domain part of an address is the row's domain (Postfix Admin and this project write them
so); a term that may lie in it is answered by the domain instead (see `plan()`), which saves
16 grams a row. Grams are keyed by their weight in the name column's collation, so a term's
grams match wherever the list's `LIKE` would (accents and case included); a row that contains
the grams but not the term is dropped by the list's own condition, which always runs on the
real rows.

Triggers on `mailbox` and `alias` keep both tables exact for every writer (Postfix Admin,
scripts, this project); their bodies use only core SQL, no stored routines. MariaDB runs
several triggers per event, so nobody's own triggers are replaced. How they are installed,
checked and upgraded is pfa.derived.triggers'; the read side (plan, choose, candidates) is
below, and the lists' search (GramSearch) decides when to use it. Sizes and timings:
bench/RESULTS.md.
"""

from __future__ import annotations

import time
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from pfa.derived.triggers import (
    Column,
    IncompleteFill,
    Progress,
    Table,
    Trigger,
    TriggerTable,
    installed_cached,
    remembered,
)

ROW_TABLE = "vimbadmin_search_row"
GRAM_TABLE = "vimbadmin_search_gram"
MAILBOX, ALIAS = 1, 2
GRAM = 3
# Pieces of four characters are kept too where they hold a digit: numbers tell addresses apart
# (a digit piece is in far fewer rows than the three-character pieces around it), so a term
# with digits is found from a much shorter posting list.
DIGIT_GRAM = 4
HAS_DIGIT = "'[0-9]'"

# The searchable parts of a row, as SQL over the row `{r}` (NEW, OLD or a table alias).
_LOCAL = "CONCAT(LOWER(SUBSTRING_INDEX({r}.{key}, '@', 1)), '@')"
PARTS = {
    MAILBOX: ("mailbox", "username", (_LOCAL, "LOWER({r}.name)")),
    ALIAS: (
        "alias",
        "address",
        (_LOCAL, "IF(BINARY {r}.goto = BINARY {r}.address, '', LOWER({r}.goto))"),
    ),
}
# The columns whose change re-indexes a row.
WATCHED = {MAILBOX: ("username", "name", "domain"), ALIAS: ("address", "goto", "domain")}
# Rows per statement when indexing existing rows.
BUILD_CHUNK = 20_000


def piece(text: str, at: str, length: int = GRAM) -> str:
    """Return SQL for the key of the gram of `text` (a column or variable) at position `at`.

    The key is the CRC32 of the gram's weight string in its collation: grams equal in the
    collation (case and accents, as the lists' LIKE compares them) share a key, and keys are
    integers, which the index compares much faster than collated text (the joins of a search
    probe the index once per row). Two grams may share a key by chance: the list's condition,
    which always runs on the candidates, drops what that lets in.
    """
    return f"CRC32(WEIGHT_STRING(SUBSTRING({text}, {at}, {length})))"


def term_piece(connection: BaseDatabaseWrapper) -> str:
    """Return SQL for the key of a gram of a search term, given as a parameter."""
    return f"CRC32(WEIGHT_STRING(CONVERT(%s USING utf8mb4) COLLATE {gram_collation(connection)}))"


def gram_collation(connection: BaseDatabaseWrapper) -> str:
    """Return the collation grams are keyed in (see collation()), remembered like the answer to
    "is it installed?" (pfa.derived.triggers.remembered, reset by forget())."""
    return remembered(connection, "search collation", lambda: collation(connection))


def supported(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether the connection's engine uses this index (MariaDB and MySQL)."""
    return connection.vendor in SEARCH_TABLES.vendors


def collation(connection: BaseDatabaseWrapper) -> str:
    """Return the utf8mb4 collation the grams are weighed in: the name column's, as the lists'
    `LIKE` compares names, or utf8mb4_unicode_ci where that column is not utf8."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mailbox' AND COLUMN_NAME = 'name'"
        )
        found = cursor.fetchone()
    charset, name = found if found and found[1] else (None, None)
    if charset == "utf8mb4":
        return name
    if charset in ("utf8", "utf8mb3"):
        # The same rules over the wider character set the grams are weighed in.
        return "utf8mb4_" + name.split("_", 1)[1]
    return "utf8mb4_unicode_ci"


def _grams_loop(kind: int, row: str, write: str) -> str:
    """Return trigger statements that insert or delete the grams of row's parts (`rid` set)."""
    _table, key, parts = PARTS[kind]
    statements = [f"SET c = CRC32(LOWER({row}.domain));"]

    def change(length: int) -> str:
        if write == "insert":
            return (
                f"INSERT IGNORE INTO {GRAM_TABLE} (kind, gram, domain_crc, row_id)"
                f" VALUES ({kind}, {piece('t', 'i', length)}, c, rid);"
            )
        return (
            f"DELETE FROM {GRAM_TABLE} WHERE kind = {kind}"
            f" AND gram = {piece('t', 'i', length)} AND domain_crc = c AND row_id = rid;"
        )

    digits = (
        f"IF i <= CHAR_LENGTH(t) - {DIGIT_GRAM - 1} AND SUBSTRING(t, i, {DIGIT_GRAM})"
        f" REGEXP {HAS_DIGIT} THEN {change(DIGIT_GRAM)} END IF;"
    )
    for part in parts:
        statements += [
            f"SET t = {part.format(r=row, key=key)};",
            "SET i = 1;",
            f"WHILE i <= CHAR_LENGTH(t) - {GRAM - 1} DO {change(GRAM)} {digits}"
            " SET i = i + 1; END WHILE;",
        ]
    return " ".join(statements)


def _add(kind: int, row: str) -> str:
    key = PARTS[kind][1]
    return (
        f"INSERT INTO {ROW_TABLE} (kind, address) VALUES ({kind}, {row}.{key})"
        " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);"
        " SET rid = LAST_INSERT_ID(); " + _grams_loop(kind, row, "insert")
    )


def _remove(kind: int, row: str) -> str:
    key = PARTS[kind][1]
    return (
        f"SET rid = (SELECT id FROM {ROW_TABLE} WHERE kind = {kind} AND address = {row}.{key});"
        " IF rid IS NOT NULL THEN " + _grams_loop(kind, row, "delete") + f" DELETE FROM"
        f" {ROW_TABLE} WHERE id = rid; END IF;"
    )


def _trigger(kind: int, event: str) -> Trigger:
    """Return one of the index's triggers; its body uses the placeholder `{collation}`."""
    table = PARTS[kind][0]
    declare = (
        "DECLARE t TEXT CHARACTER SET utf8mb4 COLLATE {collation};"
        " DECLARE i INT; DECLARE c INT UNSIGNED; DECLARE rid INT UNSIGNED DEFAULT NULL;"
    )
    if event == "INSERT":
        body = _add(kind, "NEW")
    elif event == "DELETE":
        body = _remove(kind, "OLD")
    else:
        changed = " OR ".join(f"NOT (BINARY NEW.{c} <=> BINARY OLD.{c})" for c in WATCHED[kind])
        body = f"IF {changed} THEN {_remove(kind, 'OLD')} {_add(kind, 'NEW')} END IF;"
    name = f"vimb_search_{table}_{event[0].lower()}"
    return Trigger(name, table, event, f"BEGIN {declare} {body} END")


def _chunks(
    connection: BaseDatabaseWrapper, table: str, key: str, size: int
) -> Iterator[tuple[str | None, str]]:
    """Yield (after, upto) key bounds that cut the table into chunks of `size` rows; the first
    chunk's `after` is None (it starts at the first row, whatever its key)."""
    after: str | None = None
    with connection.cursor() as cursor:
        while True:
            above = "" if after is None else f" WHERE {key} > %s"
            cursor.execute(
                f"SELECT MAX({key}) FROM (SELECT {key} FROM {table}{above}"
                f" ORDER BY {key} LIMIT {int(size)}) AS chunk",
                [] if after is None else [after],
            )
            upto = cursor.fetchone()[0]
            if upto is None:
                return
            yield after, upto
            after = upto


def _within(key: str, after: str | None, upto: str | None) -> tuple[str, list[str]]:
    """Return the condition on `x.{key}` for a chunk's bounds (none: every row), and its values."""
    if upto is None:
        return "1 = 1", []
    if after is None:
        return f"x.{key} <= %s", [upto]
    return f"x.{key} > %s AND x.{key} <= %s", [after, upto]


def _text(kind: int, part: str, weighed_in: str) -> str:
    _table, key, _parts = PARTS[kind]
    return f"CONVERT({part.format(r='x', key=key)} USING utf8mb4) COLLATE {weighed_in}"


def _unfilled_sql(kind: int, weighed_in: str, within: str) -> str:
    """Return SQL that counts the rows (of a chunk) without their number, or without the first
    or the last gram of one of their parts: each checked by one probe of the primary key."""
    table, key, parts = PARTS[kind]
    lacking = ["r.id IS NULL"]
    for part in parts:
        text = _text(kind, part, weighed_in)
        for at in ("1", f"CHAR_LENGTH({text}) - {GRAM - 1}"):
            lacking.append(
                f"(CHAR_LENGTH({text}) >= {GRAM} AND NOT EXISTS (SELECT 1 FROM {GRAM_TABLE} g"
                f" WHERE g.kind = {kind} AND g.gram = {piece(text, at)}"
                f" AND g.domain_crc = CRC32(LOWER(x.domain)) AND g.row_id = r.id))"
            )
    return (
        f"SELECT COUNT(*) FROM {table} x LEFT JOIN {ROW_TABLE} r ON r.kind = {kind}"
        f" AND r.address = x.{key} WHERE {within} AND ({' OR '.join(lacking)})"
    )


@dataclass(frozen=True, kw_only=True)
class SearchTables(TriggerTable):
    """The search index's two tables and six triggers, filled by indexing the existing rows."""

    chunk: int = BUILD_CHUNK  # rows of a source table indexed per statement

    def placeholders(self, connection: BaseDatabaseWrapper) -> dict[str, str]:
        """Return the collation the triggers weigh grams in."""
        return {"collation": gram_collation(connection)}

    def fill(self, connection: BaseDatabaseWrapper, progress: Progress | None = None) -> int:
        """Index every existing row, a chunk at a time; return the rows numbered.

        Runs after the triggers exist, so a row written meanwhile is indexed by its trigger or
        by this, possibly both (the inserts ignore duplicates). Each chunk commits on its own
        and is then checked (see unfilled()); a chunk found incomplete is indexed once more,
        and IncompleteFill is raised if it still is.
        """
        numbered = 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT GREATEST(COALESCE((SELECT MAX(CHAR_LENGTH(goto)) FROM alias), 0),"
                " COALESCE((SELECT MAX(CHAR_LENGTH(name)) FROM mailbox), 0), 255)"
            )
            longest = int(cursor.fetchone()[0]) + 1
            cursor.execute("DROP TEMPORARY TABLE IF EXISTS vimb_search_positions")
            cursor.execute("CREATE TEMPORARY TABLE vimb_search_positions (n INT PRIMARY KEY)")
            for start in range(1, longest + 1, 1000):
                values = ",".join(f"({n})" for n in range(start, min(start + 1000, longest + 1)))
                cursor.execute(f"INSERT INTO vimb_search_positions (n) VALUES {values}")
            weighed_in = gram_collation(connection)
            for kind, (table, key, _parts) in PARTS.items():
                started = time.monotonic()
                for after, upto in _chunks(connection, table, key, self.chunk):
                    within, bounds = _within(key, after, upto)
                    numbered += self._fill_chunk(cursor, kind, weighed_in, within, bounds)
                    check = _unfilled_sql(kind, weighed_in, within)
                    cursor.execute(check, bounds)
                    if cursor.fetchone()[0]:
                        self._fill_chunk(cursor, kind, weighed_in, within, bounds)
                        cursor.execute(check, bounds)
                        left = int(cursor.fetchone()[0])
                        if left:
                            raise IncompleteFill(self.label, {table: left})
                if progress is not None:
                    progress(table, time.monotonic() - started)
            cursor.execute("DROP TEMPORARY TABLE IF EXISTS vimb_search_positions")
        return numbered

    def _fill_chunk(
        self, cursor: Any, kind: int, weighed_in: str, within: str, bounds: list[str]
    ) -> int:
        """Number and index the rows of one chunk of a kind; return how many were numbered."""
        table, key, parts = PARTS[kind]
        cursor.execute(
            f"INSERT IGNORE INTO {ROW_TABLE} (kind, address)"
            f" SELECT {kind}, x.{key} FROM {table} x WHERE {within}",
            bounds,
        )
        numbered = max(cursor.rowcount, 0)
        for part in parts:
            text = _text(kind, part, weighed_in)
            for length, only in ((GRAM, ""), (DIGIT_GRAM, " AND {} REGEXP " + HAS_DIGIT)):
                cursor.execute(
                    f"INSERT IGNORE INTO {GRAM_TABLE} (kind, gram, domain_crc, row_id)"
                    f" SELECT {kind}, {piece('s.t', 'p.n', length)}, s.c, s.id FROM"
                    f" (SELECT r.id, CRC32(LOWER(x.domain)) AS c, {text} AS t"
                    f" FROM {table} x JOIN {ROW_TABLE} r ON r.kind = {kind}"
                    f" AND r.address = x.{key} WHERE {within}) AS s JOIN"
                    f" vimb_search_positions p"
                    f" ON p.n <= CHAR_LENGTH(s.t) - {length - 1}"
                    + only.format(f"SUBSTRING(s.t, p.n, {length})"),
                    bounds,
                )
        return numbered

    def unfilled(self, connection: BaseDatabaseWrapper) -> dict[str, int]:
        """Return how many mailboxes and aliases are not numbered or lack the first or the last
        gram of their address or of their name or destinations (only kinds with such rows).

        A point check, not a full comparison: it costs a few primary-key probes a row (seconds
        at 100,000 mailboxes) and finds what a fill can lose, whole rows or a statement's grams.
        """
        weighed_in = gram_collation(connection)
        out = {}
        with connection.cursor() as cursor:
            for kind, (table, _key, _parts) in PARTS.items():
                cursor.execute(_unfilled_sql(kind, weighed_in, "1 = 1"))
                count = int(cursor.fetchone()[0])
                if count:
                    out[table] = count
        return out

    def fill_script(self) -> list[str]:
        """The rows are indexed by the command, in chunks."""
        return ["-- Then index the existing rows: `manage.py install_derived --search --apply`."]


_INT = "INT UNSIGNED"
SEARCH_TABLES = SearchTables(
    name=GRAM_TABLE,
    label=f"the search tables {ROW_TABLE} and {GRAM_TABLE}",
    purpose="mailbox and alias searches",
    tables=(
        Table(
            ROW_TABLE,
            (
                Column("id", type=_INT, extra="AUTO_INCREMENT"),
                Column("kind", type="TINYINT UNSIGNED"),
                Column("address", like=("mailbox", "username")),
            ),
            ("PRIMARY KEY (`id`)", "UNIQUE KEY `vimb_search_row_address` (`kind`, `address`)"),
        ),
        Table(
            GRAM_TABLE,
            (
                Column("kind", type="TINYINT UNSIGNED"),
                Column("gram", type=_INT),
                Column("domain_crc", type=_INT),
                Column("row_id", type=_INT),
            ),
            ("PRIMARY KEY (`kind`, `gram`, `domain_crc`, `row_id`)",),
        ),
    ),
    triggers=tuple(
        _trigger(kind, event) for kind in PARTS for event in ("INSERT", "UPDATE", "DELETE")
    ),
    search=True,
)


def usable(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether searches may use the tables (asked of the database every few minutes)."""
    return installed_cached(SEARCH_TABLES, connection)


def domain_crc(domain: str) -> int:
    """Return the CRC32 the index keys a domain by (of its lower-case UTF-8 form)."""
    return zlib.crc32(domain.lower().encode("utf-8"))


def grams(term: str) -> list[str]:
    """Return the distinct grams of a lower-cased term, in order (none under three characters):
    its three-character pieces, then its four-character ones that hold a digit."""
    seen: dict[str, None] = {}
    for i in range(len(term) - GRAM + 1):
        seen.setdefault(term[i : i + GRAM], None)
    for i in range(len(term) - DIGIT_GRAM + 1):
        if any(c in "0123456789" for c in term[i : i + DIGIT_GRAM]):
            seen.setdefault(term[i : i + DIGIT_GRAM], None)
    return list(seen)


@dataclass(frozen=True)
class Probe:
    """One way rows can match a term: they contain all `grams`; or their domain is one of
    `domains` or starts with `domain_prefix` (rows that may match by their domain part)."""

    grams: tuple[str, ...] = ()
    domain_prefix: str | None = None
    domains: tuple[str, ...] = ()


# Grams joined per probe: any subset of a term's grams finds every row that contains the term.
JOINED_GRAMS = 3
# Postings counted per gram to find the rarest (a count stops there).
COUNTED_POSTINGS = 500


def plan(terms: list[str], domains: list[str]) -> list[Probe] | None:
    """Return the probes whose rows include every row that matches one of the terms, or None.

    `terms` are the lower-cased forms of a search (mailbox: address or name, alias: address or
    destinations); `domains` are the domains of the list's rows whose name contains a term
    without '@' (their addresses match by their domain part). None means a term is too short
    for grams: the list reads its rows instead.
    """
    probes: list[Probe] = []
    for term in terms:
        if len(term) < GRAM or any(unicodedata.combining(c) for c in term):
            # Too short for a gram; or a combining mark ('İ'.lower() is 'i' and a dot), where
            # Python's lower case and the database's could cut the text into other grams.
            return None
        probes.append(Probe(grams=tuple(grams(term))))
        local, at, domain = term.partition("@")
        if not at:
            continue
        if "@" in domain:
            continue  # No address has two '@': only names or destinations can match.
        # The address's local part ends with `local`, its domain starts with `domain`.
        local_grams = grams(local + "@")
        if local_grams:
            probes.append(Probe(grams=tuple(local_grams)))
        elif domain:
            probes.append(Probe(domain_prefix=domain))
        else:
            return None
    if domains:
        probes.append(Probe(domains=tuple(domains)))
    return probes


def _domain_condition(alias: str, domains: list[str] | None) -> tuple[str, list[int]]:
    if domains is None:
        return "", []
    crcs = sorted({domain_crc(d) for d in domains}) or [0]
    return f" AND {alias}.domain_crc IN ({', '.join(['%s'] * len(crcs))})", crcs


def choose(
    connection: BaseDatabaseWrapper,
    kind: int,
    term_grams: tuple[str, ...],
    domains: list[str] | None,
) -> tuple[tuple[str, ...], bool]:
    """Return the grams to join, rarest first, or () when one of them has no posting at all, and
    whether the first is known to be the rarest (else the optimizer's estimates pick the order).

    Neighbouring grams of a term are nearly always found together ('har', 'art', 'rtm' in every
    'hartmann'), so joining them filters nothing: the rarest gram leads, and the others joined
    are the next rarest, the farthest from those already chosen among equally rare ones
    ('hartmann.12': 'har', '.12', 'man'), none overlapping another. Rarity is counted up to
    COUNTED_POSTINGS per gram, in one query.
    """
    if len(term_grams) == 1:
        return term_grams, True
    where, crcs = _domain_condition("g", domains)
    parts, params = [], []
    for n, gram in enumerate(term_grams):
        parts.append(
            f"(SELECT {n} AS n FROM {GRAM_TABLE} g WHERE g.kind = %s"
            f" AND g.gram = {term_piece(connection)}{where} LIMIT %s)"
        )
        params += [kind, gram, *crcs, COUNTED_POSTINGS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT n, COUNT(*) FROM ({' UNION ALL '.join(parts)}) AS p GROUP BY n", params
        )
        counts = dict(cursor.fetchall())
    # Where each gram starts in the term (a four-character one where its first three do).
    position = {gram: term_grams.index(gram[:GRAM]) for gram in term_grams}
    rarity = {g: counts.get(n, 0) for n, g in enumerate(term_grams)}
    if min(rarity.values()) == 0:
        return (), True
    chosen: list[str] = []
    while len(chosen) < min(JOINED_GRAMS, len(term_grams)):
        # The rarest, and among equally rare (or uncounted) ones the farthest from those chosen.
        left = [g for g in term_grams if g not in chosen]
        gram = min(
            left,
            key=lambda g: (
                rarity[g],
                # Uncounted, the first is the digit piece with most digits if there is one,
                # the others the farthest from those chosen.
                -min(
                    (abs(position[g] - position[c]) for c in chosen),
                    default=len(g) + sum(c in "0123456789" for c in g),
                ),
                position[g],
            ),
        )
        if chosen and min(abs(position[gram] - position[c]) for c in chosen) < GRAM:
            # It overlaps a chosen gram: found together with it, it filters little, except in
            # a short term ('ann' and 'nna': 'anna', not 'hartmann').
            if len(chosen) == 1:
                chosen.append(gram)
            break
        chosen.append(gram)
    return tuple(chosen), rarity[chosen[0]] < COUNTED_POSTINGS


def candidates(
    connection: BaseDatabaseWrapper,
    kind: int,
    probe_grams: tuple[str, ...],
    domains: list[str] | None,
    limit: int,
    offset: int = 0,
    ordered: bool = True,
) -> list[str]:
    """Return up to `limit` keys of rows that contain all the grams (of these domains if given),
    joined in the order given if `ordered` (see choose()), else in the optimizer's.

    In no defined order; `offset` skips that many of the same query's rows (it runs in the same
    plan over unchanged postings, so batches follow each other; a row written meanwhile may be
    missed or met twice, as in any search racing a write).
    """
    joins, params = [], []
    join = "STRAIGHT_JOIN" if ordered else "JOIN"
    for n, gram in enumerate(probe_grams[1:], start=2):
        joins.append(
            f" {join} {GRAM_TABLE} g{n} ON g{n}.kind = g1.kind"
            f" AND g{n}.gram = {term_piece(connection)}"
            f" AND g{n}.domain_crc = g1.domain_crc AND g{n}.row_id = g1.row_id"
        )
        params.append(gram)
    joins.append(f" STRAIGHT_JOIN {ROW_TABLE} r ON r.id = g1.row_id")
    if domains is not None:
        # The CRC narrows the postings; the row's own domain decides (CRCs may collide).
        table, key, _parts = PARTS[kind]
        names = ", ".join(["%s"] * len(domains)) if domains else "NULL"
        joins.append(f" STRAIGHT_JOIN {table} x ON x.{key} = r.address AND x.domain IN ({names})")
        params += domains
    where, crcs = _domain_condition("g1", domains)
    sql = (
        f"SELECT r.address FROM {GRAM_TABLE} g1{''.join(joins)}"
        f" WHERE g1.kind = %s AND g1.gram = {term_piece(connection)}{where} LIMIT %s OFFSET %s"
    )
    params += [kind, probe_grams[0], *crcs]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [row[0] for row in cursor.fetchall()]
