"""`import_vimbadmin --source URL [--apply]`: bring a ViMbAdmin 3 installation over."""

from __future__ import annotations

import os
import sys
import zoneinfo
from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from mail import passwords
from vimbadmin3 import plan as planning
from vimbadmin3.services import (
    ImportRefused,
    vimbadmin_admin_import,
    vimbadmin_alias_domain_import,
    vimbadmin_domain_import,
    vimbadmin_history_import,
)
from vimbadmin3.source import SourceError, read

SOURCE_ENV = "VIMBADMIN_IMPORT_SOURCE"
DEFAULT_SCHEME = "dovecot:BLF-CRYPT"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return " ".join(str(exc).split())


class Command(BaseCommand):
    help = (
        "Import a ViMbAdmin 3 database (domains, mailboxes with their password hashes and mail "
        "locations, aliases, alias domains, admins) into this project's database. Without "
        "--apply it only reports what it would do. The source URL may hold a password, so it "
        f"is best given in ${SOURCE_ENV} rather than on the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            metavar="URL",
            help=f"mysql:// or postgresql:// URL of ViMbAdmin's database (default: ${SOURCE_ENV}).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--apply", action="store_true", help="Write the import.")
        mode.add_argument(
            "--dry-run", action="store_true", help="Only report what would change (the default)."
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="One transaction for everything instead of one per domain.",
        )
        parser.add_argument(
            "--domains", metavar="A,B", help="Import only these domains (comma-separated)."
        )
        parser.add_argument(
            "--password-scheme",
            default=DEFAULT_SCHEME,
            metavar="SCHEME",
            help="ViMbAdmin's defaults.mailbox.password_scheme (default: %(default)s); when the "
            "database still holds hashes of an earlier scheme, list them after it, comma-"
            "separated (e.g. dovecot:BLF-CRYPT,md5,plain).",
        )
        parser.add_argument(
            "--source-time-zone",
            default="UTC",
            metavar="ZONE",
            help="The time zone of ViMbAdmin's stored dates: its PHP date.timezone "
            "(default: %(default)s).",
        )
        parser.add_argument(
            "--password-salt",
            metavar="SALT",
            help="ViMbAdmin's defaults.mailbox.password_salt, for md5-salted and sha1-salted.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["source"] or os.environ.get(SOURCE_ENV, "")
        if not url:
            raise CommandError(f"Give the ViMbAdmin database with --source URL or ${SOURCE_ENV}.")
        salt = options["password_salt"]
        try:
            scheme = passwords.check_vimbadmin_scheme(options["password_scheme"], salt)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        only = None
        if options["domains"]:
            only = {d.strip().lower() for d in options["domains"].split(",") if d.strip()}
        try:
            zone = zoneinfo.ZoneInfo(options["source_time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(
                f"Unknown time zone {options['source_time_zone']!r}; use a name such as "
                "Europe/Dublin (ViMbAdmin's PHP date.timezone)."
            ) from None
        try:
            source = read(url, time_zone=zone)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        if only is not None:
            unknown = sorted(only - {d.domain for d in source.domains})
            if unknown:
                raise CommandError(
                    f"ViMbAdmin has no domain {', '.join(unknown)}; check --domains."
                )
        plan = planning.build(source, scheme=scheme, salt=salt, only=only)
        self._report(plan)
        if not options["apply"]:
            self.stdout.write("Dry run: nothing was written. Run again with --apply to import.")
            if plan.problems:
                raise CommandError(self._problem_line(plan.problems))
            return
        if options["all_or_nothing"]:
            if plan.problems:
                raise CommandError(self._problem_line(plan.problems) + " Nothing was written.")
            try:
                with transaction.atomic():
                    written, failures = self._apply(plan, strict=True)
            except (ImportRefused, ValidationError, PermissionDenied) as exc:
                raise CommandError(f"{_one_line(exc)} Nothing was written.") from None
        else:
            written, failures = self._apply(plan, strict=False)
        self._summary(plan, written)
        if failures:
            raise CommandError(
                f"{len(failures)} domain(s) or admin(s) were not imported: " + " | ".join(failures)
            )

    # ----------------------------------------------------------------------------------------

    def _problem_line(self, problems: list[str]) -> str:
        more = f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""
        return problems[0] + more

    def _apply(self, plan: planning.Plan, *, strict: bool) -> tuple[Counter[str], list[str]]:
        written: Counter[str] = Counter()
        failures: list[str] = []
        steps = len(plan.domains) + len(plan.alias_domains) + len(plan.admins)
        progress = _Progress(steps, sys.stderr)

        def attempt(label: str, call: Any) -> None:
            try:
                call()
            except (ImportRefused, ValidationError, PermissionDenied) as exc:
                if strict:
                    raise
                failures.append(f"{label}: {_one_line(exc)}")
                self.stderr.write(f"Not imported: {label}: {_one_line(exc)}")
            progress.step()

        for d in plan.domains:

            def one_domain(d: planning.DomainPlan = d) -> None:
                written["rows"] += vimbadmin_domain_import(actor=None, plan=d)

            if d.problems:
                failures.append(d.problems[0])
                progress.step()
                continue
            attempt(d.name, one_domain)
        for ad in plan.alias_domains:
            if ad.state != planning.NEW:
                progress.step()
                continue

            def one_alias_domain(ad: planning.AliasDomainRow = ad) -> None:
                vimbadmin_alias_domain_import(actor=None, row=ad)
                written["rows"] += 1

            attempt(f"alias domain {ad.alias_domain}", one_alias_domain)
        for admin in plan.admins:
            if admin.state != planning.NEW:
                progress.step()
                continue

            def one_admin(admin: planning.AdminRow = admin) -> None:
                vimbadmin_admin_import(actor=None, row=admin)
                written["rows"] += 1

            attempt(f"admin {admin.source.username}", one_admin)
        failed = {d.name for d in plan.domains if d.problems} | {
            f.partition(":")[0] for f in failures
        }
        logs = [row for domain, row in plan.logs if domain not in failed]
        kept = [row for domain, row in plan.kept if domain not in failed]
        written["history"] += vimbadmin_history_import(logs=logs, kept=kept)
        progress.done()
        return written, failures

    def _report(self, plan: planning.Plan) -> None:
        out = self.stdout.write
        out(
            f"ViMbAdmin database {plan.source.url_label} (dbversion {plan.source.db_version}), "
            f"password schemes {', '.join(plan.scheme)}."
        )
        for d in plan.domains:
            states = Counter(item.state for item in d.items if item.kind != "domain")
            summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "empty"
            out(f"  {d.name}: domain {d.state}; mailboxes and aliases: {summary}")
            for item in d.items:
                if item.state == planning.DIFFERENT:
                    out(f"    {item.kind} {item.key} differs here: {item.detail}")
            for note in d.notes:
                out(f"    note: {note}")
            for problem in d.problems:
                out(f"    CONFLICT: {problem}")
        for ad in plan.alias_domains:
            out(f"  alias domain {ad.alias_domain} -> {ad.target_domain}: {ad.state}")
        for a in plan.admins:
            role = "super admin" if a.source.super else f"admin of {', '.join(a.domains) or '-'}"
            extra = f" (differs here: {a.detail})" if a.detail else ""
            out(f"  admin {a.source.username} ({role}): {a.state}{extra}")
        out("Password schemes found:")
        for name, count in sorted(plan.schemes.items()):
            out(f"  {name}: {count}")
        out("Mail locations found (mail root + location relative to the home):")
        for name, count in sorted(plan.templates.items()):
            out(f"  {name}: {count}")
        out(f"Log rows to import: {len(plan.logs)} (ViMbAdmin's actions as Postfix Admin's keys).")
        kept: dict[str, Counter[str]] = {}
        for _domain, row in plan.kept:
            label = str(row.values.get("attribute") or row.values.get("status") or "")
            kept.setdefault(row.table, Counter())[label] += 1
        if kept:
            out("Rows Postfix Admin has no place for, kept in vimbadmin_v3_kept:")
            for table, labels in sorted(kept.items()):
                detail = ", ".join(f"{name or '-'}: {n}" for name, n in sorted(labels.items()))
                out(f"  {table}: {sum(labels.values())} ({detail})")
        command = plan.mailconfig_arguments()
        if command:
            out("Mail stays where it is once Dovecot reads this database with:")
            out(f"  manage.py mailconfig dovecot {' '.join(command)}")

    def _summary(self, plan: planning.Plan, written: Counter[str]) -> None:
        counts = plan.counts()
        states = [planning.NEW, planning.IDENTICAL, planning.DIFFERENT, planning.CONFLICT]
        rows = [["", *states]]
        for kind in ("domain", "mailbox", "alias", "alias domain", "admin"):
            found = counts.get(kind, Counter())
            rows.append([kind, *(str(found.get(s, 0)) for s in states)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            self.stdout.write("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))
        self.stdout.write(
            f"Imported: {written['rows']} rows written; {written['history']} log, preference "
            "and archive rows."
        )


class _Progress:
    """A progress bar on a terminal; silent when the output is a file or a pipe."""

    def __init__(self, total: int, stream: Any) -> None:
        self.total, self.done_steps, self.stream = max(total, 1), 0, stream
        self.live = bool(getattr(stream, "isatty", lambda: False)())

    def step(self) -> None:
        self.done_steps += 1
        if self.live:
            filled = 30 * self.done_steps // self.total
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r[{bar}] {self.done_steps}/{self.total}")
            self.stream.flush()

    def done(self) -> None:
        if self.live:
            self.stream.write("\n")
