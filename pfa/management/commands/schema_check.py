"""Report what the database holds and which features that enables; changes nothing."""

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from mail import pfa_encrypt
from mail.pfa_encrypt import StoredFormat
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
        self._report_hashes(connection)
        self._report_resets()
        out("Nothing in the Postfix Admin tables is changed by this project's migrate.")

    def _report_hashes(self, connection: BaseDatabaseWrapper) -> None:
        # With Postfix Admin on the same database, a setting that does not match its encrypt
        # value locks its users out of it after their next login here.
        out = self.stdout.write
        total: Counter[StoredFormat] = Counter()
        out("Password hashes:")
        for table in ("admin", "mailbox"):
            found = _hash_formats(connection, table)
            total.update(found)
            listed = ", ".join(f"{f.label}: {n}" for f, n in found.most_common()) or "none"
            out(f"  {table}: {listed}")
        recommended = pfa_encrypt.recommend(total)
        if recommended:
            out(
                f"Recommended VIMBADMIN_PFA_ENCRYPT: {recommended} (if Postfix Admin runs on this "
                "database: check $CONF['encrypt'] in its config.local.php)."
            )
        try:
            target = pfa_encrypt.from_settings()
        except ValueError as exc:
            out(f"Warning: VIMBADMIN_PFA_ENCRYPT: {exc}")
            return
        if target is None:
            pfa_only = {f: n for f, n in total.items() if pfa_encrypt.written_by(f)}
            out("VIMBADMIN_PFA_ENCRYPT: none (no Postfix Admin beside this project).")
            if pfa_only:
                out(
                    f"Warning: {sum(pfa_only.values())} passwords are in formats only Postfix "
                    f"Admin writes ({_labels(pfa_only)}). If Postfix Admin still runs on this "
                    f"database, set VIMBADMIN_PFA_ENCRYPT={recommended or 'its encrypt value'}: "
                    "otherwise a login here re-hashes the password into a format Postfix Admin "
                    "may not verify."
                )
            return
        write = target.write
        out(f"VIMBADMIN_PFA_ENCRYPT={target.value}: new passwords are written as {write.example}.")
        written = any(write.is_written_as(f) for f in total)
        if total and target.writes_as_pfa and not written:
            out(
                f"Warning: no stored password is written as {write.example}: make sure "
                f"{target.value} is Postfix Admin's $CONF['encrypt']."
            )
        refused = {f: n for f, n in total.items() if f.family != "EMPTY" and not target.verifies(f)}
        if refused:
            then = (
                f"each is re-hashed as {write.example} at that user's next login here"
                if target.rehash_on_login
                else "those users can log in to it again only after a password change"
            )
            out(
                f"Warning: Postfix Admin ({target.value}) cannot verify {sum(refused.values())} "
                f"passwords ({_labels(refused)}); {then}."
            )

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


# Rows read per query: memory stays flat on a million mailboxes, on every engine.
_CHUNK = 5000


def _hash_formats(
    connection: BaseDatabaseWrapper, table: str, chunk: int = _CHUNK
) -> Counter[StoredFormat]:
    """Count the hash formats of a table's password column."""
    counts: Counter[StoredFormat] = Counter()
    last = None
    with connection.cursor() as cursor:
        while True:
            if last is None:
                cursor.execute(
                    f"SELECT username, password FROM {table} ORDER BY username LIMIT %s",  # noqa: S608
                    [chunk],
                )
            else:
                cursor.execute(
                    f"SELECT username, password FROM {table} WHERE username > %s"  # noqa: S608
                    " ORDER BY username LIMIT %s",
                    [last, chunk],
                )
            rows = cursor.fetchall()
            counts.update(pfa_encrypt.recognise(password or "") for _, password in rows)
            if len(rows) < chunk:
                return counts
            last = rows[-1][0]


def _labels(counts: dict[StoredFormat, int]) -> str:
    return ", ".join(f.label for f in sorted(counts, key=lambda f: -counts[f]))
