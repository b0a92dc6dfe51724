"""`manage.py import_csv domains|mailboxes|aliases FILE`: the dry run, and with --apply the import.

The dry run prints each row as create / update / unchanged / error (with its row number and
reason) and writes nothing. --apply writes all or nothing, or with --only-valid the valid rows.
Generated passwords go to --passwords-file (created 0600), else to standard output as CSV.
Exit codes as the object commands: 0 done, 1 refused (a refused file, or error rows).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.cli import REFUSED
from csvimport.plan import ERROR, plan_import
from csvimport.reader import KINDS, CsvRefused, read_csv
from csvimport.services import ImportFailed, csv_import_apply


class Command(BaseCommand):
    help = "Import domains, mailboxes or aliases from a CSV file (a dry run unless --apply)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", help="the CSV file, or - for standard input")
        parser.add_argument("--apply", action="store_true", help="write (default: dry run)")
        parser.add_argument(
            "--only-valid", action="store_true", help="with --apply: skip the error rows"
        )
        parser.add_argument("--welcome", action="store_true", help="send welcome mails")
        parser.add_argument("--passwords-file", help="where to write generated passwords")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"] == "-":
            data = sys.stdin.buffer.read()
        else:
            try:
                with open(options["file"], "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                raise CommandError(str(exc), returncode=REFUSED) from None
        try:
            rows = read_csv(data, kind=options["kind"])
        except CsvRefused as exc:
            raise CommandError(str(exc), returncode=REFUSED) from None
        plan = plan_import(None, options["kind"], rows)
        report: dict[str, Any] = {
            "summary": plan.summary,
            "rows": [
                {
                    "row": row.number,
                    "key": row.key,
                    "status": row.status,
                    "reason": row.reason,
                    "changes": row.changes,
                }
                for row in plan.rows
            ],
            "applied": False,
        }
        if not options["apply"]:
            self._print(options, report)
            if plan.has_errors:
                raise CommandError("The file has error rows.", returncode=REFUSED)
            return
        try:
            result = csv_import_apply(
                actor=None, plan=plan, only_valid=options["only_valid"], welcome=options["welcome"]
            )
        except ImportFailed as exc:
            self._print(options, report)
            raise CommandError(
                f"Nothing was written: row {exc.row.number} ({exc.row.key}): {exc.reason}",
                returncode=REFUSED,
            ) from None
        report |= {
            "applied": True,
            "created": result.created,
            "updated": result.updated,
            "refused": [{"row": n, "key": k, "reason": r} for n, k, r in result.refused],
        }
        if result.passwords and options["passwords_file"]:
            descriptor = os.open(
                options["passwords_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
            )
            with os.fdopen(descriptor, "w", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["username", "password"])
                writer.writerows(result.passwords)
            report["passwords_file"] = options["passwords_file"]
        elif result.passwords:
            report["passwords"] = [{"username": u, "password": p} for u, p in result.passwords]
        self._print(options, report)

    def _print(self, options: dict[str, Any], report: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for row in report["rows"]:
            detail = row["reason"] if row["status"] == ERROR else ", ".join(row["changes"])
            self.stdout.write(f"row {row['row']}\t{row['key']}\t{row['status']}\t{detail}".rstrip())
        summary = ", ".join(f"{count} {status}" for status, count in report["summary"].items())
        self.stdout.write(("Imported: " if report["applied"] else "Dry run: ") + summary)
        if report.get("applied"):
            self.stdout.write(f"created {report['created']}, updated {report['updated']}")
            for refused in report["refused"]:
                self.stdout.write(
                    f"refused row {refused['row']} {refused['key']}: {refused['reason']}"
                )
        if report.get("passwords"):
            writer = csv.writer(self.stdout)
            writer.writerow(["username", "password"])
            writer.writerows([p["username"], p["password"]] for p in report["passwords"])
