"""Set an admin's password from the shell: how a super admin gets back in without a reset mail."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.password_input import add_password_arguments, read_password
from accounts.models import Admin
from accounts.services import admin_set_password


class Command(BaseCommand):
    help = (
        "Set the password of an admin (super admins included), with a log row. The password "
        "comes from a prompt, from --password-stdin, from the VIMBADMIN_ADMIN_PASSWORD "
        "environment variable, or is generated with --generate-password; never from argv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="login address of the admin")
        add_password_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if not username:
            if options["no_input"]:
                raise CommandError("--username is required with --no-input.")
            username = input("E-mail address: ")
        username = username.strip().lower()
        admin = Admin.objects.filter(username=username).first()
        if admin is None:
            raise CommandError(f"No admin {username}.")
        password, generated = read_password(options)
        try:
            admin_set_password(actor=None, admin=admin, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Password of {admin.username} set; their sessions have ended.")
        )
        if not admin.active:
            self.stdout.write(f"{admin.username} is inactive: a super admin can activate them.")
        if generated:
            self.stdout.write(f"Password: {password}")
