"""List, print, install or remove the derived structures (pfa.derived): the list-page and search
indexes, and on MariaDB/MySQL the trigger-maintained tables with their triggers.

Nothing is changed without --apply (or --remove-tables / --remove-search): an adopted database
belongs to its operator, who decides whether to add indexes to Postfix Admin's tables (they are
plain, non-unique indexes that Postfix Admin, Postfix and Dovecot ignore). On PostgreSQL they are
built CONCURRENTLY, so mail delivery and the Postfix Admin UI keep writing while they are built.
The search structures are included only with --search: on PostgreSQL the trigram indexes, which
need the pg_trgm extension, which --apply creates when the database user may (PostgreSQL 13+:
the database's owner may); on MariaDB/MySQL the project's two search tables maintained by
triggers on `mailbox` and `alias` (pfa.derived.search_grams), which --apply creates and fills
and --remove-search drops again.

On MariaDB/MySQL the alias list's extra structure is a trigger-maintained table: a table of the
project's own, filled once and then kept exact by AFTER INSERT/UPDATE/DELETE triggers on Postfix
Admin's `alias` and `mailbox` (added beside any triggers already there), so every writer keeps it
right. One that exists in an older version (see pfa.derived.triggers) is listed as outdated, and
--apply installs it anew (as `migrate` does). Creating triggers needs the TRIGGER privilege, and
with binary logging on also SUPER or log_bin_trust_function_creators. The triggers run as the
user who created them: drop them with --remove-tables and --remove-search before dropping that
user, or every write to those tables fails. A TRUNCATE of `alias` or `mailbox` fires no trigger:
remove and --apply again after one.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pfa.derived import TRIGGER_TABLES
from pfa.derived.indexes import (
    CREATE_EXTENSION_SQL,
    ListIndex,
    SearchIndex,
    has_trigram_extension,
    missing,
    missing_search,
    search_wanted,
    wanted,
)
from pfa.derived.triggers import INSTALLED, OUTDATED, IncompleteFill, TriggerTable
from pfa.schema import SchemaError, check_usable, inspect_database


def _columns(index: ListIndex | SearchIndex) -> str:
    if isinstance(index, SearchIndex):
        return f"{index.expression} gin_trgm_ops"
    return ", ".join(index.columns)


def _sources(table: TriggerTable) -> str:
    return " and ".join(table.sources)


def _unfilled(unfilled: dict[str, int]) -> str:
    return ", ".join(
        ngettext("%(count)d row of %(table)s", "%(count)d rows of %(table)s", count)
        % {"count": count, "table": table}
        for table, count in unfilled.items()
    )


INCOMPLETE = "incomplete"


class Command(BaseCommand):
    help = (
        "Show the indexes (and on MariaDB/MySQL the trigger-maintained tables) that keep list "
        "pages fast on large Postfix Admin databases; --search adds the search structures, "
        "--sql prints the SQL, --apply creates them (and replaces outdated ones), "
        "--remove-tables and --remove-search drop the trigger-maintained tables again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument("--sql", action="store_true", help="print the SQL only")
        parser.add_argument(
            "--apply",
            action="store_true",
            help="create the missing indexes and tables, and replace outdated tables",
        )
        parser.add_argument(
            "--remove-tables",
            action="store_true",
            help=(
                "drop the lists' trigger-maintained tables and their triggers (MariaDB/MySQL); "
                "with --sql, print it"
            ),
        )
        parser.add_argument(
            "--search",
            action="store_true",
            help=(
                "include the search structures (PostgreSQL: trigram indexes, needs the pg_trgm "
                "extension; MariaDB/MySQL: two tables maintained by triggers on mailbox and alias)"
            ),
        )
        parser.add_argument(
            "--remove-search",
            action="store_true",
            help="MariaDB/MySQL: drop the search tables and their triggers",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        state = inspect_database(connection)
        if state.kind == "empty":
            raise CommandError(_("The database is empty: run `manage.py migrate` first."))
        try:
            check_usable(state)
        except SchemaError as exc:
            raise CommandError(str(exc)) from None
        if options["remove_tables"]:
            self._remove(connection, search=False, sql_only=options["sql"])
            return
        if options["remove_search"]:
            if not any(t.search and connection.vendor in t.vendors for t in TRIGGER_TABLES):
                raise CommandError(_("--remove-search is for MariaDB/MySQL's search tables."))
            self._remove(connection, search=True, sql_only=options["sql"])
            return
        search = options["search"]
        tables = [
            t for t in TRIGGER_TABLES if connection.vendor in t.vendors and (search or not t.search)
        ]
        search_tables = [t for t in tables if t.search]
        # Where the search structure is a trigger-maintained table, there is no search index.
        search_indexes = search and not search_tables
        if search_indexes and not search_wanted(connection):
            self.stdout.write(
                _("%(vendor)s has no index for substring searches; they read the domain's rows.")
                % {"vendor": connection.vendor}
            )
            search_indexes = False
        if not wanted(connection) and not search_indexes and not tables:
            self.stdout.write(
                _(
                    "Nothing to do on %(vendor)s: its secondary indexes already end with the "
                    "primary key."
                )
                % {"vendor": connection.vendor}
            )
            return
        todo: list[ListIndex | SearchIndex] = [*missing(connection)]
        states = {t.name: t.state(connection) for t in tables}
        # An installed table whose rows a fill left incomplete is built anew, like an outdated one.
        unfilled = {t.name: t.unfilled(connection) for t in tables if states[t.name] == INSTALLED}
        states.update({name: INCOMPLETE for name, rows in unfilled.items() if rows})
        tables_todo = [t for t in tables if states[t.name] != INSTALLED]
        needs_extension = False
        if search_indexes:
            todo += missing_search(connection)
            needs_extension = not has_trigram_extension(connection)
        if not todo and not tables_todo:
            if wanted(connection):
                self.stdout.write(_("All list indexes are present."))
            if any(not t.search for t in tables):
                self.stdout.write(_("All trigger-maintained tables are present."))
            if search_tables:
                self.stdout.write(_("The search tables and their triggers are present."))
            elif search_indexes:
                self.stdout.write(_("All search indexes are present."))
            else:
                self._hint_search(connection)
            return
        if options["sql"]:
            if needs_extension and any(isinstance(i, SearchIndex) for i in todo):
                self.stdout.write(CREATE_EXTENSION_SQL + ";")
            for index in todo:
                self.stdout.write(index.create_sql(connection, concurrently=True) + ";")
            for table in tables_todo:
                self.stdout.write(table.script(connection))
            return
        for index in todo:
            self.stdout.write(
                _("missing: %(name)s on %(table)s (%(columns)s), for the %(purpose)s")
                % {
                    "name": index.name,
                    "table": index.table,
                    "columns": _columns(index),
                    "purpose": index.purpose,
                }
            )
        for table in tables_todo:
            values = {"label": table.label, "sources": _sources(table), "purpose": table.purpose}
            if states[table.name] == INCOMPLETE:
                values["rows"] = _unfilled(unfilled[table.name])
                message = _(
                    "incomplete: %(label)s, maintained by triggers on %(sources)s, for the "
                    "%(purpose)s: its fill missed %(rows)s; --apply builds it anew"
                )
            elif states[table.name] == OUTDATED:
                message = _(
                    "outdated: %(label)s, maintained by triggers on %(sources)s, for the "
                    "%(purpose)s: its triggers or its version are not this release's"
                )
            else:
                message = _(
                    "missing: %(label)s, maintained by triggers on %(sources)s, for the %(purpose)s"
                )
            self.stdout.write(message % values)
        if not options["apply"]:
            self.stdout.write(_("Nothing changed; run again with --apply to create them."))
            if not search:
                self._hint_search(connection)
            return
        # CREATE INDEX CONCURRENTLY refuses to run inside a transaction, and a trigger-maintained
        # table's fill commits one chunk at a time.
        connection.ensure_connection()
        if not connection.get_autocommit():
            raise CommandError(_("--apply needs autocommit (do not run it inside a transaction)."))
        with connection.cursor() as cursor:
            for index in todo:
                if isinstance(index, SearchIndex) and needs_extension:
                    self._create_extension(connection, cursor)
                    needs_extension = False
                cursor.execute(index.create_sql(connection, concurrently=True))
                self.stdout.write(_("created %(name)s") % {"name": index.name})
        for table in tables_todo:
            self._install(connection, table)

    def _install(self, connection: BaseDatabaseWrapper, table: TriggerTable) -> None:
        def progress(source: str, seconds: float) -> None:
            self.stdout.write(
                _("indexed the rows of %(table)s in %(seconds).1f s")
                % {"table": source, "seconds": seconds}
            )

        started = time.monotonic()
        try:
            rows = table.install(connection, progress)
        except IncompleteFill as exc:
            raise CommandError(
                _(
                    "%(label)s not created, and nothing of it is left: its fill missed "
                    "%(rows)s, although the database reported no error. "
                    "Run this again; if it fails again, report it with the MariaDB/MySQL "
                    "version."
                )
                % {"label": table.label, "rows": _unfilled(exc.unfilled)}
            ) from None
        except (DatabaseError, LookupError) as exc:
            raise CommandError(
                _(
                    "%(label)s not created, and nothing of it is left: the database refused "
                    "(%(error)s). Creating triggers needs the TRIGGER privilege on alias and "
                    "mailbox, and with binary logging on also SUPER or "
                    "log_bin_trust_function_creators = 1."
                )
                % {"label": table.label, "error": str(exc).strip()}
            ) from None
        self.stdout.write(
            _("created %(label)s and the triggers on %(sources)s (%(rows)d rows, %(seconds).1f s)")
            % {
                "label": table.label,
                "sources": _sources(table),
                "rows": rows,
                "seconds": time.monotonic() - started,
            }
        )

    def _remove(self, connection: BaseDatabaseWrapper, *, search: bool, sql_only: bool) -> None:
        present = [t for t in TRIGGER_TABLES if t.search == search and t.present(connection)]
        if not present:
            self.stdout.write(_("No trigger-maintained table to remove."))
            return
        for table in present:
            if sql_only:
                for statement in table.drop_sql(connection):
                    self.stdout.write(statement + ";")
                continue
            table.remove(connection)
            self.stdout.write(
                _("removed %(label)s and the triggers on %(sources)s")
                % {"label": table.label, "sources": _sources(table)}
            )

    def _create_extension(self, connection: BaseDatabaseWrapper, cursor: Any) -> None:
        try:
            cursor.execute(CREATE_EXTENSION_SQL)
        except DatabaseError as exc:
            raise CommandError(
                _(
                    "The search indexes need the pg_trgm extension, which this database user "
                    "may not create (%(error)s). Have a superuser or the database's owner run "
                    "`CREATE EXTENSION pg_trgm;` in database %(name)s, then run this again."
                )
                % {"error": str(exc).strip(), "name": connection.settings_dict["NAME"]}
            ) from None
        self.stdout.write(_("created extension pg_trgm"))

    def _hint_search(self, connection: BaseDatabaseWrapper) -> None:
        if search_wanted(connection) and missing_search(connection):
            self.stdout.write(
                _(
                    "The trigram search indexes are not included; add --search to list or "
                    "create them too."
                )
            )
