"""`manage.py mailbox list|view|add|update|delete`: mailboxes from the shell, through the services.

Passwords come from a prompt, `--password-stdin`, VIMBADMIN_MAILBOX_PASSWORD or
`--generate-password` (printed once), never from the command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from accounts.management.password_input import add_password_arguments, read_password
from api.cli import EntityCommand, NotFound, flag_pair
from api.serializers import MailboxSerializer
from domains.models import ALL_DOMAINS, Domain
from mail.names import normalize_address, normalize_domain
from mailboxes.models import Mailbox
from mailboxes.services import (
    mailbox_create,
    mailbox_purge,
    mailbox_set_active,
    mailbox_set_password,
    mailbox_update,
)
from pfa.models import Quota2

ENV_PASSWORD = "VIMBADMIN_MAILBOX_PASSWORD"  # noqa: S105 (the variable's name, not a secret)


def _with_usage(rows: Any) -> Any:
    used = Quota2.objects.filter(username=OuterRef("username")).values("bytes")[:1]
    return rows.annotate(used_bytes=Subquery(used))


def _mailbox(name: str) -> Mailbox:
    found = _with_usage(Mailbox.objects.filter(pk=normalize_address(name))).first()
    if found is None:
        raise NotFound(f"mailbox {name}")
    return found


def _line(box: Mailbox) -> str:
    state = "active" if box.active else "inactive"
    return f"{box.username}\t{box.name}\t{box.quota}\t{state}"


class Command(EntityCommand):
    help = "List, view, add, update or delete mailboxes (as the operator: every domain)."

    def args_list(self, parser: CommandParser) -> None:
        super().args_list(parser)
        parser.add_argument("--domain", default="", help="only this domain's mailboxes")

    def args_add(self, parser: CommandParser) -> None:
        parser.add_argument("address")
        parser.add_argument("--name", default="")
        parser.add_argument("--quota-bytes", type=int, help="default: the domain's default")
        parser.add_argument("--email-other", default="")
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument("--send-welcome", action="store_true")
        parser.add_argument(
            "--override-limits", action="store_true", help="go past the domain's limits"
        )
        parser.add_argument(
            "--invite",
            action="store_true",
            help="instead of a password, mail a one-time link to choose one (needs "
            "VIMBADMIN_BASE_URL)",
        )
        add_password_arguments(parser)

    def args_update(self, parser: CommandParser) -> None:
        parser.add_argument("address")
        parser.add_argument("--name")
        parser.add_argument("--quota-bytes", type=int)
        parser.add_argument("--email-other")
        flag_pair(parser, "active", "activate", "deactivate")
        parser.add_argument(
            "--password", action="store_true", help="set a new password (read as for add)"
        )
        add_password_arguments(parser)

    def do_list(self, options: dict[str, Any]) -> None:
        """List mailboxes (by address; --domain, --q)."""
        rows = Mailbox.objects.exclude(domain_id=ALL_DOMAINS)
        if options["domain"]:
            rows = rows.filter(domain_id=normalize_domain(options["domain"]))
        if options["q"]:
            q = options["q"].strip()
            rows = rows.filter(Q(username__contains=q.lower()) | Q(name__icontains=q))
        rows = _with_usage(rows).order_by("username")
        self.emit_rows(options, rows.iterator(), MailboxSerializer, _line)

    def do_view(self, options: dict[str, Any]) -> None:
        """Show one mailbox."""
        box = _mailbox(options["name"])
        data = MailboxSerializer(box).data
        self.emit(options, data, "\n".join(f"{key}: {value}" for key, value in data.items()))

    def do_add(self, options: dict[str, Any]) -> None:
        """Add a mailbox."""
        address = normalize_address(options["address"])
        local, _sep, domain_name = address.rpartition("@")
        domain = Domain.objects.filter(pk=domain_name).exclude(pk=ALL_DOMAINS).first()
        if domain is None:
            raise NotFound(f"domain {domain_name}")
        invite = options["invite"]
        password, generated = ("", False) if invite else read_password(options, env=ENV_PASSWORD)
        box = mailbox_create(
            actor=None,
            domain=domain,
            local_part=local,
            password=password,
            name=options["name"],
            quota_bytes=options["quota_bytes"],
            email_other=options["email_other"],
            active=not options["inactive"],
            send_welcome=options["send_welcome"],
            override_limits=options["override_limits"],
            invite=invite,
        )
        data = MailboxSerializer(_mailbox(box.username)).data
        if generated:
            data = {**data, "password": password}
        text = f"Mailbox {box.username} added." + (f"\nPassword: {password}" if generated else "")
        self.emit(options, data, text)

    @transaction.atomic
    def do_update(self, options: dict[str, Any]) -> None:
        """Change a mailbox's name, quota, alternative address, state or password."""
        box = _mailbox(options["address"])
        changes = {key: options[key] for key in ("name", "quota_bytes", "email_other")}
        if any(value is not None for value in changes.values()):
            mailbox_update(
                actor=None,
                mailbox=box,
                name=box.name if changes["name"] is None else changes["name"],
                quota_bytes=box.quota if changes["quota_bytes"] is None else changes["quota_bytes"],
                email_other=(
                    box.email_other if changes["email_other"] is None else changes["email_other"]
                ),
            )
        if options["active"] is not None and options["active"] != box.active:
            mailbox_set_active(actor=None, mailbox=box, active=options["active"])
        generated = False
        if options["password"] or options["generate_password"] or options["password_stdin"]:
            password, generated = read_password(options, env=ENV_PASSWORD)
            mailbox_set_password(actor=None, mailbox=box, password=password)
        data = MailboxSerializer(_mailbox(box.username)).data
        text = f"Mailbox {box.username} updated."
        if generated:
            data = {**data, "password": password}
            text += f"\nPassword: {password}"
        self.emit(options, data, text)

    def do_delete(self, options: dict[str, Any]) -> None:
        """Delete a mailbox with Postfix Admin's cascade (the maildir on disk stays)."""
        box = _mailbox(options["name"])
        mailbox_purge(actor=None, mailbox=box)
        self.emit(options, {"deleted": box.username}, f"Mailbox {box.username} deleted.")
