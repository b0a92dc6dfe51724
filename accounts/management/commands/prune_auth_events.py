"""Delete old auth events and idle brute-force counters, so the tables stay small."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import throttle


class Command(BaseCommand):
    help = (
        "Delete auth events (vimbadmin_auth_event) and brute-force counters "
        "(vimbadmin_auth_throttle) older than VIMBADMIN_AUTH_EVENT_RETENTION_DAYS or "
        "--older-than DAYS. Run it daily from cron. Postfix Admin's log is never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            help="age in days (default: VIMBADMIN_AUTH_EVENT_RETENTION_DAYS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days is None:
            days = settings.VIMBADMIN_AUTH_EVENT_RETENTION_DAYS
        # Counters younger than a day still decide lockouts and slowdowns.
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        events, counters = throttle.auth_events_prune(older_than=datetime.timedelta(days=days))
        self.stdout.write(
            f"Deleted {events} auth event row(s) and {counters} counter row(s) older than "
            f"{days} day(s)."
        )
