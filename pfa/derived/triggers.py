"""Trigger-maintained tables: project tables the database keeps exact with triggers (MariaDB/MySQL).

A trigger-maintained table holds something derived from Postfix Admin's rows that a list needs
in index order but the engine cannot compute cheaply. AFTER INSERT/UPDATE/DELETE triggers on the
source tables keep it right whoever writes them: Postfix Admin, scripts, Postfix Admin's own
cron jobs and this project alike. Every such structure is a `TriggerTable` (its tables, its
triggers, its fill), listed in pfa.derived.TRIGGER_TABLES: the alias list's keys
(pfa.derived.alias_listed) and the search index (pfa.derived.search_grams).

Versioned. A structure counts as installed only when each of its tables exists with its
columns' types (a source column's character set and collation included) and carries the
structure's `version` in its comment (a table without one is version 1), and each trigger
exists on its table and event, AFTER, with exactly this release's body (compared by
fingerprint, see `fingerprint`). Anything else of it that exists is outdated: older trigger
bodies, an older version, a trigger dropped by hand, a collation changed since. `migrate`
(pfa.derived.sync, after every run) and `manage.py install_derived --apply` install an outdated
structure anew. Raise `version` when what the fill stores changes while no trigger body does.

All or nothing. `install` drops what an earlier attempt left, creates the tables, then the
triggers, then fills them, then checks that the fill is complete (`unfilled`: every source row
has what the structure derives from it); any failure (no TRIGGER privilege, binary logging
refusing triggers, a conflicting object, a lost connection, an incomplete fill) removes
everything it created and raises. It runs with the session's unique_checks and
foreign_key_checks on: with both off (as a bulk loader or a mysqldump script leaves a session),
MariaDB 10.6+ loads an INSERT into an empty table in bulk (MDEV-24818), and there a duplicate
that INSERT IGNORE should skip ends the load: the statement keeps only part of its rows and
reports success with one warning.

One cache. A list asks "is it installed?" on every view; `installed_cached` asks the database
once per RECHECK_SECONDS per process, and `forget` is the one reset (after an install or a
removal, when a reader meets a table removed behind its back, in tests).

Rules the triggers follow (see pfa.derived.alias_listed for a worked example):
- Every read of another table whose answer decides a write is a locking read (`LOCK IN SHARE
  MODE`), after the trigger's own row is written: of two transactions writing related rows at
  once, the second then waits for the first to commit and sees its row, whatever isolation
  level each uses (Django uses READ COMMITTED, PHP's default is REPEATABLE READ).
- An UPDATE trigger acts only when a column the table derives from changed byte for byte, so a
  change of case (equal under a `_ci` collation) is followed too.
- Local variables are named `v_...` (a variable named like a column would shadow it) and
  declared with the table's own column types, so comparisons never mix collations.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper

# How long a process trusts its last answer (see installed_cached).
RECHECK_SECONDS = 300.0
INSTALLED, OUTDATED, MISSING = "installed", "outdated", "missing"
# Written into each table's comment; a table without it is version 1.
_VERSION_MARK = re.compile(r"\btrigger-maintained v(\d+)\b")
_SAFE_TYPE = re.compile(r"^[A-Za-z0-9_(), ]+$")
# MariaDB prints integer types with a display width (`int(10) unsigned`), MySQL 8 without.
_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|bigint)\(\d+\)")

Progress = Callable[[str, float], None]


class IncompleteFill(Exception):
    """A fill left source rows without what the structure derives from them."""

    def __init__(self, label: str, unfilled: dict[str, int]) -> None:
        self.label = label
        self.unfilled = unfilled
        rows = ", ".join(f"{count} rows of {table}" for table, count in unfilled.items())
        super().__init__(f"{label}: the fill missed {rows}")


@dataclass(frozen=True)
class Column:
    """A column: a copy of a source column's type (`like`), or a type of its own."""

    name: str
    like: tuple[str, str] | None = None  # (table, column)
    type: str = ""
    extra: str = ""  # after NOT NULL, e.g. AUTO_INCREMENT


@dataclass(frozen=True)
class Table:
    """One table of a structure: its columns and its keys (PRIMARY KEY / UNIQUE KEY clauses)."""

    name: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Trigger:
    """One AFTER ... FOR EACH ROW trigger on a source table; body is a BEGIN ... END block.

    The body may use `{table}` (the structure's name), `{<column>_type}` (the full type of a
    column copied from a source column) and the structure's own placeholders.
    """

    name: str
    table: str
    event: str  # INSERT, UPDATE or DELETE
    body: str


def fingerprint(body: str) -> str:
    """Return a trigger body's version: the SHA-256 of its words (whitespace does not count)."""
    return hashlib.sha256(" ".join(str(body).split()).encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class TriggerTable:
    """Tables maintained by triggers: their definition; how to install, check and remove them."""

    name: str  # the table its readers use; also what the cache knows it by
    label: str  # how messages name it
    purpose: str
    tables: tuple[Table, ...]
    triggers: tuple[Trigger, ...]
    version: int = 1
    # Part of the search structures (`install_derived --search`), not of the lists' own.
    search: bool = False
    vendors: tuple[str, ...] = ("mysql",)

    # What a structure adds ------------------------------------------------------------------

    def placeholders(self, connection: BaseDatabaseWrapper) -> dict[str, str]:
        """Return the values of the trigger bodies' own placeholders (none by default)."""
        return {}

    def fill(self, connection: BaseDatabaseWrapper, progress: Progress | None = None) -> int:
        """Derive the tables' rows from the source tables (the triggers exist); return how many."""
        raise NotImplementedError

    def fill_script(self) -> list[str]:
        """Return the fill as statements for the mysql/mariadb command-line client."""
        raise NotImplementedError

    def unfilled(self, connection: BaseDatabaseWrapper) -> dict[str, int]:
        """Return, per source table, how many of its rows lack what the structure derives from
        them (only tables with such rows: empty when the tables are complete)."""
        return {}

    # Names and SQL --------------------------------------------------------------------------

    @property
    def sources(self) -> tuple[str, ...]:
        """Return the source tables the triggers are on, in name order."""
        return tuple(sorted({t.table for t in self.triggers}))

    def column_types(self, connection: BaseDatabaseWrapper) -> dict[tuple[str, str], str]:
        """Return each (table, column)'s full type, source columns' character set and collation
        included; LookupError when a source column is missing."""
        wanted = [c.like for t in self.tables for c in t.columns if c.like]
        found = source_types(connection, wanted) if wanted else {}
        out = {}
        for table in self.tables:
            for column in table.columns:
                if column.like is None:
                    out[(table.name, column.name)] = column.type
                elif column.like in found:
                    out[(table.name, column.name)] = found[column.like]
                else:
                    source, name = column.like
                    raise LookupError(f"the database has no column {source}.{name}")
        return out

    def values(
        self, connection: BaseDatabaseWrapper, types: dict[tuple[str, str], str]
    ) -> dict[str, str]:
        """Return every placeholder's value for the trigger bodies."""
        copied = {
            f"{column.name}_type": types[(table.name, column.name)]
            for table in self.tables
            for column in table.columns
            if column.like
        }
        return {"table": self.name, **copied, **self.placeholders(connection)}

    def create_table_sql(
        self, connection: BaseDatabaseWrapper, table: Table, types: dict[tuple[str, str], str]
    ) -> str:
        """Return one CREATE TABLE statement, the structure's version in its comment."""
        q = connection.ops.quote_name
        lines = [
            " ".join(
                filter(None, [f"  {q(c.name)}", types[(table.name, c.name)], "NOT NULL", c.extra])
            )
            for c in table.columns
        ]
        lines += [f"  {key}" for key in table.keys]
        comment = self.purpose.replace("'", "")
        body = ",\n".join(lines)
        return (
            f"CREATE TABLE {q(table.name)} (\n{body}\n) ENGINE=InnoDB"
            f" COMMENT='trigger-maintained v{self.version}: {comment}'"
        )

    def trigger_body(self, trigger: Trigger, values: dict[str, str]) -> str:
        """Return the trigger's body with its placeholders filled in."""
        return trigger.body.format(**values).strip()

    def create_trigger_sql(
        self, connection: BaseDatabaseWrapper, trigger: Trigger, values: dict[str, str]
    ) -> str:
        """Return one CREATE TRIGGER statement."""
        q = connection.ops.quote_name
        return (
            f"CREATE TRIGGER {q(trigger.name)} AFTER {trigger.event}"
            f" ON {q(trigger.table)} FOR EACH ROW\n{self.trigger_body(trigger, values)}"
        )

    def drop_sql(self, connection: BaseDatabaseWrapper) -> list[str]:
        """Return the statements that remove the triggers (first, so no write fills a table
        about to go), then the tables."""
        q = connection.ops.quote_name
        out = [f"DROP TRIGGER IF EXISTS {q(t.name)}" for t in self.triggers]
        return [*out, *(f"DROP TABLE IF EXISTS {q(t.name)}" for t in reversed(self.tables))]

    def script(self, connection: BaseDatabaseWrapper) -> str:
        """Return what --apply runs, as a script for the mysql/mariadb command-line client."""
        types = self.column_types(connection)
        values = self.values(connection, types)
        lines = [f"-- {self.label}: {self.purpose}"]
        lines += [f"{s};" for s in self.drop_sql(connection)]
        lines += [self.create_table_sql(connection, t, types) + ";" for t in self.tables]
        lines.append("DELIMITER //")
        lines += [self.create_trigger_sql(connection, t, values) + " //" for t in self.triggers]
        lines.append("DELIMITER ;")
        lines += self.fill_script()
        return "\n".join(lines)

    # State ----------------------------------------------------------------------------------

    def state(self, connection: BaseDatabaseWrapper) -> str:
        """Return INSTALLED (exactly this version), OUTDATED (something of it exists, but not
        this version, or not all of it) or MISSING (nothing of it exists)."""
        if connection.vendor not in self.vendors:
            return MISSING
        comments, found = self._found(connection)
        if not comments and not found:
            return MISSING
        if set(comments) != {t.name for t in self.tables}:
            return OUTDATED
        if any(_version(comment) != self.version for comment in comments.values()):
            return OUTDATED
        try:
            types = self.column_types(connection)
            have = source_types(connection, list(types))
        except LookupError:
            return OUTDATED
        if any(_normal(have.get(key, "")) != _normal(value) for key, value in types.items()):
            return OUTDATED
        values = self.values(connection, types)
        for trigger in self.triggers:
            table, event, timing, statement = found.get(trigger.name, (None, None, None, ""))
            if (table, event, timing) != (trigger.table, trigger.event, "AFTER"):
                return OUTDATED
            if fingerprint(statement) != fingerprint(self.trigger_body(trigger, values)):
                return OUTDATED
        return INSTALLED

    def installed(self, connection: BaseDatabaseWrapper) -> bool:
        """Tell whether exactly this version of every table and trigger exists."""
        return self.state(connection) == INSTALLED

    def present(self, connection: BaseDatabaseWrapper) -> bool:
        """Tell whether any of its tables or triggers exists (installed or left over)."""
        if connection.vendor not in self.vendors:
            return False
        comments, found = self._found(connection)
        return bool(comments or found)

    def _found(
        self, connection: BaseDatabaseWrapper
    ) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
        """Return the existing tables' comments and triggers, by name."""
        tables = [t.name for t in self.tables]
        triggers = [t.name for t in self.triggers]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES"  # noqa: S608
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
                f" AND TABLE_NAME IN ({', '.join(['%s'] * len(tables))})",
                tables,
            )
            comments = {row[0]: str(row[1] or "") for row in cursor.fetchall()}
            cursor.execute(
                "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING,"  # noqa: S608
                " ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA ="
                f" DATABASE() AND TRIGGER_NAME IN ({', '.join(['%s'] * len(triggers))})",
                triggers,
            )
            found = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
        return comments, found

    # Changes --------------------------------------------------------------------------------

    def install(self, connection: BaseDatabaseWrapper, progress: Progress | None = None) -> int:
        """Create the tables and their triggers and fill them; return the rows filled.

        Whatever of it exists is dropped first, so this also replaces an outdated version. The
        triggers exist before the fill starts, so a write made meanwhile by another session is
        either seen by the fill or followed by its trigger (each structure's fill says how).
        A failure removes whatever was created and raises: it is all there, or not at all.
        """
        if connection.in_atomic_block or not connection.get_autocommit():
            raise RuntimeError(f"installing {self.name} needs autocommit (no open transaction)")
        forget()
        try:
            types = self.column_types(connection)
            values = self.values(connection, types)
            with checked_writes(connection):
                with connection.cursor() as cursor:
                    for statement in self.drop_sql(connection):
                        cursor.execute(statement)
                    for table in self.tables:
                        cursor.execute(self.create_table_sql(connection, table, types))
                    for trigger in self.triggers:
                        cursor.execute(self.create_trigger_sql(connection, trigger, values))
                rows = self.fill(connection, progress)
                unfilled = self.unfilled(connection)
            if unfilled:
                raise IncompleteFill(self.label, unfilled)
            return rows
        except BaseException:
            # The error that made the install fail is the one to report.
            with contextlib.suppress(Exception):
                self.remove(connection)
            raise
        finally:
            forget()

    def remove(self, connection: BaseDatabaseWrapper) -> None:
        """Drop the triggers, then the tables (their readers fall back to the source tables)."""
        forget()
        try:
            with connection.cursor() as cursor:
                for statement in self.drop_sql(connection):
                    cursor.execute(statement)
        finally:
            forget()


@contextlib.contextmanager
def checked_writes(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Run the block with the session's unique_checks and foreign_key_checks on, and put back
    what the session had after it (see "All or nothing" above)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.unique_checks, @@SESSION.foreign_key_checks")
        saved = tuple(int(v) for v in cursor.fetchone())
        if saved != (1, 1):
            cursor.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
    try:
        yield
    finally:
        if saved != (1, 1):
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION unique_checks = %s, foreign_key_checks = %s", saved)


def _version(comment: str) -> int:
    found = _VERSION_MARK.search(comment)
    return int(found.group(1)) if found else 1


def _normal(type_: str) -> str:
    return _INT_WIDTH.sub(r"\1", " ".join(type_.lower().split()))


def source_types(
    connection: BaseDatabaseWrapper, columns: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Return the full types of the named columns that exist, e.g. `varchar(255) CHARACTER SET
    utf8mb4 COLLATE utf8mb4_unicode_ci`."""
    tables = sorted({t for t, _ in columns})
    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME"  # noqa: S608
            " FROM information_schema.COLUMNS"
            f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks})",
            tables,
        )
        rows = cursor.fetchall()
    out = {}
    for table, column, type_, charset, collation in rows:
        if (table, column) not in columns:
            continue
        parts = [str(type_)]
        if charset and collation:
            parts += ["CHARACTER SET", str(charset), "COLLATE", str(collation)]
        full = " ".join(parts)
        if not _SAFE_TYPE.match(full):
            raise LookupError(f"unexpected type of {table}.{column}: {full!r}")
        out[(table, column)] = full
    return out


# The one cache ------------------------------------------------------------------------------

_T = TypeVar("_T")
_remembered: dict[tuple[str, str, str], tuple[float, object]] = {}


def remembered(connection: BaseDatabaseWrapper, what: str, compute: Callable[[], _T]) -> _T:
    """Return compute()'s answer about the connection's database, asked once per
    RECHECK_SECONDS per process (forget() drops every answer)."""
    key = (connection.alias, str(connection.settings_dict.get("NAME")), what)
    now = time.monotonic()
    known = _remembered.get(key)
    if known is None or now - known[0] > RECHECK_SECONDS:
        known = (now, compute())
        _remembered[key] = known
    return known[1]  # type: ignore[return-value]


def installed_cached(table: TriggerTable, connection: BaseDatabaseWrapper) -> bool:
    """Tell whether the structure is installed, asking the database once per RECHECK_SECONDS.

    A list page asks on every view; the answer costs a few information_schema queries, so a
    process keeps it for a while: one installed by another process is used within that time,
    and one removed by another process shows as a missing table, which its reader takes as a
    cue to call forget() and fall back.
    """
    if connection.vendor not in table.vendors:
        return False
    return remembered(connection, f"installed {table.name}", lambda: table.installed(connection))


def forget() -> None:
    """Drop every remembered answer (after an install or removal, a table gone, in tests)."""
    _remembered.clear()
