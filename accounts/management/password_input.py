"""How management commands read a new password: never from the command line."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from mail import passwords

ENV_PASSWORD = "VIMBADMIN_ADMIN_PASSWORD"  # noqa: S105 (the variable's name, not a secret)


def add_password_arguments(parser: CommandParser) -> None:
    """Offer the ways in: a prompt, standard input, the environment, or a generated password."""
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    parser.add_argument(
        "--generate-password",
        action="store_true",
        help="generate a strong password and print it once",
    )
    parser.add_argument("--no-input", action="store_true", help="never prompt")


def read_password(options: dict[str, Any], *, env: str = ENV_PASSWORD) -> tuple[str, bool]:
    """Return the new password and whether it was generated (and so must be shown once).

    `env` names the environment variable a password may come from.
    """
    if options["generate_password"]:
        return passwords.generate_password(), True
    if options["password_stdin"]:
        return sys.stdin.readline().rstrip("\r\n"), False
    if os.environ.get(env):
        return os.environ[env], False
    if options["no_input"]:
        raise CommandError(f"No password: use --password-stdin, {env} or --generate-password.")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        raise CommandError("The passwords do not match.")
    return password, False
