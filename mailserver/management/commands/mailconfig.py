"""`mailconfig postfix|dovecot`: print or write Postfix / Dovecot config for this database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mailserver.configs import (
    VACATION_LAUNCHER,
    ConfigError,
    Options,
    database_from_settings,
    dovecot_files,
    postfix_files,
)

PASSWORD_ENV = "VIMBADMIN_MAILCONFIG_DB_PASSWORD"  # noqa: S105 (a variable name)
DEFAULT_CONFIG_DIRS = {"postfix": "/etc/postfix/sql", "dovecot": "/etc/dovecot"}


class Command(BaseCommand):
    help = (
        "Print (or write into --output) Postfix map files and main.cf lines, or Dovecot 2.3 "
        "passdb/userdb/quota-dict files, that read this project's database. Passwords are "
        f"taken from --db-password-file or ${PASSWORD_ENV}, never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=["postfix", "dovecot"])
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="Write one file per map/snippet into DIR (created if missing) instead of "
            "printing them.",
        )
        parser.add_argument(
            "--config-dir",
            metavar="DIR",
            help="Where the files will be installed, for the paths inside them. Default: the "
            "--output directory, else /etc/postfix/sql or /etc/dovecot.",
        )
        parser.add_argument("--mail-root", default="/var/vmail", metavar="DIR")
        parser.add_argument(
            "--mail-location",
            default="maildir:~/",
            metavar="LOC",
            help="Dovecot's mail_location relative to each home (default: %(default)s); "
            "import_vimbadmin prints the one its mailboxes use.",
        )
        parser.add_argument(
            "--mailbox-locations",
            action="store_true",
            help="Return the home and mail location a mailbox keeps of its own (imported from "
            "ViMbAdmin 3 off the common template) from Dovecot's user query.",
        )
        parser.add_argument("--uid", type=int, default=5000)
        parser.add_argument("--gid", type=int, default=5000)
        parser.add_argument(
            "--mail-user",
            default="vmail",
            help="System user owning the mail (uid); Dovecot's dict socket is opened to it.",
        )
        parser.add_argument(
            "--db-user",
            metavar="U",
            help="Database role for Postfix/Dovecot (ideally read-only). Default: the "
            "application's own user and password.",
        )
        parser.add_argument(
            "--db-password-file",
            metavar="F",
            help=f"File holding the --db-user password (first line). ${PASSWORD_ENV} also works.",
        )
        parser.add_argument(
            "--proxy",
            action="store_true",
            help="Wrap Postfix maps in proxy: so proxymap shares database connections.",
        )
        parser.add_argument(
            "--second-factor",
            action="store_true",
            help="Postfix Admin 4 databases: Dovecot accepts app passwords, and takes the main "
            "password of a mailbox with a TOTP secret only from its TOTP exception addresses.",
        )
        parser.add_argument(
            "--password-expiry",
            action="store_true",
            help="Dovecot refuses a mailbox whose password has expired (mailbox.password_expiry; "
            "a domain with password_expiry 0 never expires), as Postfix Admin documents. Set "
            "VIMBADMIN_PASSWORD_EXPIRY_ENFORCED=true with it so the pages show the expiry.",
        )
        parser.add_argument("--database", default="default", help="Django database alias.")
        parser.add_argument(
            "--vacation-domain",
            metavar="DOMAIN",
            help="Also write the auto-responder's files (master.cf.vacation, vacation-deliver) "
            "and transport for this domain. Default: VIMBADMIN_VACATION_DOMAIN.",
        )
        parser.add_argument(
            "--vacation-user",
            default="vimbadmin",
            help="System user pipe(8) runs the auto-responder as (not root).",
        )
        parser.add_argument(
            "--vacation-env-file",
            default="/etc/vimbadmin/vimbadmin.env",
            metavar="F",
            help="Environment file (DATABASE_URL, EMAIL_HOST, ...) the auto-responder loads.",
        )
        parser.add_argument(
            "--vacation-python",
            default=sys.executable,
            metavar="PATH",
            help="Python that runs the auto-responder. Default: this one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target: str = options["target"]
        db_settings = settings.DATABASES.get(options["database"])
        if db_settings is None:
            raise CommandError(f"No database {options['database']!r} in DATABASES.")
        output = Path(options["output"]).absolute() if options["output"] else None
        config_dir = options["config_dir"] or (
            str(output) if output else DEFAULT_CONFIG_DIRS[target]
        )
        try:
            database = database_from_settings(
                db_settings, user=options["db_user"], password=self._password(options)
            )
            opts = Options(
                database=database,
                config_dir=str(config_dir),
                mail_root=options["mail_root"],
                uid=options["uid"],
                gid=options["gid"],
                mail_user=options["mail_user"],
                proxy=options["proxy"],
                vacation_domain=(
                    options["vacation_domain"]
                    if options["vacation_domain"] is not None
                    else settings.VIMBADMIN_VACATION_DOMAIN
                )
                .strip()
                .lower()
                if target == "postfix"
                else "",
                vacation_user=options["vacation_user"],
                vacation_command=_manage_command(options["vacation_python"]),
                vacation_env_file=options["vacation_env_file"],
                second_factor=options["second_factor"],
                mail_location=options["mail_location"],
                mailbox_locations=options["mailbox_locations"],
                password_expiry=options["password_expiry"],
            )
            files = postfix_files(opts) if target == "postfix" else dovecot_files(opts)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None

        if output is None:
            for name, text in files.items():
                self.stdout.write(f"# ==> {name} <==\n{text}\n", ending="")
            return
        output.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = output / name
            # Created private first, so the password is never readable by others, not even
            # for a moment.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            # The auto-responder's launcher is run, not read.
            path.chmod(0o750 if name == VACATION_LAUNCHER else 0o640)
        self.stdout.write(
            f"Wrote {len(files)} files to {output} (mode 640; give the {target} group read "
            "access, e.g. chgrp)."
        )

    def _password(self, options: dict[str, Any]) -> str | None:
        """Read the role's password from a file or the environment, never from argv."""
        path = options["db_password_file"]
        if path:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read --db-password-file: {exc.strerror}.") from None
            return lines[0] if lines else ""
        env = os.environ.get(PASSWORD_ENV)
        if env is not None:
            return env
        if options["db_user"]:
            return ""
        return None


def _manage_command(python: str) -> tuple[str, ...]:
    """Return how to run this project's management commands: manage.py in a checkout, else
    the installed `vimbadmin` command beside the Python."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    if manage.is_file():
        return (python, str(manage))
    return (str(Path(python).parent / "vimbadmin"),)
