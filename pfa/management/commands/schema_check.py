"""Report what the database holds and which features that enables; changes nothing."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from pfa.ddl import FRESH_VERSION
from pfa.schema import OPTIONAL_COLUMNS, SchemaError, check_usable, inspect_database


class Command(BaseCommand):
    help = "Describe the Postfix Admin database (version, optional columns, super admins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        state = inspect_database(connection)
        out = self.stdout.write
        out(f"Database: {connection.vendor} {connection.settings_dict.get('NAME')}")
        if state.kind == "empty":
            out(
                "The database is empty: `manage.py migrate` creates Postfix Admin "
                f"{FRESH_VERSION}'s schema in it."
            )
            return
        try:
            check_usable(state)
        except SchemaError as exc:
            raise CommandError(str(exc)) from None
        out(f"Postfix Admin schema version: {state.version}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM domain_admins WHERE domain = %s", ["ALL"])
            all_rows = cursor.fetchone()[0]
            cursor.execute("SELECT COUNT(*) FROM domain WHERE domain = %s", ["ALL"])
            all_domain = cursor.fetchone()[0]
            cursor.execute("SELECT COUNT(*) FROM admin WHERE superadmin = %s", [True])
            flagged = cursor.fetchone()[0]
        out(
            f"Super admins: {flagged} by admin.superadmin, {all_rows} by domain_admins 'ALL' rows "
            f"(pseudo-domain row ALL {'present' if all_domain else 'missing'})."
        )
        out("Optional columns:")
        for (table, column), feature in OPTIONAL_COLUMNS.items():
            present = state.has_column(table, column)
            status = "present, enabled" if present else "missing, switched off"
            out(f"  {table}.{column}: {status}: {feature}")
        missing_optional = [t for t in ("vacation", "quota2", "fetchmail") if t not in state.tables]
        if missing_optional:
            out(f"Missing optional tables: {', '.join(missing_optional)}")
        self._report_resets()
        out("Nothing in the Postfix Admin tables is changed by this project's migrate.")

    def _report_resets(self) -> None:
        # Admins who cannot get a reset link by mail, and why: the operator should know before
        # someone is locked out (the recovery is `manage.py setpassword`).
        from accounts.resets import admins_without_mailed_reset

        refused = admins_without_mailed_reset()
        if not refused:
            self.stdout.write("Password reset links: every admin's reset address is safe.")
            return
        self.stdout.write("Password reset links that will not be mailed:")
        for admin, route in refused:
            state = "off" if route.off else f"refused for {route.address}"
            self.stdout.write(f"  {admin.username}: {state}: {route.problem}")
