"""Apply an import plan through the domain, mailbox and alias services, in one transaction.

All or nothing (the default): a plan with an error row writes nothing, and a row the services
refuse rolls everything back. Only valid rows: error rows are skipped and each row the services
refuse is rolled back alone (a savepoint) and reported. Mailboxes without a password get a
generated one, returned once to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Admin
from aliases.models import Alias
from aliases.services import alias_create, alias_set_active, alias_update
from csvimport.plan import CREATE, ERROR, UPDATE, ImportPlan, RowPlan
from domains.models import Domain
from domains.services import domain_create, domain_settings, domain_update
from mail.passwords import generate_password
from mailboxes.models import Mailbox
from mailboxes.services import (
    MailboxRefused,
    NewMailbox,
    mailbox_create,
    mailbox_create_many,
    mailbox_set_active,
    mailbox_set_password,
    mailbox_update,
)


class ImportFailed(Exception):
    """All or nothing: a row was refused, so nothing was written."""

    def __init__(self, row: RowPlan, reason: str) -> None:
        super().__init__(reason)
        self.row, self.reason = row, reason


@dataclass
class ImportResult:
    """Rows written, rows refused while writing, and the generated passwords."""

    created: int = 0
    updated: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    passwords: list[tuple[str, str]] = field(default_factory=list)


def _mailbox_row(actor: Admin | None, row: RowPlan, *, welcome: bool, result: ImportResult) -> None:
    values = row.values
    if row.status == CREATE:
        domain = Domain.objects.get(domain=values["domain"])
        password = values.get("password") or ""
        generated = not password
        if generated:
            password = generate_password()
        mailbox_create(
            actor=actor,
            domain=domain,
            local_part=values["local_part"],
            password=password,
            name=values.get("name", ""),
            quota_bytes=values.get("quota_bytes"),
            email_other=values.get("email_other", ""),
            active=values.get("active", True),
            send_welcome=welcome,
        )
        if generated:
            result.passwords.append((row.key, password))
        return
    mailbox = Mailbox.objects.select_related("domain").get(username=row.key)
    if {"name", "email_other", "quota_bytes"} & set(row.changes):
        mailbox_update(
            actor=actor,
            mailbox=mailbox,
            name=values.get("name", mailbox.name),
            quota_bytes=values.get("quota_bytes", mailbox.quota),
            email_other=values.get("email_other", mailbox.email_other),
        )
    if "active" in row.changes:
        mailbox_set_active(actor=actor, mailbox=mailbox, active=values["active"])
    if "password" in row.changes:
        mailbox_set_password(actor=actor, mailbox=mailbox, password=values["password"])


def _new_mailboxes(
    actor: Admin | None, plan: ImportPlan, *, welcome: bool, result: ImportResult
) -> None:
    """Create the plan's new mailboxes with one mailbox_create_many() per domain (all or
    nothing: a refusal names its row)."""
    by_domain: dict[str, list[RowPlan]] = {}
    for row in plan.rows:
        if row.status == CREATE:
            by_domain.setdefault(row.values["domain"], []).append(row)
    for name, rows in by_domain.items():
        generated: dict[int, str] = {}
        entries = []
        for index, row in enumerate(rows):
            values = row.values
            password = values.get("password") or ""
            if not password:
                password = generated[index] = generate_password()
            entries.append(
                NewMailbox(
                    local_part=values["local_part"],
                    password=password,
                    name=values.get("name", ""),
                    quota_bytes=values.get("quota_bytes"),
                    email_other=values.get("email_other", ""),
                    active=values.get("active", True),
                )
            )
        try:
            mailbox_create_many(
                actor=actor,
                domain=Domain.objects.get(domain=name),
                entries=entries,
                send_welcome=welcome,
            )
        except MailboxRefused as exc:
            row = rows[exc.index or 0]
            raise ImportFailed(row, " ".join(exc.messages)) from exc
        result.created += len(rows)
        result.passwords += [(rows[index].key, password) for index, password in generated.items()]


def _alias_row(actor: Admin | None, row: RowPlan) -> None:
    values = row.values
    if row.status == CREATE:
        alias_create(
            actor=actor,
            domain=Domain.objects.get(domain=values["domain"]),
            local_part=values["local_part"],
            targets=values["targets"],
            active=values.get("active", True),
        )
        return
    alias = Alias.objects.select_related("domain").get(address=row.key)
    if "targets" in row.changes:
        alias_update(actor=actor, alias=alias, targets=values["targets"])
    if "active" in row.changes:
        alias_set_active(actor=actor, alias=alias, active=values["active"])


def _domain_row(actor: Admin | None, row: RowPlan) -> None:
    values = row.values
    if row.status == CREATE:
        if not values.get("transport"):
            values = {k: v for k, v in values.items() if k != "transport"}  # the default one
        domain_create(actor=actor, domain=row.key, **values)
        return
    domain = Domain.objects.get(domain=row.key)
    current: dict[str, Any] = {
        "description": domain.description or "",
        "aliases": domain.aliases,
        "mailboxes": domain.mailboxes,
        "maxquota": domain.maxquota,
        "quota": domain.quota,
        "transport": domain.transport or "",
        "backupmx": domain.backupmx,
        "active": domain.active,
        "default_mailbox_quota": domain_settings(domain).default_mailbox_quota,
    }
    domain_update(actor=actor, domain=domain, **(current | values))


def csv_import_apply(
    *, actor: Admin | None, plan: ImportPlan, only_valid: bool = False, welcome: bool = False
) -> ImportResult:
    """Write the plan's create and update rows: all or nothing, or only the valid rows."""
    if plan.has_errors and not only_valid:
        first = next(row for row in plan.rows if row.status == ERROR)
        raise ImportFailed(first, first.reason)
    result = ImportResult()
    # All or nothing: new mailboxes are written a domain at a time (the same services'
    # checks, rows and log rows, in a few statements); each other row goes through its service.
    batched = plan.kind == "mailboxes" and not only_valid
    with transaction.atomic():
        if batched:
            _new_mailboxes(actor, plan, welcome=welcome, result=result)
        for row in plan.rows:
            if row.status not in (CREATE, UPDATE) or (batched and row.status == CREATE):
                continue
            try:
                with transaction.atomic():
                    if plan.kind == "mailboxes":
                        _mailbox_row(actor, row, welcome=welcome, result=result)
                    elif plan.kind == "aliases":
                        _alias_row(actor, row)
                    else:
                        _domain_row(actor, row)
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
                if not only_valid:
                    raise ImportFailed(row, reason) from exc
                result.refused.append((row.number, row.key, reason))
                continue
            if row.status == CREATE:
                result.created += 1
            else:
                result.updated += 1
    return result
