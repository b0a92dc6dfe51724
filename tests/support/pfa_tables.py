"""Postfix Admin's tables in tests: emptied after committed rows, and written as another tool would.

Django's flush after a transactional test leaves unmanaged tables alone, and every Postfix Admin
table is unmanaged: tests that commit empty them here, before and after (the `pfa_cleanup`
fixture of tests/conftest.py). The list is the schema's own, `pfa.schema.ALL_PFA_TABLES`, so a
table the project starts to write is emptied as soon as the schema knows it.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from aliases.models import Alias
from domains.models import Domain
from mailboxes.models import Mailbox
from pfa.schema import ALL_PFA_TABLES

# `config` holds the schema version that `migrate` wrote: part of the schema, not of a test.
SCHEMA_ROWS = frozenset({"config"})

_orders: dict[tuple[str, str], list[str]] = {}


def _children_first(tables: list[str]) -> list[str]:
    """Order tables so that each comes before the tables it references (foreign keys)."""
    with connection.cursor() as cursor:
        references = {
            table: {
                other
                for _column, (_other_column, other) in connection.introspection.get_relations(
                    cursor, table
                ).items()
                if other in tables and other != table
            }
            for table in tables
        }
    ordered: list[str] = []
    remaining = list(tables)
    while remaining:
        # A table goes once no remaining table references it.
        ready = [t for t in remaining if not any(t in references[o] for o in remaining)]
        assert ready, f"foreign keys in a circle among {remaining}"
        ordered += ready
        remaining = [t for t in remaining if t not in ready]
    return ordered


def delete_order() -> list[str]:
    """Return the Postfix Admin tables of the test database, children first (computed once)."""
    key = (connection.vendor, str(connection.settings_dict["NAME"]))
    if key not in _orders:
        existing = set(connection.introspection.table_names())
        tables = [t for t in ALL_PFA_TABLES if t in existing and t not in SCHEMA_ROWS]
        _orders[key] = _children_first(tables)
    return _orders[key]


def empty_pfa_tables() -> None:
    """Delete every row of Postfix Admin's tables (their triggers fire, as for any writer)."""
    with connection.cursor() as cursor:
        for table in delete_order():
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def other_tool_adds_mailbox(domain: Domain, local: str, quota: int) -> None:
    """Write a mailbox the way Postfix Admin or a script would, bypassing the project."""
    now = timezone.now()
    username = f"{local}@{domain.domain}"
    Mailbox.objects.create(
        username=username,
        password="{PLAIN}x",
        maildir=f"{domain.domain}/{local}/",
        quota=quota,
        local_part=local,
        domain=domain,
        created=now,
        modified=now,
    )
    Alias.objects.create(address=username, goto=username, domain=domain, created=now, modified=now)
