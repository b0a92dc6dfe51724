"""Recount the domain counters (mailboxes, aliases, allocated quota, usage)."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from domains import counters
from domains.models import Domain
from mail.names import normalize_domain


class Command(BaseCommand):
    help = (
        "Recount the domain counters the lists show (table vimbadmin_domain_stats). Run it from "
        "cron: --usage-only (cheap, no locks) every few minutes to follow Dovecot's quota2, and "
        "a full recount daily, or after other tools such as Postfix Admin wrote mailboxes or "
        "aliases. Writes made through this project keep the counts exact by themselves."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domains", nargs="*", help="only these domains (default: all)")
        parser.add_argument(
            "--usage-only",
            action="store_true",
            help="re-read only the disk usage from quota2, not the counts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = None
        if options["domains"]:
            names = []
            for typed in options["domains"]:
                try:
                    name = normalize_domain(typed)
                except ValidationError as exc:
                    raise CommandError(f"{typed}: {' '.join(exc.messages)}") from None
                if not Domain.objects.filter(domain=name).exists():
                    raise CommandError(f"{typed}: no such domain")
                names.append(name)
        start = time.monotonic()
        done = counters.refresh(names, counts=not options["usage_only"])
        what = "usage of" if options["usage_only"] else "figures of"
        self.stdout.write(
            f"Recounted the {what} {done} domain(s) in {time.monotonic() - start:.1f} s."
        )
