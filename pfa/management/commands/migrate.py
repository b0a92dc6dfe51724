"""`migrate`, refusing a database that is neither empty nor adoptable before anything is written."""

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from pfa.schema import SchemaError, check_usable, inspect_database


class Command(DjangoMigrate):
    help = (
        "Create Postfix Admin 4.0's schema on an empty database, or adopt an existing Postfix "
        "Admin database without changing its tables; then create the project's own tables."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        try:
            check_usable(inspect_database(connection))
        except SchemaError as exc:
            raise CommandError(str(exc)) from None
        super().handle(*args, **options)
