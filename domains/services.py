"""Writes to domains and alias domains, with Postfix Admin's side effects and log rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.languages import MAILBOX, language_preference_forget
from accounts.models import Admin
from accounts.scoping import forget_domain_names, require_superadmin
from aliases.models import Alias
from aliases.services import alias_create
from domains import counters
from domains.guards import lock_domain, require_domain_scope
from domains.models import (
    ALL_DOMAINS,
    AliasDomain,
    DefaultAlias,
    Domain,
    DomainAdmin,
    DomainSettings,
)
from mail.names import normalize_domain, one_line_text
from mail.quota import max_quota_mb
from mailboxes.models import Mailbox, PasswordChange
from pfa.audit import describe_changes, log_action
from pfa.cascade import delete_mailbox_rows
from twofactor.services import forget_owners

SUPERADMINS_ONLY = gettext_lazy("Only super admins change domains.")
# The mailbox and alias limits are INT columns.
MAX_COUNT = 2**31 - 1


def default_aliases(domain: str) -> list[tuple[str, str]]:
    """Return the RFC 2142 aliases a new domain gets, as (local part, target) pairs."""
    pairs = []
    for item in settings.VIMBADMIN_DEFAULT_ALIASES.split(","):
        local, sep, target = item.partition("=")
        if sep and local.strip() and target.strip():
            pairs.append((local.strip().lower(), target.strip().replace("%d", domain)))
    return pairs


def check_domain_limits(
    *, aliases: int, mailboxes: int, maxquota: int, quota: int, default_mailbox_quota: int
) -> None:
    """Refuse limits below -1 or past their columns (counts INT; MB as bytes in a BIGINT)."""
    bounds = {
        "aliases": (aliases, MAX_COUNT),
        "mailboxes": (mailboxes, MAX_COUNT),
        "maxquota": (maxquota, max_quota_mb()),
        "quota": (quota, max_quota_mb()),
        "default_mailbox_quota": (default_mailbox_quota, max_quota_mb()),
    }
    for field, (value, most) in bounds.items():
        if value < -1:
            raise ValidationError(
                {field: _("Use -1 (disabled), 0 (unlimited) or a positive number.")}
            )
        if value > most:
            raise ValidationError({field: _("Enter at most %(most)s.") % {"most": f"{most:,}"}})


@transaction.atomic
def domain_create(
    *,
    actor: Admin | None,
    domain: str,
    description: str = "",
    aliases: int | None = None,
    mailboxes: int | None = None,
    maxquota: int | None = None,
    quota: int | None = None,
    default_mailbox_quota: int | None = None,
    transport: str | None = None,
    backupmx: bool = False,
    active: bool = True,
    create_default_aliases: bool = True,
    language: str = "",
    password_expiry: int | None = None,
) -> Domain:
    """Create a domain (limits default from settings) with its RFC 2142 aliases."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    name = normalize_domain(domain)
    if Domain.objects.filter(domain=name).exists() or name == ALL_DOMAINS.lower():
        raise ValidationError({"domain": _("This domain already exists.")})
    s = settings
    values = {
        "aliases": s.VIMBADMIN_DOMAIN_DEFAULT_ALIASES if aliases is None else aliases,
        "mailboxes": s.VIMBADMIN_DOMAIN_DEFAULT_MAILBOXES if mailboxes is None else mailboxes,
        "maxquota": s.VIMBADMIN_DOMAIN_DEFAULT_MAXQUOTA if maxquota is None else maxquota,
        "quota": s.VIMBADMIN_DOMAIN_DEFAULT_QUOTA if quota is None else quota,
    }
    default_quota = (
        s.VIMBADMIN_DOMAIN_DEFAULT_MAILBOX_QUOTA
        if default_mailbox_quota is None
        else default_mailbox_quota
    )
    check_domain_limits(**values, default_mailbox_quota=default_quota)
    if values["maxquota"] > 0:
        default_quota = (
            min(default_quota, values["maxquota"]) if default_quota else values["maxquota"]
        )
    now = timezone.now()
    obj = Domain.objects.create(
        domain=name,
        description=one_line_text(description, field="description"),
        transport=(transport or s.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT).strip(),
        backupmx=backupmx,
        active=active,
        created=now,
        modified=now,
        password_expiry=max(password_expiry or 0, 0),
        **values,
    )
    DomainSettings.objects.create(
        domain=obj,
        default_mailbox_quota=max(default_quota, 0),
        language=mail_language_code(language),
    )
    # Its counters row, which also holds the key lists sort it by.
    counters.ensure([name])
    forget_domain_names()
    log_action(actor=actor, domain=name, action="create_domain", data=name)
    if create_default_aliases:
        obj.rfc2142_aliases = tuple(_create_default_aliases(actor=actor, domain=obj))
    return obj


def _create_default_aliases(*, actor: Admin | None, domain: Domain) -> list[DefaultAlias]:
    """Create the configured RFC 2142 aliases as any alias is made: same checks and counters."""
    outcomes = []
    for local, target in default_aliases(domain.domain):
        try:
            alias = alias_create(actor=actor, domain=domain, local_part=local, targets=[target])
        except ValidationError as exc:
            # Each alias is a savepoint of its own: a refused one leaves the others and the domain.
            reason = " ".join(exc.messages)
            outcomes.append(DefaultAlias(f"{local}@{domain.domain}", target, reason))
        else:
            outcomes.append(DefaultAlias(alias.address, alias.goto))
    return outcomes


def mail_language_code(language: str) -> str:
    """Return a domain's mail language as stored: a shipped language's code or "" (the site's)."""
    if not language:
        return ""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("This language is not available.")})
    return language


def domain_settings(domain: Domain) -> DomainSettings:
    """Return the project's extra settings of a domain (defaults for adopted domains)."""
    found = DomainSettings.objects.filter(domain_id=domain.pk).first()
    if found is not None:
        return found
    fallback = domain.maxquota if domain.maxquota > 0 else 0
    return DomainSettings(domain=domain, default_mailbox_quota=fallback)


@transaction.atomic
def domain_update(
    *,
    actor: Admin | None,
    domain: Domain,
    description: str,
    aliases: int,
    mailboxes: int,
    maxquota: int,
    quota: int,
    default_mailbox_quota: int,
    transport: str,
    backupmx: bool,
    active: bool,
    language: str | None = None,
    password_expiry: int = -1,
) -> Domain:
    """Change a domain's description, limits, transport, flags and the language of its mails
    (super admins only; `language=None` keeps it).

    `password_expiry` (days, 0 = never) applies to passwords set from now on; -1 keeps it.
    """
    require_superadmin(actor, SUPERADMINS_ONLY)
    check_domain_limits(
        aliases=aliases,
        mailboxes=mailboxes,
        maxquota=maxquota,
        quota=quota,
        default_mailbox_quota=default_mailbox_quota,
    )
    obj = lock_domain(domain)
    before = _domain_fields(obj)
    kept_before = domain_settings(obj)
    before["default_mailbox_quota"] = kept_before.default_mailbox_quota
    if language is not None:
        before["language"] = kept_before.language
    obj.description = one_line_text(description, field="description")
    obj.aliases, obj.mailboxes, obj.maxquota, obj.quota = aliases, mailboxes, maxquota, quota
    obj.transport = transport.strip()
    obj.backupmx, obj.active = backupmx, active
    if password_expiry >= 0:
        obj.password_expiry = password_expiry
    obj.modified = timezone.now()
    obj.save()
    kept: dict[str, Any] = {"default_mailbox_quota": max(default_mailbox_quota, 0)}
    if language is not None:
        kept["language"] = mail_language_code(language)
    DomainSettings.objects.update_or_create(domain_id=obj.pk, defaults=kept)
    after = {**_domain_fields(obj), **kept}
    log_action(
        actor=actor,
        domain=obj.domain,
        action="edit_domain",
        data=describe_changes(obj.domain, before, after),
    )
    return obj


def _domain_fields(domain: Domain) -> dict[str, Any]:
    """Return the fields of a domain an edit may change, by their Postfix Admin column names."""
    return {
        "description": domain.description,
        "aliases": domain.aliases,
        "mailboxes": domain.mailboxes,
        "maxquota": domain.maxquota,
        "quota": domain.quota,
        "transport": domain.transport,
        "backupmx": domain.backupmx,
        "active": domain.active,
        "password_expiry": domain.password_expiry,
    }


@transaction.atomic
def domain_set_active(*, actor: Admin | None, domain: Domain, active: bool) -> Domain:
    """Activate or deactivate a domain; Postfix and Dovecot stop serving it when inactive."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    obj = lock_domain(domain)
    obj.active = active
    obj.modified = timezone.now()
    obj.save(update_fields=["active", "modified"])
    state = "active" if active else "inactive"
    log_action(actor=actor, domain=obj.domain, action="edit_domain", data=f"{obj.domain}: {state}")
    return obj


@transaction.atomic
def domain_purge(*, actor: Admin | None, domain: Domain) -> None:
    """Delete a domain and everything in it as Postfix Admin does, keeping its log rows."""
    require_superadmin(actor, SUPERADMINS_ONLY)
    obj = lock_domain(domain)
    name = obj.domain
    if AliasDomain.objects.filter(target_domain_id=name).exclude(alias_domain_id=name).exists():
        raise ValidationError(
            _("This domain is the target of an alias domain; remove the alias domain first.")
        )
    DomainAdmin.objects.filter(domain_id=name).delete()
    Alias.objects.filter(domain_id=name).delete()
    delete_mailbox_rows(domain=name)
    forget_owners(domain=name)
    Mailbox.objects.filter(domain_id=name).delete()
    PasswordChange.objects.filter(username__endswith=f"@{name}").delete()
    AliasDomain.objects.filter(alias_domain_id=name).delete()
    DomainSettings.objects.filter(domain_id=name).delete()
    language_preference_forget(realm=MAILBOX, domain=name)
    counters.delete(name)
    Domain.objects.filter(domain=name).delete()
    forget_domain_names()
    log_action(actor=actor, domain=name, action="delete_domain", data=name)


@transaction.atomic
def alias_domain_create(
    *, actor: Admin | None, alias_domain: Domain, target_domain: Domain, active: bool = True
) -> AliasDomain:
    """Make mail to alias_domain go to the same local part at target_domain; no chains."""
    require_domain_scope(actor, alias_domain)
    require_domain_scope(actor, target_domain)
    source, target = alias_domain.domain, target_domain.domain
    if source == target:
        raise ValidationError({"target_domain": _("A domain cannot be an alias of itself.")})
    if AliasDomain.objects.filter(alias_domain_id=source).exists():
        raise ValidationError({"alias_domain": _("This domain is already an alias domain.")})
    if AliasDomain.objects.filter(target_domain_id=source).exists():
        raise ValidationError(
            {"alias_domain": _("Other alias domains point at this domain; chains are not allowed.")}
        )
    if AliasDomain.objects.filter(alias_domain_id=target).exists():
        raise ValidationError(
            {"target_domain": _("The target is itself an alias domain; chains are not allowed.")}
        )
    now = timezone.now()
    obj = AliasDomain.objects.create(
        alias_domain=alias_domain,
        target_domain=target_domain,
        active=active,
        created=now,
        modified=now,
    )
    log_action(
        actor=actor, domain=source, action="create_alias_domain", data=f"{source} -> {target}"
    )
    return obj


@transaction.atomic
def alias_domain_create_with_domain(
    *, actor: Admin | None, domain: str, target_domain: Domain, active: bool = True
) -> AliasDomain:
    """Create an alias-only domain row and make it an alias of target_domain, all or nothing.

    The row is what Postfix Admin needs for an alias domain: no mailboxes (-1), no limits of its
    own (0), no quota, no RFC 2142 aliases (so postmaster@ and the rest follow the target's);
    both rows are logged (create_domain, create_alias_domain).
    """
    # domain_create() lets super admins only.
    created = domain_create(
        actor=actor,
        domain=domain,
        description=f"Alias domain of {target_domain.domain}",
        aliases=0,
        mailboxes=-1,
        maxquota=0,
        quota=0,
        default_mailbox_quota=0,
        active=active,
        create_default_aliases=False,
    )
    try:
        return alias_domain_create(
            actor=actor, alias_domain=created, target_domain=target_domain, active=active
        )
    except ValidationError as exc:
        # The new row has no error of its own to show: the target's problem is the form's.
        if hasattr(exc, "error_dict") and "alias_domain" in exc.error_dict:
            raise ValidationError({"new_domain": exc.error_dict["alias_domain"]}) from None
        raise


@transaction.atomic
def alias_domain_set_active(
    *, actor: Admin | None, alias_domain: AliasDomain, active: bool
) -> AliasDomain:
    """Activate or deactivate an alias domain."""
    require_domain_scope(actor, alias_domain.alias_domain)
    alias_domain.active = active
    alias_domain.modified = timezone.now()
    alias_domain.save(update_fields=["active", "modified"])
    state = "active" if active else "inactive"
    log_action(
        actor=actor,
        domain=alias_domain.alias_domain_id,
        action="edit_alias_domain_state",
        data=f"{alias_domain.alias_domain_id}: {state}",
    )
    return alias_domain


@transaction.atomic
def alias_domain_delete(*, actor: Admin | None, alias_domain: AliasDomain) -> None:
    """Remove an alias domain (the domain itself stays)."""
    require_domain_scope(actor, alias_domain.alias_domain)
    name = alias_domain.alias_domain_id
    AliasDomain.objects.filter(alias_domain_id=name).delete()
    log_action(
        actor=actor,
        domain=name,
        action="delete_alias_domain",
        data=f"{name} -> {alias_domain.target_domain_id}",
    )
