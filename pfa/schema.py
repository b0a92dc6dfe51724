"""Inspect a database: create Postfix Admin's schema on an empty one, adopt an existing one.

A database is one of: empty (the project creates Postfix Admin 4.0's schema), a Postfix Admin
database of a version the project can adopt (nothing in it is changed), or anything else (refused
before a single row is written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from pfa.ddl import BY_VENDOR, FRESH_VERSION

# Postfix Admin 3.3.x from schema 1844 on has every column the project needs (domain_admins.id).
MIN_ADOPTABLE_VERSION = 1844
CORE_TABLES = (
    "admin",
    "alias",
    "alias_domain",
    "config",
    "domain",
    "domain_admins",
    "log",
    "mailbox",
)
ALL_PFA_TABLES = (
    *CORE_TABLES,
    "vacation",
    "vacation_notification",
    "quota",
    "quota2",
    "fetchmail",
    "dkim",
    "dkim_signing",
    "totp_exception_address",
    "mailbox_app_password",
)
# Tables that Django and the project create; they may exist beside Postfix Admin's.
OWN_TABLE_PREFIXES = ("vimbadmin_", "django_", "auth_")
# Made with a schema the project created itself, dropped by pfa.derived.sync once it has
# installed the derived structures there: a database without it is adopted (or done), and
# gets them only from its operator (`manage.py install_derived`).
FRESH_MARK_TABLE = "vimbadmin_fresh_schema"

# Columns some supported versions lack, with what depends on them.
OPTIONAL_COLUMNS = {
    ("mailbox", "smtp_active"): "per-mailbox SMTP switch (Postfix Admin 4.0, schema 1850)",
    ("mailbox", "totp_secret"): "TOTP secrets of mailboxes (Postfix Admin 4.0, schema 1849)",
    ("admin", "totp_secret"): "TOTP secrets of admins (Postfix Admin 4.0, schema 1849)",
    ("mailbox", "password_expiry"): "password expiry (schema 1842)",
    ("alias", "description"): "alias descriptions (Postfix Admin 4.1, schema 1854)",
}


class SchemaError(Exception):
    """The database cannot be used as it is; the message says what to do."""


@dataclass
class SchemaState:
    kind: str  # "empty", "postfixadmin" or "foreign"
    version: int | None = None
    tables: set[str] = field(default_factory=set)
    missing_tables: list[str] = field(default_factory=list)
    foreign_tables: list[str] = field(default_factory=list)
    columns: dict[str, set[str]] = field(default_factory=dict)

    def has_column(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, set())


def _vendor(connection: BaseDatabaseWrapper) -> str:
    return connection.vendor


def inspect_database(connection: BaseDatabaseWrapper) -> SchemaState:
    """Describe the database: empty, adoptable Postfix Admin, or something else."""
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        lowered = {t.lower() for t in tables}
        present = [t for t in ALL_PFA_TABLES if t in lowered]
        others = sorted(
            t
            for t in tables
            if t.lower() not in ALL_PFA_TABLES and not t.lower().startswith(OWN_TABLE_PREFIXES)
        )
        if not present:
            return SchemaState(
                kind="foreign" if others else "empty", tables=tables, foreign_tables=others
            )
        columns = {
            table: {
                col.name for col in connection.introspection.get_table_description(cursor, table)
            }
            for table in CORE_TABLES
            if table in lowered
        }
        version = None
        if "config" in lowered:
            cursor.execute("SELECT value FROM config WHERE name = %s", ["version"])
            row = cursor.fetchone()
            if row and str(row[0]).strip().isdigit():
                version = int(row[0])
    missing = [t for t in CORE_TABLES if t not in lowered]
    return SchemaState(
        kind="postfixadmin",
        version=version,
        tables=tables,
        missing_tables=missing,
        foreign_tables=others,
        columns=columns,
    )


def check_usable(state: SchemaState) -> None:
    """Raise SchemaError unless the database is empty or an adoptable Postfix Admin database."""
    if state.kind == "foreign":
        shown = ", ".join(state.foreign_tables[:5])
        raise SchemaError(
            f"The database is neither empty nor a Postfix Admin database (it has: {shown}). "
            "Point DATABASE_URL at an empty database or at your Postfix Admin database."
        )
    if state.kind != "postfixadmin":
        return
    if state.missing_tables:
        raise SchemaError(
            "The database looks like an incomplete Postfix Admin database (missing tables: "
            f"{', '.join(state.missing_tables)}). Run Postfix Admin's setup.php on it first."
        )
    if state.version is None or state.version < MIN_ADOPTABLE_VERSION:
        raise SchemaError(
            f"The Postfix Admin schema is too old (version {state.version or 'unknown'}; "
            f"at least {MIN_ADOPTABLE_VERSION}, i.e. Postfix Admin 3.3, is needed). Upgrade it "
            "with Postfix Admin's setup.php, then run migrate again."
        )
    if "id" not in state.columns.get("domain_admins", {"id"}):
        raise SchemaError(
            "The Postfix Admin table domain_admins has no id column (Postfix Admin on SQLite "
            "never adds it); use a PostgreSQL or MySQL Postfix Admin database."
        )


def create_fresh_schema(connection: BaseDatabaseWrapper) -> None:
    """Create Postfix Admin 4.0's tables on an empty database, stamp its version and mark it
    as the project's own (see FRESH_MARK_TABLE)."""
    statements = BY_VENDOR[_vendor(connection)]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO config (name, value) VALUES (%s, %s)", ["version", str(FRESH_VERSION)]
        )
        cursor.execute(f"CREATE TABLE {FRESH_MARK_TABLE} (version INTEGER NOT NULL)")
        cursor.execute(
            f"INSERT INTO {FRESH_MARK_TABLE} (version) VALUES (%s)",  # noqa: S608
            [FRESH_VERSION],
        )


def ensure_schema(connection: BaseDatabaseWrapper) -> SchemaState:
    """Create the schema on an empty database, accept an adoptable one, refuse anything else."""
    state = inspect_database(connection)
    check_usable(state)
    if state.kind == "empty":
        create_fresh_schema(connection)
        state = inspect_database(connection)
    return state


def marked_fresh(connection: BaseDatabaseWrapper) -> bool:
    """Tell whether the project created this schema and has not yet installed its derived
    structures on it (the mark outlives a migrate run that stops half-way)."""
    return FRESH_MARK_TABLE in connection.introspection.table_names()


def clear_fresh_mark(connection: BaseDatabaseWrapper) -> None:
    """Drop the mark once the derived structures were installed (or refused) on the schema."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FRESH_MARK_TABLE}")


@cache
def _columns(alias: str, table: str) -> frozenset[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return frozenset(
            col.name for col in connection.introspection.get_table_description(cursor, table)
        )


def has_column(table: str, column: str, using: str = "default") -> bool:
    """Tell whether the database has an optional Postfix Admin column (cached per process)."""
    return column in _columns(using, table)


def forget_columns() -> None:
    """Drop the cached column lists (tests switch databases)."""
    _columns.cache_clear()
