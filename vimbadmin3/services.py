"""Writes of a ViMbAdmin 3 import: Postfix Admin's rows exactly as the project's services write
them (each through those services where they take what ViMbAdmin stored), one transaction per
domain, log rows with Postfix Admin's action keys. Only what the plan marks new is written.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Admin
from accounts.services import admin_set_superadmin
from aliases.models import Alias
from aliases.services import alias_create
from domains import counters
from domains.guards import lock_domain, require_domain_scope
from domains.models import AliasDomain, Domain, DomainAdmin
from domains.services import alias_domain_create, domain_create
from mail.names import normalize_address, normalize_local_part, one_line_text
from mailboxes.models import Mailbox
from mailboxes.services import password_expiry_for
from pfa.audit import log_action, log_actions
from pfa.models import Log
from vimbadmin3.models import KeptRow, MailboxLocation
from vimbadmin3.plan import (
    NEW,
    AdminRow,
    AliasDomainRow,
    DomainPlan,
    LogRow,
    MailboxRow,
    aware,
)
from vimbadmin3.plan import KeptRow as PlannedKeptRow


class ImportRefused(Exception):
    """A domain (or the whole run) was not imported; the text is one line saying why."""


@transaction.atomic
def vimbadmin_domain_import(*, actor: Admin | None, plan: DomainPlan) -> int:
    """Import one domain with its mailboxes and aliases, all or nothing; return rows written."""
    if plan.problems:
        raise ImportRefused(plan.problems[0])
    written = 0
    vd = plan.source
    if plan.state == NEW:
        v = plan.values
        domain = domain_create(
            actor=actor,
            domain=vd.domain,
            description=str(v["description"]),
            aliases=int(v["aliases"]),
            mailboxes=int(v["mailboxes"]),
            maxquota=int(v["maxquota"]),
            quota=int(v["quota"]),
            default_mailbox_quota=int(v["default_mailbox_quota"]),
            transport=str(v["transport"]),
            backupmx=bool(v["backupmx"]),
            active=bool(v["active"]),
            create_default_aliases=False,
        )
        # ViMbAdmin's own dates, as an adopted Postfix Admin domain keeps its own.
        Domain.objects.filter(pk=domain.pk).update(
            created=aware(vd.created), modified=aware(vd.modified or vd.created)
        )
        written += 1
    else:
        domain = Domain.objects.get(pk=vd.domain)
    fresh = [row for row in plan.mailboxes if row.state == NEW]
    if fresh:
        written += len(vimbadmin_mailboxes_import(actor=actor, domain=domain, rows=fresh))
    for alias in plan.aliases:
        if alias.state != NEW:
            continue
        created = alias_create(
            actor=actor,
            domain=domain,
            local_part=alias.local_part,
            targets=alias.targets,
            active=alias.source.active,
            override_limits=True,
        )
        Alias.objects.filter(pk=created.pk).update(
            created=aware(alias.source.created),
            modified=aware(alias.source.modified or alias.source.created),
        )
        written += 1
    return written


@transaction.atomic
def vimbadmin_mailboxes_import(
    *, actor: Admin | None, domain: Domain, rows: list[MailboxRow]
) -> list[Mailbox]:
    """Create mailboxes with the hashes ViMbAdmin stored, their own alias rows and locations.

    The rows are mailbox_create's, written in bulk under one domain lock: the password is the
    stored hash (re-hashed on the owner's next login), the maildir points at the mail where it
    already is, quota and dates are ViMbAdmin's, and the limits are not applied (the import
    copies what exists). An address that exists already refuses the whole batch.
    """
    require_domain_scope(actor, domain)
    domain = lock_domain(domain)
    counts = counters.lock(domain)
    mailboxes: list[Mailbox] = []
    aliases: list[Alias] = []
    locations: list[MailboxLocation] = []
    for row in rows:
        vm = row.source
        local = normalize_local_part(row.local_part, domain.domain)
        username = f"{local}@{domain.domain}"
        created = aware(vm.created)
        modified = aware(vm.modified or vm.created)
        mailboxes.append(
            Mailbox(
                username=username,
                password=row.password,
                name=one_line_text(vm.name, field="name"),
                maildir=row.location.maildir,
                quota=vm.quota,
                local_part=local,
                domain=domain,
                created=created,
                modified=modified,
                active=vm.active,
                email_other=normalize_address(vm.alt_email) if vm.alt_email else "",
                password_expiry=password_expiry_for(domain),
            )
        )
        goto = ([username] if row.keep_copy else []) + row.forward
        aliases.append(
            Alias(
                address=username,
                goto=",".join(goto),
                domain=domain,
                created=created,
                modified=modified,
                active=vm.active,
            )
        )
        if row.own_location:
            locations.append(
                MailboxLocation(username=username, home=row.location.home, mail=row.location.mail)
            )
    names = [m.username for m in mailboxes]
    # By domain rather than by address list: one index range per table, whatever the planner's
    # view of a table the import is filling.
    taken = set(
        Mailbox.objects.filter(domain_id=domain.pk).values_list("username", flat=True)
    ) | set(Alias.objects.filter(domain_id=domain.pk).values_list("address", flat=True))
    clash = next((name for name in names if name in taken), None)
    if clash is not None:
        raise ValidationError(f"The address {clash} exists already.")
    Mailbox.objects.bulk_create(mailboxes, batch_size=1000)
    Alias.objects.bulk_create(aliases, batch_size=1000)
    MailboxLocation.objects.filter(username__in=[loc.username for loc in locations]).delete()
    MailboxLocation.objects.bulk_create(locations, batch_size=1000)
    counters.add(
        counts,
        mailboxes=len(mailboxes),
        alias_rows=len(aliases),
        quota=sum(counters.positive(m.quota) for m in mailboxes),
    )
    log_actions(actor=actor, domain=domain.domain, action="create_mailbox", data=names)
    return mailboxes


@transaction.atomic
def vimbadmin_alias_domain_import(*, actor: Admin | None, row: AliasDomainRow) -> AliasDomain:
    """Turn ViMbAdmin's `@a -> @b` alias into Postfix Admin's alias_domain row."""
    source = Domain.objects.filter(pk=row.alias_domain).first()
    target = Domain.objects.filter(pk=row.target_domain).first()
    if source is None or target is None:
        missing = row.alias_domain if source is None else row.target_domain
        raise ImportRefused(
            f"alias domain @{row.alias_domain} -> @{row.target_domain}: the domain {missing} "
            "was not imported; import it too (or leave out --domains) and run again."
        )
    created = alias_domain_create(
        actor=actor, alias_domain=source, target_domain=target, active=row.source.active
    )
    AliasDomain.objects.filter(pk=created.pk).update(
        created=aware(row.source.created), modified=aware(row.source.modified or row.source.created)
    )
    return created


@transaction.atomic
def vimbadmin_admin_import(*, actor: Admin | None, row: AdminRow) -> Admin:
    """Create an admin with ViMbAdmin's bcrypt hash, super flag (both Postfix Admin
    representations, through admin_set_superadmin) and domain assignments."""
    va = row.source
    username = normalize_address(va.username)
    if Admin.objects.filter(username=username).exists():
        raise ImportRefused(f"admin {username} exists already.")
    admin = Admin(
        username=username,
        password=row.password,
        active=va.active,
        created=aware(va.created),
        modified=aware(va.modified or va.created),
    )
    admin.save(force_insert=True)
    log_action(actor=actor, domain="", action="create_admin", data=username)
    if va.super:
        admin_set_superadmin(actor=actor, admin=admin, superadmin=True)
    for name in row.domains:
        if Domain.objects.filter(pk=name).exists():
            DomainAdmin.objects.create(username_id=admin.pk, domain_id=name, active=True)
    return admin


@transaction.atomic
def vimbadmin_history_import(*, logs: list[LogRow], kept: list[PlannedKeptRow]) -> int:
    """Write ViMbAdmin's log rows (Postfix Admin's action keys, original dates) and keep its
    preference and archive rows; each source row once, whatever the number of runs."""
    Log.objects.bulk_create(
        [
            Log(
                timestamp=row.timestamp,
                username=row.username[:255],
                domain=row.domain[:255],
                action=row.action,
                data=row.data,
            )
            for row in logs
        ],
        batch_size=1000,
    )
    markers = [
        KeptRow(source_table="log", source_id=row.source_id, owner=row.domain, data="")
        for row in logs
    ] + [
        KeptRow(
            source_table=row.table,
            source_id=row.source_id,
            owner=row.owner,
            data=json.dumps(row.values, sort_keys=True),
        )
        for row in kept
    ]
    KeptRow.objects.bulk_create(markers, batch_size=1000)
    return len(logs) + len(kept)
