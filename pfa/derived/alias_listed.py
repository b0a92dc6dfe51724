"""The alias list's keys as a trigger-maintained table (MariaDB/MySQL): `vimbadmin_alias_listed`.

Each domain's alias rows whose address is no mailbox's username (Postfix Admin's alias list
leaves the mailboxes' own rows out), keyed (domain, address), so a page of the alias list is a
range of its primary key. MariaDB has no merge join: without the table, hiding the mailboxes'
own rows probes `mailbox` once per alias row up to the page (figures in bench/RESULTS.md).
The triggers follow the rules of pfa.derived.triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from pfa.derived.triggers import Column, Progress, Table, Trigger, TriggerTable

NAME = "vimbadmin_alias_listed"

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


def _trigger(table: str, event: str, statements: str) -> Trigger:
    return Trigger(f"{NAME}_{table}_{event.lower()}", table, event, _block(statements))


# A deadlock (1213) or lock wait timeout (1205) with a concurrent write: the chunk, rolled back
# whole, is simply run again (the write it met has committed or rolled back by then).
_RETRY_ERRORS = (1205, 1213)
_RETRIES = 5


@dataclass(frozen=True, kw_only=True)
class ChunkFilledTable(TriggerTable):
    """A trigger-maintained table filled a chunk at a time, each in its own transaction.

    `chunks_sql` selects the chunk keys (`{table}` is the table), `fill` the statements that
    rebuild the rows of one key (`{chunk}` is the condition `chunk_column = %s`).

    Why this loses no concurrent write: each chunk is rebuilt (its rows deleted, then derived
    again from the source tables) in its own REPEATABLE READ transaction, where INSERT ...
    SELECT locks every source row it reads and the gaps where it found none. A concurrent write
    either committed before (and is read) or waits until the chunk commits and then fires its
    trigger on a table that is right for that chunk. READ COMMITTED would read without locks
    and could store a row that a write committed a moment later had made wrong. Until the last
    trigger exists the table may take rows the missing ones would have corrected, which the
    fill, run after them, rebuilds. A write waits at most for one chunk, not the install.
    """

    chunks_sql: str
    chunk_column: str
    fill_statements: tuple[str, ...]
    # Counts the source rows missing from the table, per source table (see unfilled()).
    unfilled_sql: dict[str, str]

    def fill_sql(self, *, chunked: bool) -> list[str]:
        """Return the fill's statements, for one chunk key (one %s each) or for every row."""
        chunk = f"{self.chunk_column} = %s" if chunked else "1 = 1"
        return [s.format(table=self.name, chunk=chunk) for s in self.fill_statements]

    def fill(self, connection: BaseDatabaseWrapper, progress: Progress | None = None) -> int:
        """Rebuild every chunk, one transaction each; return the rows inserted."""
        with connection.cursor() as cursor:
            cursor.execute(self.chunks_sql.format(table=self.name))
            keys = [row[0] for row in cursor.fetchall()]
            return sum(_fill_chunk(cursor, self.fill_sql(chunked=True), key) for key in keys)

    def unfilled(self, connection: BaseDatabaseWrapper) -> dict[str, int]:
        """Return how many rows of each source table lack their row in the table (if any)."""
        out = {}
        with connection.cursor() as cursor:
            for source, sql in self.unfilled_sql.items():
                cursor.execute(sql.format(table=self.name))
                count = int(cursor.fetchone()[0])
                if count:
                    out[source] = count
        return out

    def fill_script(self) -> list[str]:
        """Return the fill as one transaction (--apply fills one chunk per transaction)."""
        lines = ["SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;", "START TRANSACTION;"]
        lines += [f"{s};" for s in self.fill_sql(chunked=False)]
        return [*lines, "COMMIT;"]


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


ALIAS_LISTED = ChunkFilledTable(
    name=NAME,
    label=NAME,
    purpose=(
        "alias list of a domain without the mailboxes' own alias rows, in address order, "
        "first and deep pages"
    ),
    tables=(
        Table(
            NAME,
            (
                Column("domain", like=("alias", "domain")),
                Column("address", like=("alias", "address")),
            ),
            ("PRIMARY KEY (`domain`, `address`)",),
        ),
    ),
    triggers=(
        _trigger("alias", "INSERT", _ALIAS_LISTED_IF_NO_OWNER),
        _trigger("alias", "UPDATE", _ALIAS_KEY_CHANGED),
        _trigger("alias", "DELETE", _ALIAS_GONE),
        _trigger("mailbox", "INSERT", _MAILBOX_GAINED),
        _trigger("mailbox", "UPDATE", _MAILBOX_RENAMED),
        _trigger("mailbox", "DELETE", _MAILBOX_LOST),
    ),
    # Every domain with alias rows, and any the table holds rows of (from before its triggers).
    chunks_sql="SELECT domain FROM alias UNION SELECT domain FROM {table}",
    chunk_column="domain",
    fill_statements=(
        "DELETE FROM {table} WHERE {chunk}",
        "INSERT IGNORE INTO {table} (domain, address) SELECT a.domain, a.address FROM alias a"
        " WHERE {chunk} AND NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.username = a.address)",
    ),
    unfilled_sql={
        "alias": "SELECT COUNT(*) FROM alias a WHERE NOT EXISTS (SELECT 1 FROM mailbox m"
        " WHERE m.username = a.address) AND NOT EXISTS (SELECT 1 FROM {table} l"
        " WHERE l.domain = a.domain AND l.address = a.address)"
    },
)
