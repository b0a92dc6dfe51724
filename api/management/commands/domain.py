"""`manage.py domain list|view|add|update|delete`: domains from the shell, through the services.

Limits as in the domain form: counts with 0 unlimited and -1 disabled, quotas in MB.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Q

from api.cli import REFUSED, EntityCommand, NotFound, flag_pair
from api.serializers import DomainSerializer
from domains import counters
from domains.models import ALL_DOMAINS, Domain, by_sort_name
from domains.selectors import with_domain_counters, with_live_figures
from domains.services import domain_create, domain_purge, domain_settings, domain_update
from mail.names import normalize_domain

LIMITS = ("aliases", "mailboxes", "maxquota", "quota", "default_mailbox_quota")


def _domains() -> Any:
    return Domain.objects.exclude(pk=ALL_DOMAINS)


def _domain(name: str) -> Domain:
    found = with_live_figures(_domains().filter(pk=normalize_domain(name))).first()
    if found is None:
        raise NotFound(f"domain {name}")
    found.default_mailbox_quota = domain_settings(found).default_mailbox_quota  # type: ignore[attr-defined]
    return found


def _line(domain: Domain) -> str:
    state = "active" if domain.active else "inactive"
    return f"{domain.domain}\t{domain.description}\t{state}"


def _add_limit_arguments(parser: CommandParser) -> None:
    parser.add_argument("--description")
    for name in LIMITS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int)
    parser.add_argument("--transport")
    flag_pair(parser, "backupmx", "backup MX", "not a backup MX")


class Command(EntityCommand):
    help = "List, view, add, update or delete domains (and everything in them)."

    def args_add(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        _add_limit_arguments(parser)
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument(
            "--no-default-aliases", action="store_true", help="without the RFC 2142 aliases"
        )

    def args_update(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        _add_limit_arguments(parser)
        flag_pair(parser, "active", "activate", "deactivate")

    def args_delete(self, parser: CommandParser) -> None:
        super().args_delete(parser)
        parser.add_argument(
            "--yes", action="store_true", help="confirm: every mailbox and alias goes too"
        )

    def do_list(self, options: dict[str, Any]) -> None:
        """List domains (--q: in the name or description)."""
        rows = _domains()
        if options["q"]:
            q = options["q"].strip()
            rows = rows.filter(Q(domain__icontains=q) | Q(description__icontains=q))
        # In the lists' order, by the Unicode name: domains other tools added get their key first.
        keyed = counters.ensure_missing(rows)
        rows = by_sort_name(with_domain_counters(rows), keyed=keyed)

        def shaped(row: Domain) -> DomainSerializer:
            row.default_mailbox_quota = domain_settings(row).default_mailbox_quota  # type: ignore[attr-defined]
            return DomainSerializer(row)

        self.emit_rows(options, rows.iterator(), shaped, _line)

    def do_view(self, options: dict[str, Any]) -> None:
        """Show one domain with its figures."""
        data = DomainSerializer(_domain(options["name"])).data
        self.emit(options, data, "\n".join(f"{key}: {value}" for key, value in data.items()))

    def do_add(self, options: dict[str, Any]) -> None:
        """Add a domain (limits default from the settings)."""
        values = {name: options[name] for name in LIMITS}
        domain = domain_create(
            actor=None,
            domain=options["name"],
            description=options["description"] or "",
            transport=options["transport"],
            backupmx=bool(options["backupmx"]),
            active=not options["inactive"],
            create_default_aliases=not options["no_default_aliases"],
            **values,
        )
        data = DomainSerializer(_domain(domain.domain)).data
        self.emit(options, data, f"Domain {domain.domain} added.")

    def do_update(self, options: dict[str, Any]) -> None:
        """Change a domain's description, limits, transport or flags."""
        current = _domain(options["name"])
        merged = {
            "description": current.description,
            "aliases": current.aliases,
            "mailboxes": current.mailboxes,
            "maxquota": current.maxquota,
            "quota": current.quota,
            "default_mailbox_quota": current.default_mailbox_quota,  # type: ignore[attr-defined]
            "transport": current.transport or "",
            "backupmx": current.backupmx,
            "active": current.active,
        }
        merged.update({key: options[key] for key in merged if options.get(key) is not None})
        domain_update(actor=None, domain=current, **merged)
        data = DomainSerializer(_domain(current.domain)).data
        self.emit(options, data, f"Domain {current.domain} updated.")

    def do_delete(self, options: dict[str, Any]) -> None:
        """Delete a domain and everything in it, as Postfix Admin does (log rows stay)."""
        domain = _domain(options["name"])
        if not options["yes"]:
            raise CommandError(
                f"Deleting {domain.domain} deletes all its mailboxes and aliases: add --yes.",
                returncode=REFUSED,
            )
        domain_purge(actor=None, domain=domain)
        self.emit(options, {"deleted": domain.domain}, f"Domain {domain.domain} deleted.")
