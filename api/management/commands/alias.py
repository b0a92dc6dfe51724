"""`manage.py alias list|view|add|update|delete`: aliases from the shell, through the services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from aliases.models import Alias
from aliases.services import alias_create, alias_delete, alias_set_active, alias_update
from api.cli import EntityCommand, NotFound, flag_pair
from api.serializers import AliasSerializer
from domains.models import ALL_DOMAINS, Domain
from mail.names import normalize_domain
from mailboxes.models import Mailbox


def _key(address: str) -> str:
    local, sep, domain = address.strip().rpartition("@")
    if not sep:
        return address.strip().lower()
    return f"{local.lower()}@{normalize_domain(domain)}"


def _alias(address: str) -> Alias:
    is_mailbox = Exists(Mailbox.objects.filter(username=OuterRef("address")))
    found = Alias.objects.filter(pk=_key(address)).annotate(is_mailbox=is_mailbox).first()
    if found is None:
        raise NotFound(f"alias {address}")
    return found


def _line(alias: Alias) -> str:
    state = "active" if alias.active else "inactive"
    return f"{alias.address}\t{alias.goto}\t{state}"


class Command(EntityCommand):
    help = "List, view, add, update or delete aliases (`@domain`: the catch-all)."

    def args_list(self, parser: CommandParser) -> None:
        super().args_list(parser)
        parser.add_argument("--domain", default="", help="only this domain's aliases")
        parser.add_argument(
            "--show-mailbox-aliases", action="store_true", help="also the mailboxes' own rows"
        )

    def args_add(self, parser: CommandParser) -> None:
        parser.add_argument("address", help="local@domain, or @domain for the catch-all")
        parser.add_argument("--target", action="append", required=True, help="repeatable")
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument("--override-limits", action="store_true")

    def args_update(self, parser: CommandParser) -> None:
        parser.add_argument("address")
        parser.add_argument("--target", action="append", help="the new targets (repeatable)")
        flag_pair(parser, "active", "activate", "deactivate")

    def do_list(self, options: dict[str, Any]) -> None:
        """List aliases (by address; --domain, --q, --show-mailbox-aliases)."""
        is_mailbox = Exists(Mailbox.objects.filter(username=OuterRef("address")))
        rows = Alias.objects.exclude(domain_id=ALL_DOMAINS).annotate(is_mailbox=is_mailbox)
        if not options["show_mailbox_aliases"]:
            rows = rows.filter(is_mailbox=False)
        if options["domain"]:
            rows = rows.filter(domain_id=normalize_domain(options["domain"]))
        if options["q"]:
            q = options["q"].strip().lower()
            rows = rows.filter(Q(address__contains=q) | Q(goto__contains=q))
        self.emit_rows(options, rows.order_by("address").iterator(), AliasSerializer, _line)

    def do_view(self, options: dict[str, Any]) -> None:
        """Show one alias."""
        data = AliasSerializer(_alias(options["name"])).data
        self.emit(options, data, "\n".join(f"{key}: {value}" for key, value in data.items()))

    def do_add(self, options: dict[str, Any]) -> None:
        """Add an alias."""
        local, sep, domain_name = options["address"].strip().rpartition("@")
        domain = (
            Domain.objects.filter(pk=normalize_domain(domain_name)).exclude(pk=ALL_DOMAINS).first()
            if sep
            else None
        )
        if domain is None:
            raise NotFound(f"domain {domain_name or options['address']}")
        alias = alias_create(
            actor=None,
            domain=domain,
            local_part=local,
            targets=options["target"],
            active=not options["inactive"],
            override_limits=options["override_limits"],
        )
        self.emit(
            options, AliasSerializer(_alias(alias.address)).data, f"Alias {alias.address} added."
        )

    @transaction.atomic
    def do_update(self, options: dict[str, Any]) -> None:
        """Replace an alias's targets or switch it on or off."""
        alias = _alias(options["address"])
        if options["target"]:
            alias_update(actor=None, alias=alias, targets=options["target"])
        if options["active"] is not None and options["active"] != alias.active:
            alias_set_active(actor=None, alias=alias, active=options["active"])
        self.emit(
            options, AliasSerializer(_alias(alias.address)).data, f"Alias {alias.address} updated."
        )

    def do_delete(self, options: dict[str, Any]) -> None:
        """Delete an alias (a mailbox's own row goes with its mailbox only)."""
        alias = _alias(options["name"])
        alias_delete(actor=None, alias=alias)
        self.emit(options, {"deleted": alias.address}, f"Alias {alias.address} deleted.")
