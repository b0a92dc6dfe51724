"""Apply one action to many objects: one service call per object, all in one transaction.

Nothing is written unless every object succeeds: each call runs in a savepoint so that every
refusal (a limit, a protected row) is collected and shown, then the whole transaction is rolled
back. The per-object services write the log rows and re-check scope and limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Admin
from aliases.models import Alias
from aliases.services import alias_delete, alias_set_active
from domains.models import Domain
from domains.services import domain_purge, domain_set_active
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_purge, mailbox_set_active, mailbox_update

# The most objects one bulk action may touch (one transaction holds their locks).
BULK_LIMIT = 10_000

ACTIVATE, DEACTIVATE, DELETE, QUOTA = "activate", "deactivate", "delete", "quota"


@dataclass
class BulkResult:
    """What a bulk action did: the number of objects changed, or why nothing was written."""

    done: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


def _messages(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _mailbox_step(actor: Admin, action: str, quota_bytes: int | None) -> Callable[[Any], None]:
    def step(mailbox: Mailbox) -> None:
        if action in (ACTIVATE, DEACTIVATE):
            mailbox_set_active(actor=actor, mailbox=mailbox, active=action == ACTIVATE)
        elif action == DELETE:
            mailbox_purge(actor=actor, mailbox=mailbox)
        elif action == QUOTA and quota_bytes is not None:
            mailbox_update(
                actor=actor,
                mailbox=mailbox,
                name=mailbox.name,
                quota_bytes=quota_bytes,
                email_other=mailbox.email_other,
            )
        else:
            raise ValidationError(f"unknown action {action!r}")

    return step


def _alias_step(actor: Admin, action: str) -> Callable[[Any], None]:
    def step(alias: Alias) -> None:
        if action in (ACTIVATE, DEACTIVATE):
            alias_set_active(actor=actor, alias=alias, active=action == ACTIVATE)
        elif action == DELETE:
            alias_delete(actor=actor, alias=alias)
        else:
            raise ValidationError(f"unknown action {action!r}")

    return step


def _domain_step(actor: Admin, action: str) -> Callable[[Any], None]:
    def step(domain: Domain) -> None:
        if action in (ACTIVATE, DEACTIVATE):
            domain_set_active(actor=actor, domain=domain, active=action == ACTIVATE)
        elif action == DELETE:
            domain_purge(actor=actor, domain=domain)
        else:
            raise ValidationError(f"unknown action {action!r}")

    return step


def bulk_apply(
    *,
    actor: Admin,
    kind: str,
    objects: Iterable[Any],
    action: str,
    quota_bytes: int | None = None,
) -> BulkResult:
    """Apply `action` to every object through its own service, all or nothing."""
    if kind == "mailboxes":
        step = _mailbox_step(actor, action, quota_bytes)
    elif kind == "aliases":
        step = _alias_step(actor, action)
    elif kind == "domains":
        step = _domain_step(actor, action)
    else:
        raise ValueError(kind)
    result = BulkResult()
    with transaction.atomic():
        for obj in objects:
            try:
                with transaction.atomic():
                    step(obj)
            except (ValidationError, PermissionDenied) as exc:
                result.errors.append((str(obj), _messages(exc)))
            else:
                result.done += 1
        if result.errors:
            transaction.set_rollback(True)
            result.done = 0
    return result
