"""`vacation_deliver`: the auto-responder Postfix runs through a `pipe` transport."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mailboxes.autoreply import deliver


class Command(BaseCommand):
    help = (
        "Read one message on standard input, as Postfix's pipe(8) hands it over, and send the "
        "vacation auto-reply for each recipient (local#domain@<VIMBADMIN_VACATION_DOMAIN>) "
        "when the rules allow. Exits 75 (EX_TEMPFAIL) when the database or mail server is "
        "unreachable, so Postfix retries; 0 otherwise. See `mailconfig postfix` for master.cf."
    )

    # Run for every message: no system checks, nothing but the vacation tables is read.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-f", "--sender", default="", help="the envelope sender (Postfix: ${sender})"
        )
        parser.add_argument(
            "recipients", nargs="+", help="the vacation addresses (Postfix: ${recipient})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = sys.stdin.buffer.read()
        status = deliver(data, sender=options["sender"], recipients=options["recipients"])
        if status:
            sys.exit(status)
