"""`manage.py admin list|view|add|update|delete`: admins and their domains, through the services.

Passwords come from a prompt, `--password-stdin`, VIMBADMIN_ADMIN_PASSWORD or
`--generate-password` (printed once), never from the command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from accounts.management.password_input import ENV_PASSWORD, add_password_arguments, read_password
from accounts.models import Admin
from accounts.selectors import admin_rows
from accounts.services import (
    admin_assign_domain,
    admin_create,
    admin_purge,
    admin_set_active,
    admin_set_password,
    admin_set_superadmin,
    admin_unassign_domain,
    admin_update,
)
from api.cli import EntityCommand, NotFound, flag_pair
from api.serializers import AdminSerializer
from domains.models import ALL_DOMAINS, Domain, DomainAdmin
from mail.names import normalize_domain


def _admin(name: str) -> Admin:
    found = admin_rows(Admin.objects.filter(pk=name.strip().lower())).first()
    if found is None:
        raise NotFound(f"admin {name}")
    return found


def _domain(name: str) -> Domain:
    found = Domain.objects.filter(pk=normalize_domain(name)).exclude(pk=ALL_DOMAINS).first()
    if found is None:
        raise NotFound(f"domain {name}")
    return found


def _domains_of(admin: Admin) -> list[str]:
    return list(
        DomainAdmin.objects.filter(username_id=admin.pk, active=True)
        .exclude(domain_id=ALL_DOMAINS)
        .order_by("domain_id")
        .values_list("domain_id", flat=True)
    )


def _shape(admin: Admin) -> dict[str, Any]:
    return {**AdminSerializer(admin).data, "domains": _domains_of(admin)}


def _line(admin: Any) -> str:
    # `admin` comes from admin_rows(), annotated with is_super and domain_count.
    role = "superadmin" if admin.is_super else f"{admin.domain_count} domains"
    state = "active" if admin.active else "inactive"
    return f"{admin.username}\t{role}\t{state}"


class Command(EntityCommand):
    help = "List, view, add, update or delete admins and the domains they manage."

    def args_add(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--superadmin", action="store_true", help="a super admin")
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument("--email-other", default="", help="an address for password resets")
        parser.add_argument(
            "--domain", action="append", default=[], help="a domain to manage (repeatable)"
        )
        parser.add_argument(
            "--invite",
            action="store_true",
            help="instead of a password, mail a one-time link to choose one (needs "
            "VIMBADMIN_BASE_URL)",
        )
        add_password_arguments(parser)

    def args_update(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        flag_pair(parser, "active", "activate", "deactivate")
        flag_pair(parser, "superadmin", "make a super admin", "make a domain admin")
        parser.add_argument("--email-other", default=None)
        parser.add_argument("--phone", default=None)
        parser.add_argument(
            "--add-domain", action="append", default=[], help="give a domain (repeatable)"
        )
        parser.add_argument(
            "--remove-domain", action="append", default=[], help="take a domain (repeatable)"
        )
        parser.add_argument(
            "--password", action="store_true", help="set a new password (read as for add)"
        )
        add_password_arguments(parser)

    def do_list(self, options: dict[str, Any]) -> None:
        """List admins (--q: part of the address)."""
        rows = admin_rows(Admin.objects.all(), {"q": options["q"]})
        self.emit_rows(options, rows.iterator(), AdminSerializer, _line)

    def do_view(self, options: dict[str, Any]) -> None:
        """Show one admin with their domains."""
        data = _shape(_admin(options["name"]))
        text = "\n".join(
            f"{key}: {', '.join(value) if isinstance(value, list) else value}"
            for key, value in data.items()
        )
        self.emit(options, data, text)

    @transaction.atomic
    def do_add(self, options: dict[str, Any]) -> None:
        """Add an admin (a domain admin unless --superadmin)."""
        domains = [_domain(name) for name in options["domain"]]
        invite = options["invite"]
        password, generated = ("", False) if invite else read_password(options, env=ENV_PASSWORD)
        admin = admin_create(
            actor=None,
            username=options["username"],
            password=password,
            superadmin=options["superadmin"],
            active=not options["inactive"],
            email_other=options["email_other"],
            domains=domains,
            invite=invite,
        )
        data = _shape(_admin(admin.username))
        text = f"Admin {admin.username} added."
        if generated:
            data = {**data, "password": password}
            text += f"\nPassword: {password}"
        self.emit(options, data, text)

    @transaction.atomic
    def do_update(self, options: dict[str, Any]) -> None:
        """Change an admin's state, role, contact details, domains or password."""
        admin = _admin(options["username"])
        if options["email_other"] is not None or options["phone"] is not None:
            admin_update(
                actor=None,
                admin=admin,
                email_other=(
                    admin.email_other if options["email_other"] is None else options["email_other"]
                ),
                phone=admin.phone if options["phone"] is None else options["phone"],
            )
        if options["active"] is not None and options["active"] != admin.active:
            admin_set_active(actor=None, admin=admin, active=options["active"])
        if options["superadmin"] is not None and options["superadmin"] != admin.is_super:  # type: ignore[attr-defined]
            admin_set_superadmin(actor=None, admin=admin, superadmin=options["superadmin"])
        held = set(_domains_of(admin))
        for name in options["add_domain"]:
            domain = _domain(name)
            if domain.pk not in held:
                admin_assign_domain(actor=None, admin=admin, domain=domain)
        for name in options["remove_domain"]:
            domain = _domain(name)
            if domain.pk not in held:
                raise NotFound(f"domain {name} of admin {admin.username}")
            admin_unassign_domain(actor=None, admin=admin, domain=domain)
        generated, password = False, ""
        if options["password"] or options["generate_password"] or options["password_stdin"]:
            password, generated = read_password(options, env=ENV_PASSWORD)
            admin_set_password(actor=None, admin=admin, password=password)
        data = _shape(_admin(admin.username))
        text = f"Admin {admin.username} updated."
        if generated:
            data = {**data, "password": password}
            text += f"\nPassword: {password}"
        self.emit(options, data, text)

    def do_delete(self, options: dict[str, Any]) -> None:
        """Delete an admin and their domain assignments (log rows stay)."""
        admin = _admin(options["name"])
        admin_purge(actor=None, admin=admin)
        self.emit(options, {"deleted": admin.username}, f"Admin {admin.username} deleted.")
