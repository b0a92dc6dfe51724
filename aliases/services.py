"""Writes to aliases: validated destinations, Postfix Admin's counting rule, log rows."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Admin
from accounts.resets import check_rerouting
from accounts.scoping import is_superadmin
from aliases.models import Alias
from domains import counters
from domains.guards import lock_domain, require_domain_scope
from domains.models import Domain
from mail.names import normalize_local_part, normalize_target
from mailboxes.models import Mailbox
from pfa.audit import describe_changes, log_action
from pfa.goto import is_vacation_target, split_goto


def clean_targets(targets: list[str], *, address: str) -> list[str]:
    """Validate and de-duplicate destinations; an alias may not point only at itself."""
    cleaned: list[str] = []
    errors: list[str] = []
    for raw in targets:
        if not raw.strip():
            continue
        try:
            value = normalize_target(raw)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if value not in cleaned:
            cleaned.append(value)
    if errors:
        raise ValidationError({"targets": errors})
    if not cleaned:
        raise ValidationError({"targets": _("Enter at least one destination.")})
    if cleaned == [address]:
        raise ValidationError({"targets": _("An alias cannot point only at itself.")})
    return cleaned


def alias_count(domain: Domain) -> int:
    """Count a domain's aliases the Postfix Admin way: all alias rows minus mailbox rows."""
    counts = counters.ensure([domain.pk])[domain.pk]
    return max(counts.alias_rows - counts.mailboxes, 0)


def _is_mailbox_alias(alias: Alias) -> bool:
    return Mailbox.objects.filter(username=alias.address).exists()


def alias_limit_text(limit: int) -> str:
    """Say that a domain is full of aliases, and how a domain admin gets past it."""
    return ngettext(
        "The domain has reached its limit of %(limit)d alias: ask your provider "
        "(a super admin) to raise it, or delete an alias.",
        "The domain has reached its limit of %(limit)d aliases: ask your provider "
        "(a super admin) to raise it, or delete an alias.",
        limit,
    ) % {"limit": limit}


def alias_create_problems(
    *, actor: Admin | None, domain: Domain, local_part: str, override_limits: bool = False
) -> dict[str, list[str]]:
    """Find the domain's and the address's reasons to refuse a new alias, without locking.

    For the create form, so that they show with the destinations' errors in one round; the
    service checks them again under the domain's lock.
    """
    errors: dict[str, list[str]] = {}
    counts = counters.ensure([domain.domain])[domain.domain]
    override = override_limits and (actor is None or is_superadmin(actor))
    taken = max(counts.alias_rows - counts.mailboxes, 0)
    if domain.aliases < 0 and not override:
        errors["domain"] = [_("This domain may not have aliases.")]
    elif domain.aliases > 0 and not override and taken >= domain.aliases:
        errors["domain"] = [alias_limit_text(domain.aliases)]
    if local_part.strip() in ("", "*"):
        address = f"@{domain.domain}"
    else:
        try:
            address = f"{normalize_local_part(local_part, domain.domain)}@{domain.domain}"
        except ValidationError as exc:
            errors["local_part"] = list(exc.messages)
            return errors
    if Mailbox.objects.filter(username=address).exists():
        errors["local_part"] = [
            _("This address is a mailbox; edit the mailbox's forwarding instead.")
        ]
    elif Alias.objects.filter(address=address).exists():
        errors["local_part"] = [_("An alias with this address already exists.")]
    return errors


@transaction.atomic
def alias_create(
    *,
    actor: Admin | None,
    domain: Domain,
    local_part: str,
    targets: list[str],
    active: bool = True,
    override_limits: bool = False,
) -> Alias:
    """Create an alias (empty local part: the `@domain` catch-all) within the domain's limit."""
    require_domain_scope(actor, domain)
    domain = lock_domain(domain)
    counts = counters.lock(domain)
    if local_part.strip() in ("", "*"):
        address = f"@{domain.domain}"
    else:
        address = f"{normalize_local_part(local_part, domain.domain)}@{domain.domain}"
    override = override_limits and (actor is None or is_superadmin(actor))
    if domain.aliases < 0 and not override:
        raise ValidationError(_("This domain may not have aliases."))
    taken = max(counts.alias_rows - counts.mailboxes, 0)
    if domain.aliases > 0 and not override and taken >= domain.aliases:
        raise ValidationError(alias_limit_text(domain.aliases))
    if Mailbox.objects.filter(username=address).exists():
        raise ValidationError(
            {"local_part": _("This address is a mailbox; edit the mailbox's forwarding instead.")}
        )
    if Alias.objects.filter(address=address).exists():
        raise ValidationError({"local_part": _("An alias with this address already exists.")})
    check_rerouting(actor, address, field="local_part")
    goto = clean_targets(targets, address=address)
    now = timezone.now()
    alias = Alias.objects.create(
        address=address,
        goto=",".join(goto),
        domain=domain,
        active=active,
        created=now,
        modified=now,
    )
    counters.add(counts, alias_rows=1)
    log_action(
        actor=actor, domain=domain.domain, action="create_alias", data=f"{address} -> {alias.goto}"
    )
    return alias


@transaction.atomic
def alias_update(*, actor: Admin | None, alias: Alias, targets: list[str]) -> Alias:
    """Replace an alias's destinations."""
    require_domain_scope(actor, alias.domain)
    if _is_mailbox_alias(alias):
        raise PermissionDenied(_("A mailbox's own alias is edited as the mailbox's forwarding."))
    check_rerouting(actor, alias.address, field="targets")
    cleaned = clean_targets(targets, address=alias.address)
    # A vacation target is not the admin's to drop: it stays whatever was typed.
    kept = [
        t
        for t in split_goto(alias.goto)
        if is_vacation_target(t, alias.address) and t not in cleaned
    ]
    before = {"goto": alias.goto}
    alias.goto = ",".join([*cleaned, *kept])
    alias.modified = timezone.now()
    alias.save(update_fields=["goto", "modified"])
    log_action(
        actor=actor,
        domain=alias.domain_id,
        action="edit_alias",
        data=describe_changes(alias.address, before, {"goto": alias.goto}),
    )
    return alias


@transaction.atomic
def alias_set_active(*, actor: Admin | None, alias: Alias, active: bool) -> Alias:
    """Activate or deactivate an alias (a mailbox's own alias follows its mailbox instead)."""
    require_domain_scope(actor, alias.domain)
    if _is_mailbox_alias(alias):
        raise PermissionDenied(_("A mailbox's own alias is switched with its mailbox."))
    if active:
        check_rerouting(actor, alias.address, field="active")
    alias.active = active
    alias.modified = timezone.now()
    alias.save(update_fields=["active", "modified"])
    state = "active" if active else "inactive"
    log_action(
        actor=actor,
        domain=alias.domain_id,
        action="edit_alias_state",
        data=f"{alias.address}: {state}",
    )
    return alias


@transaction.atomic
def alias_delete(*, actor: Admin | None, alias: Alias) -> None:
    """Delete an alias; a mailbox's own alias row goes only with its mailbox."""
    require_domain_scope(actor, alias.domain)
    if _is_mailbox_alias(alias):
        raise PermissionDenied(_("A mailbox's own alias is deleted with the mailbox."))
    counts = counters.lock(alias.domain_id)
    deleted, _rows = Alias.objects.filter(pk=alias.pk).delete()
    counters.add(counts, alias_rows=-deleted)
    log_action(actor=actor, domain=alias.domain_id, action="delete_alias", data=alias.address)
