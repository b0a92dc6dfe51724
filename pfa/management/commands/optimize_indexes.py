"""List, print or add the list-page indexes (pfa.indexes) on an adopted Postfix Admin database.

Nothing is changed without --apply: an adopted database belongs to its operator, who decides
whether to add indexes to Postfix Admin's tables (they are plain, non-unique indexes that
Postfix Admin, Postfix and Dovecot ignore). On PostgreSQL they are built CONCURRENTLY, so mail
delivery and the Postfix Admin UI keep writing while they are built.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils.translation import gettext as _

from pfa.indexes import missing, wanted
from pfa.schema import SchemaError, check_usable, inspect_database


class Command(BaseCommand):
    help = (
        "Show the indexes that keep list pages fast on large Postfix Admin databases; "
        "--sql prints their CREATE INDEX statements, --apply creates them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument("--sql", action="store_true", help="print the SQL only")
        parser.add_argument("--apply", action="store_true", help="create the missing indexes")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        state = inspect_database(connection)
        if state.kind == "empty":
            raise CommandError(_("The database is empty: run `manage.py migrate` first."))
        try:
            check_usable(state)
        except SchemaError as exc:
            raise CommandError(str(exc)) from None
        if not wanted(connection):
            self.stdout.write(
                _(
                    "Nothing to do on %(vendor)s: its secondary indexes already end with the "
                    "primary key."
                )
                % {"vendor": connection.vendor}
            )
            return
        todo = missing(connection)
        if not todo:
            self.stdout.write(_("All list indexes are present."))
            return
        if options["sql"]:
            for index in todo:
                self.stdout.write(index.create_sql(connection, concurrently=True) + ";")
            return
        for index in todo:
            self.stdout.write(
                _("missing: %(name)s on %(table)s (%(columns)s), for the %(purpose)s")
                % {
                    "name": index.name,
                    "table": index.table,
                    "columns": ", ".join(index.columns),
                    "purpose": index.purpose,
                }
            )
        if not options["apply"]:
            self.stdout.write(_("Nothing changed; run again with --apply to create them."))
            return
        # CREATE INDEX CONCURRENTLY refuses to run inside a transaction.
        connection.ensure_connection()
        if not connection.get_autocommit():
            raise CommandError(_("--apply needs autocommit (do not run it inside a transaction)."))
        with connection.cursor() as cursor:
            for index in todo:
                cursor.execute(index.create_sql(connection, concurrently=True))
                self.stdout.write(_("created %(name)s") % {"name": index.name})
