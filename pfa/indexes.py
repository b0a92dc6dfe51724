"""Indexes the project's list pages need beyond Postfix Admin's own, per engine.

Postfix Admin's PostgreSQL schema indexes `mailbox`, `alias` and `log` by domain (and
domain, timestamp) only, so a domain's mailboxes in address order, a deep page and the newest
log rows make PostgreSQL sort a whole domain (or the whole log) on every page view. InnoDB
appends the primary key to every secondary index, so MySQL/MariaDB's `KEY domain (domain)` is
already (domain, username), `KEY timestamp (timestamp)` already (timestamp, id) and
`KEY domain_timestamp` already (domain, timestamp, id): nothing is needed there.

They are plain (non-unique) indexes: Postfix Admin, Postfix and Dovecot neither see nor mind them.
A fresh database gets them from migration pfa 0002; an adopted Postfix Admin database only from
`manage.py optimize_indexes --apply`, run by its operator.
"""

from __future__ import annotations

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
