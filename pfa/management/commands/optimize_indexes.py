"""List, print or add the list-page and search indexes (pfa.derived.indexes) and the trigger-kept
tables (pfa.derived.kept) on an adopted database; remove the kept tables again.

Nothing is changed without --apply (or --remove-kept / --remove-search): an adopted database
belongs to its operator, who decides whether to add indexes to Postfix Admin's tables (they are
plain, non-unique indexes that Postfix Admin, Postfix and Dovecot ignore). On PostgreSQL they are
built CONCURRENTLY, so mail delivery and the Postfix Admin UI keep writing while they are built.
The trigram search indexes are included only with --search: on PostgreSQL they need the pg_trgm
extension, which --apply creates when the database user may (PostgreSQL 13+: the database's
owner may); on MariaDB/MySQL they are the project's two search tables kept by triggers on
`mailbox` and `alias` (pfa.derived.search_grams), which --apply creates and fills and
--remove-search drops again.

On MariaDB/MySQL the list's extra structure is a kept table: a table of the project's own, filled
once and then kept exact by AFTER INSERT/UPDATE/DELETE triggers on Postfix Admin's `alias` and
`mailbox` (added beside any triggers already there), so every writer keeps it right. Creating
triggers needs the TRIGGER privilege, and with binary logging on also SUPER or
log_bin_trust_function_creators. The triggers run as the user who created them: drop them with
--remove-kept and --remove-search before dropping that user, or every write to those tables
fails. A TRUNCATE of `alias` or `mailbox` fires no trigger: remove and --apply again after one.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from pfa.derived import kept, search_grams
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
from pfa.schema import SchemaError, check_usable, inspect_database


def _columns(index: ListIndex | SearchIndex) -> str:
    if isinstance(index, SearchIndex):
        return f"{index.expression} gin_trgm_ops"
    return ", ".join(index.columns)


class Command(BaseCommand):
    help = (
        "Show the indexes (and on MariaDB/MySQL the trigger-kept tables) that keep list pages "
        "fast on large Postfix Admin databases; --search adds PostgreSQL's trigram indexes for "
        "searches, --sql prints the SQL, --apply creates them, --remove-kept drops the kept "
        "tables and their triggers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument("--sql", action="store_true", help="print the SQL only")
        parser.add_argument(
            "--apply", action="store_true", help="create the missing indexes and kept tables"
        )
        parser.add_argument(
            "--remove-kept",
            action="store_true",
            help="drop the kept tables and their triggers (MariaDB/MySQL); with --sql, print it",
        )
        parser.add_argument(
            "--search",
            action="store_true",
            help=(
                "include the trigram search indexes (PostgreSQL: needs the pg_trgm extension; "
                "MariaDB/MySQL: two tables kept by triggers on mailbox and alias)"
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
        if options["remove_kept"]:
            self._remove_kept(connection, sql_only=options["sql"])
            return
        if options["remove_search"]:
            if not search_grams.supported(connection):
                raise CommandError(_("--remove-search is for MariaDB/MySQL's search tables."))
            search_grams.remove(connection)
            self.stdout.write(
                _("removed the search tables and their triggers; searches read the rows")
            )
            return
        search = options["search"]
        # MariaDB's search structure is its search tables, listed and created beside the rest.
        search_tables = search and search_grams.supported(connection)
        if search_tables:
            search = False
        if search and not search_wanted(connection):
            self.stdout.write(
                _("%(vendor)s has no index for substring searches; they read the domain's rows.")
                % {"vendor": connection.vendor}
            )
            search = False
        if (
            not wanted(connection)
            and not search
            and not kept.wanted(connection)
            and not search_tables
        ):
            self.stdout.write(
                _(
                    "Nothing to do on %(vendor)s: its secondary indexes already end with the "
                    "primary key."
                )
                % {"vendor": connection.vendor}
            )
            return
        todo: list[ListIndex | SearchIndex] = [*missing(connection)]
        kept_todo = kept.missing(connection)
        grams_todo = search_tables and not search_grams.is_installed(connection)
        needs_extension = False
        if search:
            todo += missing_search(connection)
            needs_extension = bool(search_wanted(connection)) and not has_trigram_extension(
                connection
            )
        if not todo and not kept_todo and not grams_todo:
            if wanted(connection):
                self.stdout.write(_("All list indexes are present."))
            if kept.wanted(connection):
                self.stdout.write(_("All kept tables are present."))
            if search_tables:
                self.stdout.write(_("The search tables and their triggers are present."))
            elif search:
                self.stdout.write(_("All search indexes are present."))
            else:
                self._hint_search(connection)
            return
        if options["sql"]:
            if needs_extension and any(isinstance(i, SearchIndex) for i in todo):
                self.stdout.write(CREATE_EXTENSION_SQL + ";")
            for index in todo:
                self.stdout.write(index.create_sql(connection, concurrently=True) + ";")
            for table in kept_todo:
                self.stdout.write(table.script(connection))
            if grams_todo:
                self._search_tables_sql(connection)
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
        for table in kept_todo:
            self.stdout.write(
                _("missing: %(name)s, a table kept by triggers on %(tables)s, for the %(purpose)s")
                % {
                    "name": table.name,
                    "tables": " and ".join(sorted({t.table for t in table.triggers})),
                    "purpose": table.purpose,
                }
            )
        if grams_todo:
            self.stdout.write(
                _(
                    "missing: the search tables %(tables)s and their triggers on mailbox and "
                    "alias, for the mailbox and alias searches"
                )
                % {"tables": f"{search_grams.ROW_TABLE}, {search_grams.GRAM_TABLE}"}
            )
        if not options["apply"]:
            self.stdout.write(_("Nothing changed; run again with --apply to create them."))
            if not search and not search_tables:
                self._hint_search(connection)
            return
        # CREATE INDEX CONCURRENTLY refuses to run inside a transaction, and a kept table's fill
        # commits one chunk at a time.
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
        for table in kept_todo:
            self._install(connection, table)
        if grams_todo:
            self._install_search_tables(connection)

    def _install(self, connection: BaseDatabaseWrapper, table: kept.KeptTable) -> None:
        started = time.monotonic()
        try:
            rows = table.install(connection)
        except DatabaseError as exc:
            raise self._refused(table.name, exc) from None
        self.stdout.write(
            _("created %(name)s and its triggers (%(rows)d rows, %(seconds).1f s)")
            % {"name": table.name, "rows": rows, "seconds": time.monotonic() - started}
        )

    def _remove_kept(self, connection: BaseDatabaseWrapper, *, sql_only: bool) -> None:
        present = [table for table in kept.KEPT_TABLES if table.present(connection)]
        if not present:
            self.stdout.write(_("No kept table to remove."))
            return
        for table in present:
            if sql_only:
                for statement in table.drop_sql(connection):
                    self.stdout.write(statement + ";")
                continue
            table.remove(connection)
            self.stdout.write(_("removed %(name)s and its triggers") % {"name": table.name})

    def _search_tables_sql(self, connection: BaseDatabaseWrapper) -> None:
        for statement in search_grams.table_sql(connection):
            self.stdout.write(statement + ";")
        self.stdout.write("DELIMITER //")
        for name in search_grams.TRIGGERS:
            self.stdout.write(search_grams.trigger_sql(name, connection) + " //")
        self.stdout.write("DELIMITER ;")
        self.stdout.write(
            _("-- Then index the existing rows: `manage.py optimize_indexes --search --apply`.")
        )

    def _install_search_tables(self, connection: BaseDatabaseWrapper) -> None:
        def progress(table: str, seconds: float) -> None:
            self.stdout.write(
                _("indexed the rows of %(table)s in %(seconds).1f s")
                % {"table": table, "seconds": seconds}
            )

        try:
            search_grams.install(connection, progress)
        except DatabaseError as exc:
            search_grams.remove(connection)
            raise self._refused(search_grams.GRAM_TABLE, exc) from None
        self.stdout.write(_("created the search tables and their triggers"))

    def _refused(self, name: str, exc: DatabaseError) -> CommandError:
        return CommandError(
            _(
                "%(name)s was not created, and nothing of it is left: the database refused "
                "(%(error)s). Creating triggers needs the TRIGGER privilege on alias and "
                "mailbox, and with binary logging on also SUPER or "
                "log_bin_trust_function_creators = 1."
            )
            % {"name": name, "error": str(exc).strip()}
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
