"""`password_expiry_warn`: mail owners whose password expires soon (run daily from cron)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mailboxes.expiry import password_expiry_warn


class Command(BaseCommand):
    help = (
        "Mail each mailbox (and its alternative address) whose password expires within "
        "VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS days, once per expiry; safe to run as often as "
        "you like. Only with VIMBADMIN_PASSWORD_EXPIRY_ENFORCED (Dovecot's query from "
        "`mailconfig dovecot --password-expiry`), and only for domains whose password expiry "
        "is not 0 days. Exits 1 when a mail could not be sent (it is tried again next run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="warn this many days ahead (default: VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED:
            self.stdout.write(
                "Password expiry is not enforced (VIMBADMIN_PASSWORD_EXPIRY_ENFORCED is off): "
                "nothing to warn about."
            )
            return
        days = settings.VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS
        if options["days"] is not None:
            days = options["days"]
        if days < 1:
            raise CommandError("--days must be at least 1.")
        result = password_expiry_warn(days=days)
        for username in result.warned:
            self.stdout.write(f"warned {username}")
        self.stdout.write(f"{len(result.warned)} mailbox(es) warned.")
        if result.failed:
            raise CommandError(
                f"Could not mail {', '.join(result.failed)}; they are tried again next run."
            )
