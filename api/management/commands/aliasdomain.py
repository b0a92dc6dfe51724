"""`manage.py aliasdomain list|view|add|update|delete`: alias domains, through the services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Q

from api.cli import EntityCommand, NotFound, flag_pair
from api.serializers import AliasDomainSerializer
from domains.models import ALL_DOMAINS, AliasDomain, Domain
from domains.services import alias_domain_create, alias_domain_delete, alias_domain_set_active
from mail.names import normalize_domain


def _domain(name: str) -> Domain:
    found = Domain.objects.filter(pk=normalize_domain(name)).exclude(pk=ALL_DOMAINS).first()
    if found is None:
        raise NotFound(f"domain {name}")
    return found


def _alias_domain(name: str) -> AliasDomain:
    found = AliasDomain.objects.filter(pk=normalize_domain(name)).first()
    if found is None:
        raise NotFound(f"alias domain {name}")
    return found


def _line(row: AliasDomain) -> str:
    state = "active" if row.active else "inactive"
    return f"{row.alias_domain_id}\t{row.target_domain_id}\t{state}"


class Command(EntityCommand):
    help = "List, view, add, update or delete alias domains (mail to one delivered at another)."

    def args_add(self, parser: CommandParser) -> None:
        parser.add_argument("alias_domain")
        parser.add_argument("target_domain")
        parser.add_argument("--inactive", action="store_true")

    def args_update(self, parser: CommandParser) -> None:
        parser.add_argument("alias_domain")
        flag_pair(parser, "active", "activate", "deactivate")

    def do_list(self, options: dict[str, Any]) -> None:
        """List alias domains (--q: either side)."""
        rows = AliasDomain.objects.all()
        if options["q"]:
            q = options["q"].strip().lower()
            rows = rows.filter(Q(alias_domain_id__contains=q) | Q(target_domain_id__contains=q))
        rows = rows.order_by("alias_domain_id")
        self.emit_rows(options, rows.iterator(), AliasDomainSerializer, _line)

    def do_view(self, options: dict[str, Any]) -> None:
        """Show one alias domain."""
        data = AliasDomainSerializer(_alias_domain(options["name"])).data
        self.emit(options, data, "\n".join(f"{key}: {value}" for key, value in data.items()))

    def do_add(self, options: dict[str, Any]) -> None:
        """Make mail to the alias domain go to the same local part at the target."""
        row = alias_domain_create(
            actor=None,
            alias_domain=_domain(options["alias_domain"]),
            target_domain=_domain(options["target_domain"]),
            active=not options["inactive"],
        )
        self.emit(options, AliasDomainSerializer(row).data, f"Alias domain {row} added.")

    def do_update(self, options: dict[str, Any]) -> None:
        """Switch an alias domain on or off."""
        row = _alias_domain(options["alias_domain"])
        if options["active"] is not None and options["active"] != row.active:
            row = alias_domain_set_active(actor=None, alias_domain=row, active=options["active"])
        self.emit(options, AliasDomainSerializer(row).data, f"Alias domain {row} updated.")

    def do_delete(self, options: dict[str, Any]) -> None:
        """Remove an alias domain (the domain itself stays)."""
        row = _alias_domain(options["name"])
        alias_domain_delete(actor=None, alias_domain=row)
        self.emit(options, {"deleted": row.alias_domain_id}, f"Alias domain {row} deleted.")
