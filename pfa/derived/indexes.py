"""Indexes the project's list pages need beyond Postfix Admin's own, per engine.

Postfix Admin's PostgreSQL schema indexes `mailbox`, `alias` and `log` by domain (and
domain, timestamp) only, so a domain's mailboxes in address order, a deep page and the newest
log rows make PostgreSQL sort a whole domain (or the whole log) on every page view. InnoDB
appends the primary key to every secondary index, so MySQL/MariaDB's `KEY domain (domain)` is
already (domain, username), `KEY timestamp (timestamp)` already (timestamp, id) and
`KEY domain_timestamp` already (domain, timestamp, id): nothing is needed there. What MariaDB
lacks instead is a merge join, which the alias list (a domain's aliases without the mailboxes'
own rows) needs to stay fast on deep pages: there the project keeps a trigger-maintained table
of those aliases (pfa.derived.alias_listed).

They are plain (non-unique) indexes: Postfix Admin, Postfix and Dovecot neither see nor mind them.

The search indexes are PostgreSQL trigram (pg_trgm) GIN indexes, which answer the lists'
substring searches (`LIKE '%term%'`) without reading a whole domain. They need the pg_trgm
extension (trusted since PostgreSQL 13, so the database's owner may create it). MariaDB/MySQL
has no such index; the project keeps its own there, as trigger-maintained tables
(pfa.derived.search_grams).

A fresh database gets all of them from `migrate` (pfa.derived.sync; the trigram indexes only
where the extension may be created); an adopted Postfix Admin database only from
`manage.py install_derived --apply` (with `--search` for the search ones), run by its operator.
Timings: bench/RESULTS.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class ListIndex:
    """One extra index: name, table, columns, and what it is for."""

    name: str
    table: str
    columns: tuple[str, ...]
    purpose: str

    def create_sql(self, connection: BaseDatabaseWrapper, *, concurrently: bool = False) -> str:
        """Return the CREATE INDEX statement for the connection's engine."""
        quote = connection.ops.quote_name
        cols = ", ".join(quote(c) for c in self.columns)
        how = "CONCURRENTLY " if concurrently and connection.vendor == "postgresql" else ""
        return f"CREATE INDEX {how}IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} ({cols})"


LIST_INDEXES = (
    ListIndex(
        "vimb_mailbox_domain_username",
        "mailbox",
        ("domain", "username"),
        "mailbox list of a domain in address order, first and deep pages",
    ),
    ListIndex(
        "vimb_alias_domain_address",
        "alias",
        ("domain", "address"),
        "alias list of a domain in address order, first and deep pages",
    ),
    ListIndex(
        "vimb_log_timestamp_id",
        "log",
        ("timestamp", "id"),
        "log page of all domains, newest first",
    ),
    ListIndex(
        "vimb_log_domain_timestamp_id",
        "log",
        ("domain", "timestamp", "id"),
        "log page of one domain, newest first, first and deep pages",
    ),
)

# InnoDB's secondary indexes already end with the primary key (see the module docstring).
VENDORS = ("postgresql", "sqlite")


def wanted(connection: BaseDatabaseWrapper) -> tuple[ListIndex, ...]:
    """Return the extra indexes the connection's engine needs."""
    return LIST_INDEXES if connection.vendor in VENDORS else ()


def missing(connection: BaseDatabaseWrapper) -> list[ListIndex]:
    """Return the wanted indexes whose columns no existing index starts with, in order."""
    out = []
    with connection.cursor() as cursor:
        constraints = {
            table: connection.introspection.get_constraints(cursor, table)
            for table in {i.table for i in wanted(connection)}
        }
    for index in wanted(connection):
        have = [
            tuple(c["columns"][: len(index.columns)])
            for c in constraints[index.table].values()
            if c.get("index") or c.get("primary_key") or c.get("unique")
        ]
        if index.columns not in have:
            out.append(index)
    return out


@dataclass(frozen=True)
class SearchIndex:
    """One trigram index: name, table, indexed expression and what it is for.

    The expression is spelled as PostgreSQL prints it back, and must be the one the list's
    query compares: Django's `icontains` is `UPPER("name"::text) LIKE UPPER(...)`, so the
    name index is on `upper((name)::text)`; `contains` compares the plain column.
    """

    name: str
    table: str
    expression: str
    purpose: str

    def create_sql(self, connection: BaseDatabaseWrapper, *, concurrently: bool = False) -> str:
        """Return the CREATE INDEX statement (PostgreSQL only)."""
        quote = connection.ops.quote_name
        how = "CONCURRENTLY " if concurrently else ""
        return (
            f"CREATE INDEX {how}IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} "
            f"USING gin ({self.expression} gin_trgm_ops)"
        )


SEARCH_INDEXES = (
    SearchIndex(
        "vimb_mailbox_username_trgm",
        "mailbox",
        "username",
        "mailbox search by address",
    ),
    SearchIndex(
        "vimb_mailbox_name_trgm",
        "mailbox",
        "upper((name)::text)",
        "mailbox search by name (any case)",
    ),
    SearchIndex(
        "vimb_alias_address_trgm",
        "alias",
        "address",
        "alias search by address",
    ),
    SearchIndex(
        "vimb_alias_goto_trgm",
        "alias",
        "goto",
        "alias search by destination",
    ),
)
TRIGRAM_EXTENSION = "pg_trgm"
CREATE_EXTENSION_SQL = f"CREATE EXTENSION IF NOT EXISTS {TRIGRAM_EXTENSION}"


def search_wanted(connection: BaseDatabaseWrapper) -> tuple[SearchIndex, ...]:
    """Return the search indexes the connection's engine can have (PostgreSQL only)."""
    return SEARCH_INDEXES if connection.vendor == "postgresql" else ()


def has_trigram_extension(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether pg_trgm is installed in the connection's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [TRIGRAM_EXTENSION])
        return cursor.fetchone() is not None


def missing_search(connection: BaseDatabaseWrapper) -> list[SearchIndex]:
    """Return the wanted search indexes that no trigram index on the same expression replaces."""
    wanted_here = search_wanted(connection)
    if not wanted_here:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [sorted({i.table for i in wanted_here})],
        )
        definitions = cursor.fetchall()
    out = []
    for index in wanted_here:
        pattern = re.compile(
            rf"USING (gin|gist) \({re.escape(index.expression)} (gin|gist)_trgm_ops"
        )
        if not any(t == index.table and pattern.search(d) for t, d in definitions):
            out.append(index)
    return out
