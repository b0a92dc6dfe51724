"""Create a super admin from the shell; the password never goes on the command line."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.password_input import add_password_arguments, read_password
from accounts.models import Admin
from accounts.resets import admin_reset_route
from accounts.services import admin_create


class Command(BaseCommand):
    help = (
        "Create a super admin. The password comes from a prompt, from --password-stdin, from the "
        "VIMBADMIN_ADMIN_PASSWORD environment variable, or is generated with --generate-password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="e-mail address of the new super admin")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing (and succeed) when the admin already exists",
        )
        add_password_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if not username:
            if options["no_input"]:
                raise CommandError("--username is required with --no-input.")
            username = input("E-mail address: ")
        username = username.strip().lower()
        if options["if_missing"] and Admin.objects.filter(username=username).exists():
            self.stdout.write(f"Super admin {username} exists already.")
            return
        password, generated = read_password(options)
        try:
            admin = admin_create(actor=None, username=username, password=password, superadmin=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Super admin {admin.username} created."))
        route = admin_reset_route(admin)
        if not route.allowed:
            # Said at setup, so nobody first learns it when locked out.
            self.stdout.write(f"Password reset links will not be mailed: {route.problem}")
        if generated:
            self.stdout.write(f"Password: {password}")
