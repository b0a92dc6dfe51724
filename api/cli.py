"""What the `domain`, `mailbox`, `alias` and `aliasdomain` commands share: verbs as
subcommands, the API's JSON shapes for `--json`, service refusals as exit codes.

The shell is the operator: it acts with no admin (actor None), as every command here does, so
the services apply no scope; limits still apply unless a command says otherwise.

Exit codes: 0 done; 1 refused (a field error, a limit); 2 wrong usage (argparse); 3 no such
object; 4 not allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

REFUSED, NOT_FOUND, NOT_ALLOWED = 1, 3, 4


class NotFound(CommandError):
    def __init__(self, what: str) -> None:
        super().__init__(f"There is no {what}.", returncode=NOT_FOUND)


def messages_of(exc: ValidationError) -> str:
    """Return a service's refusal as one line per field."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(message for error in errors for message in error.messages)}"
            for field, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


class EntityCommand(BaseCommand):
    """A command whose first argument is a verb (`list`, `view`, `add`, `update`, `delete`)."""

    verbs: tuple[str, ...] = ("list", "view", "add", "update", "delete")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        for verb in self.verbs:
            verb_parser = sub.add_parser(verb, help=getattr(self, f"do_{verb}").__doc__)
            verb_parser.add_argument("--json", action="store_true", help="print JSON")
            getattr(self, f"args_{verb}")(verb_parser)

    def handle(self, *args: Any, **options: Any) -> None:
        action: Callable[[dict[str, Any]], None] = getattr(self, f"do_{options['verb']}")
        try:
            action(options)
        except ValidationError as exc:
            raise CommandError(messages_of(exc), returncode=REFUSED) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc), returncode=NOT_ALLOWED) from None

    def emit(self, options: dict[str, Any], data: Any, text: str) -> None:
        """Print the JSON shape with --json, else the text."""
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, default=str))
        elif text:
            self.stdout.write(text)

    def emit_rows(self, options: dict[str, Any], rows: Any, shape: Any, line: Any) -> None:
        """Print many rows: a JSON array, or one line each (streamed, so memory stays flat)."""
        if options["json"]:
            self.stdout.write("[")
            first = True
            for row in rows:
                text = json.dumps(shape(row).data, default=str)
                self.stdout.write(("  " if first else ", ") + text)
                first = False
            self.stdout.write("]")
            return
        for row in rows:
            self.stdout.write(line(row))

    def args_list(self, parser: CommandParser) -> None:
        parser.add_argument("--q", default="", help="search text")

    def args_view(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def args_delete(self, parser: CommandParser) -> None:
        parser.add_argument("name")


def flag_pair(parser: CommandParser, name: str, help_on: str, help_off: str) -> None:
    """Add --NAME / --no-NAME, absent: unchanged (None)."""
    group = parser.add_mutually_exclusive_group()
    dest = name.replace("-", "_")
    group.add_argument(f"--{name}", dest=dest, action="store_true", default=None, help=help_on)
    group.add_argument(f"--no-{name}", dest=dest, action="store_false", help=help_off)
