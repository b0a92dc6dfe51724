"""Tables the database itself keeps exact with triggers, beside Postfix Admin's (MariaDB/MySQL).

A kept table holds something derived from Postfix Admin's rows that a list needs in index order
but the engine cannot compute cheaply: MariaDB has no merge join, so hiding the mailboxes' own
alias rows from the alias list probed `mailbox` once per alias row up to the page (160-200 ms
for page 1,000 of a 400,000-row domain). Triggers on the source tables keep it right whoever
writes them: Postfix Admin, scripts, Postfix Admin's own cron jobs and this project alike.

A fresh database gets each kept table from migration pfa 0004; an adopted one only from
`manage.py optimize_indexes --apply`, and `optimize_indexes --remove-kept` takes it away again.

Adding one: describe it as a `KeptTable` (its columns, each copying a source column's type,
character set and collation or with a type of its own; its AFTER triggers, whose bodies may use
`{table}` and `{<column>_type}`; and its fill, statements that rebuild the part of it a chunk
key (`chunk_column = %s`) selects, run per key of `chunks_sql`) and append it to KEPT_TABLES.
Everything else (the migration, optimize_indexes, the `installed` check) goes through KEPT_TABLES.

Rules the triggers follow (see ALIAS_LISTED for a worked example):
- Every read of another table whose answer decides a write is a locking read (`LOCK IN SHARE
  MODE`), after the trigger's own row is written: of two transactions writing related rows at
  once, the second then waits for the first to commit and sees its row, whatever isolation
  level each uses (Django uses READ COMMITTED, PHP's default is REPEATABLE READ).
- An UPDATE trigger acts only when a column the table derives from changed byte for byte, so a
  change of case (equal under a `_ci` collation) is followed too.
- Local variables are named `v_...` (a variable named like a column would shadow it) and
  declared with the kept column's own type, so comparisons never mix collations.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

# How long a process trusts its last answer to "is it installed?" (see installed_cached).
RECHECK_SECONDS = 300.0
_SAFE_TYPE = re.compile(r"^[A-Za-z0-9_(), ]+$")


@dataclass(frozen=True)
class Column:
    """A kept table's column: a copy of a source column's type (`like`), or a type of its own."""

    name: str
    like: tuple[str, str] | None = None  # (table, column)
    type: str = ""


@dataclass(frozen=True)
class Trigger:
    """One AFTER ... FOR EACH ROW trigger on a source table; body is a BEGIN ... END block."""

    table: str
    event: str  # INSERT, UPDATE or DELETE
    body: str


@dataclass(frozen=True)
class KeptTable:
    """A table kept by triggers: its definition, and how to install, check and remove it."""

    name: str
    purpose: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    # The keys the fill is split by (one transaction each), and the statements that rebuild the
    # rows of one key: `{table}` is the kept table, `{chunk}` the condition `chunk_column = %s`.
    chunks_sql: str
    chunk_column: str
    fill: tuple[str, ...]
    vendors: tuple[str, ...] = ("mysql",)

    # Names and SQL --------------------------------------------------------------------------

    def trigger_name(self, trigger: Trigger) -> str:
        """Return the trigger's name: the kept table's, the source table's and the event's."""
        return f"{self.name}_{trigger.table}_{trigger.event.lower()}"

    def column_types(self, connection: BaseDatabaseWrapper) -> dict[str, str]:
        """Return each column's full type, source columns' character set and collation included."""
        wanted = [c.like for c in self.columns if c.like]
        found: dict[tuple[str, str], str] = {}
        if wanted:
            found = source_types(connection, wanted)
        out = {}
        for column in self.columns:
            if column.like is None:
                out[column.name] = column.type
            elif column.like in found:
                out[column.name] = found[column.like]
            else:
                table, name = column.like
                raise LookupError(f"the database has no column {table}.{name}")
        return out

    def create_table_sql(self, connection: BaseDatabaseWrapper, types: dict[str, str]) -> str:
        """Return the CREATE TABLE statement."""
        q = connection.ops.quote_name
        cols = ",\n".join(f"  {q(c.name)} {types[c.name]} NOT NULL" for c in self.columns)
        key = ", ".join(q(c) for c in self.primary_key)
        comment = self.purpose.replace("'", "")
        return (
            f"CREATE TABLE {q(self.name)} (\n{cols},\n  PRIMARY KEY ({key})\n)"
            f" ENGINE=InnoDB COMMENT='kept by triggers: {comment}'"
        )

    def trigger_body(self, trigger: Trigger, types: dict[str, str]) -> str:
        """Return the trigger's body with the kept table's name and its columns' types."""
        names = {f"{name}_type": value for name, value in types.items()}
        return trigger.body.format(table=self.name, **names).strip()

    def create_trigger_sql(
        self, connection: BaseDatabaseWrapper, trigger: Trigger, types: dict[str, str]
    ) -> str:
        """Return one CREATE TRIGGER statement."""
        q = connection.ops.quote_name
        return (
            f"CREATE TRIGGER {q(self.trigger_name(trigger))} AFTER {trigger.event}"
            f" ON {q(trigger.table)} FOR EACH ROW\n{self.trigger_body(trigger, types)}"
        )

    def fill_sql(self, *, chunked: bool) -> list[str]:
        """Return the fill's statements, for one chunk key (one %s each) or for every row."""
        chunk = f"{self.chunk_column} = %s" if chunked else "1 = 1"
        return [s.format(table=self.name, chunk=chunk) for s in self.fill]

    def drop_sql(self, connection: BaseDatabaseWrapper) -> list[str]:
        """Return the statements that remove the triggers, then the table."""
        q = connection.ops.quote_name
        out = [f"DROP TRIGGER IF EXISTS {q(self.trigger_name(t))}" for t in self.triggers]
        return [*out, f"DROP TABLE IF EXISTS {q(self.name)}"]

    def script(self, connection: BaseDatabaseWrapper) -> str:
        """Return what --apply runs, as a script for the mysql/mariadb command-line client.

        --apply fills one chunk per transaction; the script fills the table in one.
        """
        types = self.column_types(connection)
        lines = [f"-- {self.name}: {self.purpose}"]
        lines += [f"{s};" for s in self.drop_sql(connection)]
        lines.append(self.create_table_sql(connection, types) + ";")
        lines.append("DELIMITER //")
        lines += [self.create_trigger_sql(connection, t, types) + " //" for t in self.triggers]
        lines.append("DELIMITER ;")
        lines += ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;", "START TRANSACTION;"]
        lines += [f"{s};" for s in self.fill_sql(chunked=False)]
        lines.append("COMMIT;")
        return "\n".join(lines)

    # State -----------------------------------------------------------------------------------

    def installed(self, connection: BaseDatabaseWrapper) -> bool:
        """Tell whether the table and exactly this version of every trigger exist.

        A table without its triggers (an interrupted install, a trigger dropped by hand) may be
        stale, and a trigger of another version or collation may keep it wrong: both count as
        not installed, and --apply installs the table anew.
        """
        if connection.vendor not in self.vendors:
            return False
        try:
            types = self.column_types(connection)
        except LookupError:
            return False
        have = source_types(connection, [(self.name, c.name) for c in self.columns])
        if any(have.get((self.name, c.name)) != types[c.name] for c in self.columns):
            return False
        names = {self.trigger_name(t): t for t in self.triggers}
        marks = ", ".join(["%s"] * len(names))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING,"  # noqa: S608
                " ACTION_STATEMENT FROM information_schema.TRIGGERS"
                f" WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME IN ({marks})",
                list(names),
            )
            found = {row[0]: row[1:] for row in cursor.fetchall()}
        for name, trigger in names.items():
            table, event, timing, statement = found.get(name, (None, None, None, ""))
            if (table, event, timing) != (trigger.table, trigger.event, "AFTER"):
                return False
            if _words(statement) != _words(self.trigger_body(trigger, types)):
                return False
        return True

    def present(self, connection: BaseDatabaseWrapper) -> bool:
        """Tell whether the table or any of its triggers exists (installed or left over)."""
        if connection.vendor not in self.vendors:
            return False
        names = [self.trigger_name(t) for t in self.triggers]
        marks = ", ".join(["%s"] * len(names))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [self.name],
            )
            tables = cursor.fetchone()[0]
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.TRIGGERS"  # noqa: S608
                f" WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME IN ({marks})",
                names,
            )
            return bool(tables or cursor.fetchone()[0])

    # Changes ---------------------------------------------------------------------------------

    def install(self, connection: BaseDatabaseWrapper) -> int:
        """Create the table and its triggers and fill it, losing no concurrent write; return
        the number of rows filled.

        Order, so that writes by other sessions during the install all end up in the table:
        1. leftovers of an earlier attempt are dropped, the table is created (empty);
        2. the triggers are created, one by one. Each CREATE TRIGGER waits for the transactions
           that already use its table, so from then on every write to that table fires it. Until
           the last one exists, the table may take rows the missing ones would have corrected;
        3. so the fill rebuilds each chunk (its rows deleted, then derived again from the source
           tables) in its own REPEATABLE READ transaction: there INSERT ... SELECT locks every
           source row it reads and the gaps where it found none, so a concurrent write either
           committed before (and is read) or waits until the chunk commits and then fires its
           trigger on a table that is right for that chunk. READ COMMITTED would read without
           locks and could store a row that a write committed a moment later had made wrong.
           A write waits at most for one chunk's transaction (a domain's rows), not the install.
        A failure (no TRIGGER privilege, binary logging refusing triggers, a lost connection)
        removes whatever was created and raises: the table is all there, or not at all.
        """
        if connection.in_atomic_block or not connection.get_autocommit():
            raise RuntimeError("installing a kept table needs autocommit (no open transaction)")
        forget()
        try:
            types = self.column_types(connection)
            with connection.cursor() as cursor:
                for statement in self.drop_sql(connection):
                    cursor.execute(statement)
                cursor.execute(self.create_table_sql(connection, types))
                for trigger in self.triggers:
                    cursor.execute(self.create_trigger_sql(connection, trigger, types))
                cursor.execute(self.chunks_sql.format(table=self.name))
                keys = [row[0] for row in cursor.fetchall()]
                return sum(_fill_chunk(cursor, self.fill_sql(chunked=True), key) for key in keys)
        except BaseException:
            _quietly_remove(self, connection)
            raise
        finally:
            forget()

    def remove(self, connection: BaseDatabaseWrapper) -> None:
        """Drop the triggers (first, so no write fills a table about to go), then the table."""
        forget()
        try:
            with connection.cursor() as cursor:
                for statement in self.drop_sql(connection):
                    cursor.execute(statement)
        finally:
            forget()


def _words(text: str) -> list[str]:
    return str(text).split()


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


# A deadlock (1213) or lock wait timeout (1205) with a concurrent write: the chunk, rolled back
# whole, is simply run again (the write it met has committed or rolled back by then).
_RETRY_ERRORS = (1205, 1213)
_RETRIES = 5


def _fill_chunk(cursor: Any, statements: list[str], key: object) -> int:
    """Run one chunk's statements in one REPEATABLE READ transaction; return rows inserted."""
    attempt = 1
    while True:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("START TRANSACTION")
        try:
            inserted = 0
            for statement in statements:
                cursor.execute(statement, [key])
                if statement.lstrip().upper().startswith("INSERT"):
                    inserted += max(cursor.rowcount, 0)
            cursor.execute("COMMIT")
        except OperationalError as exc:
            cursor.execute("ROLLBACK")
            if exc.args and exc.args[0] in _RETRY_ERRORS and attempt < _RETRIES:
                attempt += 1
                continue
            raise
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return inserted


def _quietly_remove(kept: KeptTable, connection: BaseDatabaseWrapper) -> None:
    # The error that made the install fail is the one to report.
    with contextlib.suppress(Exception):
        kept.remove(connection)


# The alias list's keys ---------------------------------------------------------------------

# After the alias row's own insert (or change): listed unless a mailbox has its address.
_ALIAS_LISTED_IF_NO_OWNER = """
  SELECT COUNT(*) INTO v_owners FROM mailbox WHERE username = NEW.address LOCK IN SHARE MODE;
  IF v_owners = 0 THEN
    INSERT IGNORE INTO {table} (domain, address) VALUES (NEW.domain, NEW.address);
  END IF;"""
# A mailbox now has this username: its alias row, if any, leaves the list.
_MAILBOX_GAINED = """
  SELECT MAX(domain) INTO v_domain FROM alias WHERE address = NEW.username LOCK IN SHARE MODE;
  IF v_domain IS NOT NULL THEN
    DELETE FROM {table} WHERE domain = v_domain AND address = NEW.username;
  END IF;"""
# No mailbox has this username any more (unless another row equals it under the collation):
# its alias row, if any, joins the list.
_MAILBOX_LOST = """
  SELECT MAX(domain), MAX(address) INTO v_domain, v_address FROM alias
    WHERE address = OLD.username LOCK IN SHARE MODE;
  IF v_address IS NOT NULL THEN
    SELECT COUNT(*) INTO v_owners FROM mailbox WHERE username = v_address LOCK IN SHARE MODE;
    IF v_owners = 0 THEN
      INSERT IGNORE INTO {table} (domain, address) VALUES (v_domain, v_address);
    END IF;
  END IF;"""
# The alias row's key changed: out under the old one, in under the new one unless a mailbox has it.
_ALIAS_KEY_CHANGED = (
    """
  IF CAST(NEW.address AS BINARY) <> CAST(OLD.address AS BINARY)
     OR CAST(NEW.domain AS BINARY) <> CAST(OLD.domain AS BINARY) THEN
    DELETE FROM {table} WHERE domain = OLD.domain AND address = OLD.address;"""  # noqa: S608
    + _ALIAS_LISTED_IF_NO_OWNER
    + """
  END IF;"""
)
_ALIAS_GONE = """
  DELETE FROM {table} WHERE domain = OLD.domain AND address = OLD.address;"""
# A mailbox renamed: the new name's alias row leaves the list, the old one's may join it.
_MAILBOX_RENAMED = (
    """
  IF CAST(NEW.username AS BINARY) <> CAST(OLD.username AS BINARY) THEN"""
    + _MAILBOX_GAINED
    + _MAILBOX_LOST
    + """
  END IF;"""
)
_DECLARE = """
  DECLARE v_domain {domain_type};
  DECLARE v_address {address_type};
  DECLARE v_owners INT;"""


def _block(statements: str) -> str:
    return f"BEGIN{_DECLARE}{statements}\nEND"


ALIAS_LISTED = KeptTable(
    name="vimbadmin_alias_listed",
    purpose=(
        "alias list of a domain without the mailboxes' own alias rows, in address order, "
        "first and deep pages"
    ),
    columns=(
        Column("domain", like=("alias", "domain")),
        Column("address", like=("alias", "address")),
    ),
    primary_key=("domain", "address"),
    triggers=(
        Trigger("alias", "INSERT", _block(_ALIAS_LISTED_IF_NO_OWNER)),
        Trigger("alias", "UPDATE", _block(_ALIAS_KEY_CHANGED)),
        Trigger("alias", "DELETE", _block(_ALIAS_GONE)),
        Trigger("mailbox", "INSERT", _block(_MAILBOX_GAINED)),
        Trigger("mailbox", "UPDATE", _block(_MAILBOX_RENAMED)),
        Trigger("mailbox", "DELETE", _block(_MAILBOX_LOST)),
    ),
    # Every domain with alias rows, and any the table holds rows of (from before its triggers).
    chunks_sql="SELECT domain FROM alias UNION SELECT domain FROM {table}",
    chunk_column="domain",
    fill=(
        "DELETE FROM {table} WHERE {chunk}",
        "INSERT IGNORE INTO {table} (domain, address) SELECT a.domain, a.address FROM alias a"
        " WHERE {chunk} AND NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.username = a.address)",
    ),
)

KEPT_TABLES: tuple[KeptTable, ...] = (ALIAS_LISTED,)


def wanted(connection: BaseDatabaseWrapper) -> tuple[KeptTable, ...]:
    """Return the kept tables the connection's engine has a use for."""
    return tuple(k for k in KEPT_TABLES if connection.vendor in k.vendors)


def missing(connection: BaseDatabaseWrapper) -> list[KeptTable]:
    """Return the wanted kept tables that are not installed (or not in this version)."""
    return [k for k in wanted(connection) if not k.installed(connection)]


_checked: dict[tuple[str, str, str], tuple[float, bool]] = {}


class Installable(Protocol):
    """What installed_cached() asks about: a KeptTable, or the search tables (search_grams)."""

    name: str
    vendors: tuple[str, ...]

    def installed(self, connection: BaseDatabaseWrapper) -> bool: ...


def installed_cached(kept: Installable, connection: BaseDatabaseWrapper) -> bool:
    """Tell whether the kept table is installed, asking the database once per RECHECK_SECONDS.

    A list page asks on every view; the answer costs two information_schema queries, so a
    process keeps it for a while: one installed by another process is used within that time,
    and one removed by another process shows as a missing table, which its reader takes as
    a cue to call forget() and fall back.
    """
    if connection.vendor not in kept.vendors:
        return False
    key = (connection.alias, str(connection.settings_dict.get("NAME")), kept.name)
    now = time.monotonic()
    known = _checked.get(key)
    if known is None or now - known[0] > RECHECK_SECONDS:
        known = (now, kept.installed(connection))
        _checked[key] = known
    return known[1]


def forget() -> None:
    """Drop every cached answer of installed_cached (after an install or removal, in tests)."""
    _checked.clear()
