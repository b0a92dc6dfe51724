"""Create, list and revoke API tokens from the shell: `api_token create|list|revoke`."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from accounts.models import Admin
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke


def _described(token: ApiToken) -> dict[str, Any]:
    def when(value: datetime.datetime | None) -> str | None:
        return value.isoformat() if value else None

    state = "revoked" if token.revoked else ("active" if token.is_usable else "expired")
    return {
        "id": token.pk,
        "admin": token.admin_id,
        "name": token.name,
        "prefix": token.prefix,
        "created": when(token.created),
        "expires": when(token.expires),
        "read_only": token.read_only,
        "domains": token.domains,
        "last_used": when(token.last_used),
        "last_address": token.last_address,
        "state": state,
    }


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. A new token's key is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        create = verbs.add_parser("create", help="create a token for an admin")
        create.add_argument("--admin", required=True, help="the admin's e-mail address")
        create.add_argument("--name", required=True)
        lifetime = create.add_mutually_exclusive_group()
        lifetime.add_argument("--expires-days", type=int, default=90, help="default 90")
        lifetime.add_argument("--never-expires", action="store_true")
        create.add_argument("--read-only", action="store_true")
        create.add_argument(
            "--domain", action="append", default=[], help="limit to this domain (repeatable)"
        )
        create.add_argument("--json", action="store_true")
        listing = verbs.add_parser("list", help="list tokens")
        listing.add_argument("--admin", help="only this admin's tokens")
        listing.add_argument("--json", action="store_true")
        revoke = verbs.add_parser("revoke", help="revoke a token by id or key prefix")
        revoke.add_argument("token")
        revoke.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['verb']}")(options)

    def emit(self, options: dict[str, Any], data: Any, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2) if options["json"] else text)

    def do_create(self, options: dict[str, Any]) -> None:
        admin = Admin.objects.filter(username=options["admin"].strip().lower()).first()
        if admin is None:
            raise CommandError(f"There is no admin {options['admin']}.")
        expires = (
            None
            if options["never_expires"]
            else timezone.now() + datetime.timedelta(days=options["expires_days"])
        )
        try:
            token, key = api_token_create(
                actor=None,
                admin=admin,
                name=options["name"],
                expires=expires,
                read_only=options["read_only"],
                domains=options["domain"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.emit(
            options,
            {**_described(token), "key": key},
            f"Token {token.pk} ({token.name}) created for {admin.username}.\n"
            f"Key (shown this once): {key}",
        )

    def do_list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.order_by("admin_id", "-created", "-id")
        if options["admin"]:
            tokens = tokens.filter(admin_id=options["admin"].strip().lower())
        rows = [_described(token) for token in tokens]
        lines = [
            f"{row['id']:>5}  {row['prefix']}  {row['state']:<8} {row['admin']}  {row['name']}"
            f"  expires {row['expires'] or 'never'}"
            f"{'  read-only' if row['read_only'] else ''}"
            f"{'  domains ' + ','.join(row['domains']) if row['domains'] else ''}"
            for row in rows
        ]
        self.emit(options, rows, "\n".join(lines) or "No API tokens.")

    def do_revoke(self, options: dict[str, Any]) -> None:
        ref = options["token"].strip()
        match = Q(prefix=ref.removeprefix("vimb_")[:12])
        if ref.isdigit():
            match |= Q(pk=int(ref))
        token = ApiToken.objects.filter(match).first()
        if token is None:
            raise CommandError(f"There is no token {ref}.")
        api_token_revoke(actor=None, token=token)
        self.emit(options, _described(token), f"Token {token.pk} ({token.name}) is revoked.")
