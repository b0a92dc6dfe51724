"""Writes to mailboxes, with Postfix Admin's side effects (own alias row, cascade) and log rows."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.languages import MAILBOX, language_preference_forget
from accounts.models import Admin
from accounts.resets import check_rerouting, invite_password, mailbox_invite, rerouting_checker
from accounts.scoping import is_superadmin
from aliases.models import Alias
from domains import counters
from domains.guards import lock_domain, require_domain_scope
from domains.models import AliasDomain, Domain
from domains.services import domain_settings
from mail import passwords
from mail.names import (
    normalize_address,
    normalize_local_part,
    normalize_target,
    one_line_text,
)
from mail.quota import MAX_QUOTA_BYTES, format_bytes, mb_to_bytes
from mailboxes.models import Mailbox, PasswordChange, password_digest
from mailboxes.selectors import aliases_delivering_query
from pfa.audit import describe_changes, log_action, log_actions
from pfa.cascade import delete_mailbox_rows
from pfa.goto import parse_goto, split_goto, with_destinations
from pfa.schema import has_column
from twofactor.services import forget_owners


def maildir_for(local_part: str, domain: str) -> str:
    """Compute the maildir from the template: %d domain, %u local part, %m address."""
    address = f"{local_part}@{domain}"
    path = (
        settings.VIMBADMIN_MAILDIR_TEMPLATE.replace("%d", domain)
        .replace("%u", local_part)
        .replace("%m", address)
    )
    return path if path.endswith("/") else path + "/"


def password_expiry_for(domain: Domain) -> datetime.datetime:
    """Return when a password set now expires: the domain's days, else the configured default."""
    days = domain.password_expiry or settings.VIMBADMIN_PASSWORD_EXPIRY_DAYS
    return timezone.now() + datetime.timedelta(days=days)


def _record_password_change(mailbox: Mailbox, when: datetime.datetime) -> None:
    # Every path that sets a password (pages, reset, API, CLI, CSV import) ends here.
    PasswordChange.objects.update_or_create(
        username=mailbox.username,
        defaults={"changed": when, "hash_digest": password_digest(mailbox.password)},
    )


def _mailbox_row(
    domain: Domain,
    local: str,
    *,
    password: str,
    name: str,
    quota: int,
    active: bool,
    email_other: str,
    now: datetime.datetime,
    expiry: datetime.datetime,
) -> Mailbox:
    """Return a new, unsaved mailbox row with its password hashed and maildir computed."""
    return Mailbox(
        username=f"{local}@{domain.domain}",
        password=passwords.hash_password(password),
        name=name,
        maildir=maildir_for(local, domain.domain),
        quota=quota,
        local_part=local,
        domain=domain,
        created=now,
        modified=now,
        active=active,
        email_other=email_other,
        password_expiry=expiry,
    )


def _may_override(actor: Admin | None, override_limits: bool) -> bool:
    # Only super admins (or the shell) may go past a domain's limits, and only when asked to.
    return override_limits and (actor is None or is_superadmin(actor))


def unlimited_quota_allowed(domain: Domain) -> bool:
    """Tell whether a mailbox of the domain may have no quota (0): not under a quota limit."""
    return domain.maxquota <= 0 and domain.quota <= 0


def check_mailbox_quota(
    *, domain: Domain, quota_bytes: int, allocated: int, override: bool = False
) -> None:
    """Refuse a quota above the domain's per-mailbox ceiling or beyond its total quota.

    `allocated` is what the domain's other mailboxes already hold, in bytes. Whatever the
    override, a quota and the domain's sum of quotas stay within what their BIGINT columns
    hold (mailbox.quota, the domain counters' total).
    """
    if quota_bytes < 0:
        raise ValidationError({"quota": _("The quota cannot be negative.")})
    if quota_bytes > MAX_QUOTA_BYTES:
        raise ValidationError(
            {
                "quota": _("The quota is too large: at most %(max)s.")
                % {"max": format_bytes(MAX_QUOTA_BYTES)}
            }
        )
    if allocated + quota_bytes > MAX_QUOTA_BYTES:
        raise ValidationError(
            {
                "quota": _("The domain's quotas together cannot pass %(max)s (%(free)s left).")
                % {
                    "max": format_bytes(MAX_QUOTA_BYTES),
                    "free": format_bytes(max(MAX_QUOTA_BYTES - allocated, 0)),
                }
            }
        )
    if override:
        return
    if domain.maxquota > 0:
        ceiling = mb_to_bytes(domain.maxquota)
        if quota_bytes == 0:
            raise ValidationError(
                {
                    "quota": _("Unlimited is not allowed here: the most is %(max)s per mailbox.")
                    % {"max": format_bytes(ceiling)}
                }
            )
        if quota_bytes > ceiling:
            raise ValidationError(
                {
                    "quota": _("The quota is too high: the most is %(max)s per mailbox.")
                    % {"max": format_bytes(ceiling)}
                }
            )
    if domain.quota > 0:
        total = mb_to_bytes(domain.quota)
        if quota_bytes == 0:
            raise ValidationError(
                {"quota": _("Unlimited is not allowed: the domain has a total quota.")}
            )
        if allocated + quota_bytes > total:
            raise ValidationError(
                {
                    "quota": _(
                        "The domain's total quota of %(total)s would be exceeded (%(free)s left)."
                    )
                    % {
                        "total": format_bytes(total),
                        "free": format_bytes(max(total - allocated, 0)),
                    }
                }
            )


def default_quota_bytes(domain: Domain) -> int:
    """Return the quota a new mailbox in the domain gets when none is typed."""
    return mb_to_bytes(domain_settings(domain).default_mailbox_quota)


def _check_password(password: str, *, username: str, name: str) -> None:
    probe = Mailbox(username=username, name=name)
    try:
        validate_password(password, user=probe)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None


class _Problems:
    """Every refusal of a write, gathered so a form shows them all in one round."""

    def __init__(self) -> None:
        self.errors: dict[str, list[Any]] = {}

    def check(
        self, function: Any, *args: Any, default_field: str = NON_FIELD_ERRORS, **kwargs: Any
    ) -> Any:
        """Run one check; its ValidationError is kept instead of raised."""
        try:
            return function(*args, **kwargs)
        except ValidationError as exc:
            self.add(exc, default_field=default_field)
            return None

    def add(self, exc: ValidationError, *, default_field: str = NON_FIELD_ERRORS) -> None:
        """Keep a ValidationError's messages under their fields."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.errors.setdefault(field, []).extend(errors)
        else:
            self.errors.setdefault(default_field, []).extend(exc.error_list)

    def raise_any(self) -> None:
        """Raise one ValidationError with everything found, if anything was."""
        if self.errors:
            raise ValidationError(self.errors)


def _mailbox_limit(domain: Domain, mailboxes: int, *, override: bool) -> None:
    if domain.mailboxes < 0 and not override:
        raise ValidationError(_("This domain may not have mailboxes."))
    if domain.mailboxes > 0 and not override and mailboxes >= domain.mailboxes:
        raise ValidationError(mailbox_limit_text(domain.mailboxes))


def mailbox_limit_text(limit: int) -> str:
    """Say that a domain is full of mailboxes, and how a domain admin gets past it."""
    return ngettext(
        "The domain has reached its limit of %(limit)d mailbox: ask your provider "
        "(a super admin) to raise it, or purge a mailbox.",
        "The domain has reached its limit of %(limit)d mailboxes: ask your provider "
        "(a super admin) to raise it, or purge a mailbox.",
        limit,
    ) % {"limit": limit}


def mailbox_create_problems(
    *,
    actor: Admin | None,
    domain: Domain,
    local_part: str,
    password: str | None,
    name: str = "",
    quota_bytes: int | None = None,
    override_limits: bool = False,
    mailbox_count: int | None = None,
    allocated: int | None = None,
) -> tuple[dict[str, list[Any]], str]:
    """Find every reason to refuse a new mailbox, at once; return them and the address.

    The service calls it under the domain's lock with the locked counters; a form calls it
    without (`mailbox_count`/`allocated` None: read from the counters), so one submit shows
    every problem, and the service still has the last word.
    """
    problems = _Problems()
    if mailbox_count is None or allocated is None:
        counts = counters.ensure([domain.domain])[domain.domain]
        mailbox_count, allocated = counts.mailboxes, counts.quota_allocated
    override = _may_override(actor, override_limits)
    problems.check(_mailbox_limit, domain, mailbox_count, override=override)
    local = problems.check(
        normalize_local_part, local_part, domain.domain, default_field="local_part"
    )
    username = f"{local}@{domain.domain}" if local else ""
    if username:
        if Mailbox.objects.filter(username=username).exists():
            problems.add(
                ValidationError({"local_part": _("A mailbox with this address already exists.")})
            )
        elif Alias.objects.filter(address=username).exists():
            problems.add(
                ValidationError({"local_part": _("An alias with this address already exists.")})
            )
        else:
            problems.check(check_rerouting, actor, username, field="local_part")
    quota = default_quota_bytes(domain) if quota_bytes is None else quota_bytes
    problems.check(
        check_mailbox_quota,
        domain=domain,
        quota_bytes=quota,
        allocated=allocated,
        override=override,
    )
    if password is not None:
        problems.check(_check_password, password, username=username or domain.domain, name=name)
    return problems.errors, username


@transaction.atomic
def mailbox_create(
    *,
    actor: Admin | None,
    domain: Domain,
    local_part: str,
    password: str,
    name: str = "",
    quota_bytes: int | None = None,
    email_other: str = "",
    active: bool = True,
    send_welcome: bool = False,
    override_limits: bool = False,
    check_policy: bool = True,
    invite: bool = False,
) -> Mailbox:
    """Create a mailbox and its own alias row, within the domain's limits (checked under lock).

    `invite`: `password` is ignored; the mailbox gets a password nobody knows, and a link to
    choose one goes to `email_other` (required) once the mailbox is committed.

    Every refusal is reported at once (one ValidationError naming each field).
    """
    require_domain_scope(actor, domain)
    if invite:
        if not email_other:
            raise ValidationError(
                {"email_other": _("An invitation goes to the alternative address: enter one.")}
            )
        password, check_policy = invite_password(), False
    name = one_line_text(name, field="name")
    domain = lock_domain(domain)
    counts = counters.lock(domain)
    errors, username = mailbox_create_problems(
        actor=actor,
        domain=domain,
        local_part=local_part,
        password=password if check_policy else None,
        name=name,
        quota_bytes=quota_bytes,
        override_limits=override_limits,
        mailbox_count=counts.mailboxes,
        allocated=counts.quota_allocated,
    )
    if errors:
        raise ValidationError(errors)
    local = username.split("@", 1)[0]
    quota = default_quota_bytes(domain) if quota_bytes is None else quota_bytes
    now = timezone.now()
    mailbox = _mailbox_row(
        domain,
        local,
        password=password,
        name=name,
        quota=quota,
        active=active,
        email_other=normalize_address(email_other) if email_other else "",
        now=now,
        expiry=password_expiry_for(domain),
    )
    mailbox.save(force_insert=True)
    _record_password_change(mailbox, now)
    # The own alias row keeps catch-alls and alias domains from swallowing this mailbox's mail.
    Alias.objects.create(
        address=username, goto=username, domain=domain, created=now, modified=now, active=active
    )
    counters.add(counts, mailboxes=1, alias_rows=1, quota=counters.positive(quota))
    log_action(actor=actor, domain=domain.domain, action="create_mailbox", data=username)
    if invite:
        # Refused (and the mailbox rolled back) where the reset policy sends no link.
        mailbox_invite(mailbox)
    if send_welcome:
        from mailboxes.emails import send_welcome_email

        # Sent once the mailbox is committed; a failure becomes a warning, never a rollback.
        send_welcome_email(mailbox, invited=invite)
    return mailbox


@dataclass(frozen=True)
class NewMailbox:
    """One mailbox for mailbox_create_many(): mailbox_create()'s arguments of one mailbox."""

    local_part: str
    password: str
    name: str = ""
    quota_bytes: int | None = None
    email_other: str = ""
    active: bool = True


class MailboxRefused(ValidationError):
    """mailbox_create_many(): the entry at `index` (None: the batch as a whole) was refused."""

    def __init__(self, error: ValidationError, index: int | None) -> None:
        super().__init__(getattr(error, "error_dict", None) or error.messages)
        self.index = index


# Rows per INSERT statement.
_INSERT_BATCH = 1000
# Up to this many new addresses are looked up by address, more by reading the domain's.
_BY_ADDRESS = 100


@transaction.atomic
def mailbox_create_many(
    *,
    actor: Admin | None,
    domain: Domain,
    entries: Sequence[NewMailbox],
    send_welcome: bool = False,
    override_limits: bool = False,
    check_policy: bool = True,
) -> list[Mailbox]:
    """Create mailboxes of one domain as mailbox_create() creates each, in a few statements.

    The same checks on each mailbox, the same rows (mailbox, own alias), counters and one log
    row per mailbox; the domain is locked once and its limits are checked for the batch as a
    whole. All or nothing: the first refusal raises MailboxRefused (with the entry's index)
    and nothing is written.
    """
    require_domain_scope(actor, domain)
    domain = lock_domain(domain)
    counts = counters.lock(domain)
    override = _may_override(actor, override_limits)
    if domain.mailboxes < 0 and not override and entries:
        raise MailboxRefused(ValidationError(_("This domain may not have mailboxes.")), None)
    if domain.mailboxes > 0 and not override and counts.mailboxes + len(entries) > domain.mailboxes:
        raise MailboxRefused(
            ValidationError(
                _(
                    "The domain may have %(limit)d mailboxes: %(new)d more would pass it "
                    "(%(free)d free)."
                )
                % {
                    "limit": domain.mailboxes,
                    "new": len(entries),
                    "free": max(domain.mailboxes - counts.mailboxes, 0),
                }
            ),
            None,
        )
    default_quota: int | None = None
    allocated = counts.quota_allocated
    now = timezone.now()
    expiry = password_expiry_for(domain)
    mailboxes: list[Mailbox] = []
    seen: dict[str, int] = {}
    rerouting = rerouting_checker(actor, domain.domain, field="local_part")
    for index, entry in enumerate(entries):
        try:
            name = one_line_text(entry.name, field="name")
            local = normalize_local_part(entry.local_part, domain.domain)
            username = f"{local}@{domain.domain}"
            if username in seen:
                raise ValidationError(
                    {"local_part": _("A mailbox with this address already exists.")}
                )
            seen[username] = index
            rerouting(username)
            quota = entry.quota_bytes
            if quota is None:
                if default_quota is None:
                    default_quota = default_quota_bytes(domain)
                quota = default_quota
            check_mailbox_quota(
                domain=domain, quota_bytes=quota, allocated=allocated, override=override
            )
            allocated += counters.positive(quota)
            if check_policy:
                _check_password(entry.password, username=username, name=name)
            email_other = normalize_address(entry.email_other) if entry.email_other else ""
        except ValidationError as exc:
            raise MailboxRefused(exc, index) from None
        mailboxes.append(
            _mailbox_row(
                domain,
                local,
                password=entry.password,
                name=name,
                quota=quota,
                active=entry.active,
                email_other=email_other,
                now=now,
                expiry=expiry,
            )
        )
    names = list(seen)
    for model, field, message in (
        (Mailbox, "username", _("A mailbox with this address already exists.")),
        (Alias, "address", _("An alias with this address already exists.")),
    ):
        if len(names) <= _BY_ADDRESS:
            taken = model.objects.filter(**{f"{field}__in": names})
        else:
            # A large batch reads the domain's addresses by its index: an `IN` list of many
            # addresses on a table being filled may get a plan that probes the trigram index
            # per address (bench/RESULTS.md, "Importing from ViMbAdmin 3").
            taken = model.objects.filter(domain_id=domain.pk)
        clash = min(
            (seen[a] for a in taken.values_list(field, flat=True).iterator() if a in seen),
            default=None,
        )
        if clash is not None:
            raise MailboxRefused(ValidationError({"local_part": message}), clash)
    Mailbox.objects.bulk_create(mailboxes, batch_size=_INSERT_BATCH)
    # The date of each password, as _record_password_change() keeps it (replacing a row left
    # by a mailbox another tool deleted).
    for start in range(0, len(names), _INSERT_BATCH):
        PasswordChange.objects.filter(username__in=names[start : start + _INSERT_BATCH]).delete()
    PasswordChange.objects.bulk_create(
        [
            PasswordChange(
                username=m.username, changed=now, hash_digest=password_digest(m.password)
            )
            for m in mailboxes
        ],
        batch_size=_INSERT_BATCH,
    )
    # The own alias rows keep catch-alls and alias domains from swallowing these mailboxes' mail.
    Alias.objects.bulk_create(
        [
            Alias(
                address=m.username,
                goto=m.username,
                domain=domain,
                created=now,
                modified=now,
                active=m.active,
            )
            for m in mailboxes
        ],
        batch_size=_INSERT_BATCH,
    )
    counters.add(
        counts,
        mailboxes=len(mailboxes),
        alias_rows=len(mailboxes),
        quota=sum(counters.positive(m.quota) for m in mailboxes),
    )
    log_actions(actor=actor, domain=domain.domain, action="create_mailbox", data=names)
    if send_welcome:
        from mailboxes.emails import send_welcome_email

        for mailbox in mailboxes:
            send_welcome_email(mailbox)
    return mailboxes


@transaction.atomic
def mailbox_update(
    *,
    actor: Admin | None,
    mailbox: Mailbox,
    name: str,
    quota_bytes: int,
    email_other: str = "",
    smtp_active: bool | None = None,
    override_limits: bool = False,
) -> Mailbox:
    """Change a mailbox's name, quota, alternative address and SMTP switch."""
    require_domain_scope(actor, mailbox.domain)
    name = one_line_text(name, field="name")
    domain = lock_domain(mailbox.domain)
    counts = counters.lock(domain)
    before = _mailbox_fields(mailbox)
    if smtp_active is not None:
        before["smtp_active"] = mailbox_smtp_active(mailbox)
    if quota_bytes != mailbox.quota:
        check_mailbox_quota(
            domain=domain,
            quota_bytes=quota_bytes,
            allocated=counts.quota_allocated - counters.positive(mailbox.quota),
            override=_may_override(actor, override_limits),
        )
        counters.add(
            counts,
            quota=counters.positive(quota_bytes) - counters.positive(mailbox.quota),
        )
    previous_other = mailbox.email_other
    mailbox.name = name
    mailbox.quota = quota_bytes
    mailbox.email_other = normalize_address(email_other) if email_other else ""
    mailbox.modified = timezone.now()
    mailbox.save(update_fields=["name", "quota", "email_other", "modified"])
    if smtp_active is not None and has_column("mailbox", "smtp_active"):
        # Optional column (Postfix Admin 4.0): not on the model, so adopted 3.3 databases work.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE mailbox SET smtp_active = %s WHERE username = %s",
                [smtp_active, mailbox.username],
            )
    after = _mailbox_fields(mailbox)
    if smtp_active is not None and before.get("smtp_active") is not None:
        after["smtp_active"] = smtp_active
    log_action(
        actor=actor,
        domain=domain.domain,
        action="edit_mailbox",
        data=describe_changes(mailbox.username, before, after),
    )
    if mailbox.email_other != previous_other:
        from mailboxes.emails import send_owner_change_email

        # Where reset links go: the owner hears of an administrator's change, as of their own.
        send_owner_change_email(mailbox, what="email_other", by_admin=True)
    return mailbox


def _mailbox_fields(mailbox: Mailbox) -> dict[str, Any]:
    """Return the fields of a mailbox an edit may change, by their Postfix Admin column names."""
    return {"name": mailbox.name, "quota": mailbox.quota, "email_other": mailbox.email_other}


def mailbox_smtp_active(mailbox: Mailbox) -> bool | None:
    """Return the mailbox's SMTP switch, or None when the database has no such column."""
    if not has_column("mailbox", "smtp_active"):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT smtp_active FROM mailbox WHERE username = %s", [mailbox.username])
        row = cursor.fetchone()
    return bool(row[0]) if row else None


@transaction.atomic
def mailbox_set_password(
    *, actor: Admin | str | None, mailbox: Mailbox, password: str, check_policy: bool = True
) -> Mailbox:
    """Set a mailbox password in the configured scheme; the expiry moves on as Postfix Admin's."""
    if isinstance(actor, str):
        # A mailbox owner changing their own password.
        if actor != mailbox.username:
            raise ValidationError(_("You can only change your own password."))
    else:
        require_domain_scope(actor, mailbox.domain)
    if check_policy:
        _check_password(password, username=mailbox.username, name=mailbox.name)
    mailbox.password = passwords.hash_password(password)
    mailbox.password_expiry = password_expiry_for(mailbox.domain)
    mailbox.token = ""
    mailbox.modified = timezone.now()
    mailbox.save(update_fields=["password", "password_expiry", "token", "modified"])
    _record_password_change(mailbox, mailbox.modified)
    log_action(actor=actor, domain=mailbox.domain_id, action="edit_password", data=mailbox.username)
    if isinstance(actor, str):
        from mailboxes.emails import send_password_changed_email

        # The owner changed it (directly or through a reset link): tell the mailbox once the
        # change is committed, so a session taken over by someone else is noticed.
        send_password_changed_email(mailbox)
    return mailbox


@transaction.atomic
def mailbox_reset_password(*, mailbox: Mailbox, token: str, password: str) -> Mailbox:
    """Set a forgotten password through a reset link; the link works once and only in time."""
    from mailboxes.tokens import mailbox_reset_token

    # The row lock makes a second use of the same link wait, then fail on the changed hash.
    locked = Mailbox.objects.select_for_update().filter(pk=mailbox.pk, active=True).first()
    if (
        locked is None
        or not Domain.objects.filter(pk=locked.domain_id, active=True).exists()
        or not mailbox_reset_token.check_token(locked, token)
    ):
        raise ValidationError(_("This password reset link is invalid or has expired."))
    return mailbox_set_password(actor=locked.username, mailbox=locked, password=password)


def mailbox_rehash_password(*, mailbox: Mailbox, raw_password: str) -> None:
    """Store a verified password again in the configured scheme (silent upgrade at login)."""
    new_hash = passwords.hash_password(raw_password)
    if Mailbox.objects.filter(pk=mailbox.pk, password=mailbox.password).update(password=new_hash):
        # The same password in another format: its date of change stays known.
        PasswordChange.objects.filter(
            username=mailbox.username, hash_digest=password_digest(mailbox.password)
        ).update(hash_digest=password_digest(new_hash))
    mailbox.password = new_hash


@transaction.atomic
def mailbox_set_active(*, actor: Admin | None, mailbox: Mailbox, active: bool) -> Mailbox:
    """Activate or deactivate a mailbox together with its own alias row."""
    require_domain_scope(actor, mailbox.domain)
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(active=active, modified=now)
    Alias.objects.filter(address=mailbox.username).update(active=active, modified=now)
    mailbox.active, mailbox.modified = active, now
    state = "active" if active else "inactive"
    log_action(
        actor=actor,
        domain=mailbox.domain_id,
        action="edit_mailbox_state",
        data=f"{mailbox.username}: {state}",
    )
    return mailbox


@transaction.atomic
def mailbox_purge(
    *, actor: Admin | None, mailbox: Mailbox, remove_from_aliases: bool = False
) -> int:
    """Delete a mailbox with Postfix Admin's cascade; maildirs on disk are left alone.

    With `remove_from_aliases`, the address also leaves the destinations of the aliases of its
    domain (as far as the actor sees them) in the same transaction; an alias left with no
    destination is deleted. Return how many aliases were changed or deleted.
    """
    require_domain_scope(actor, mailbox.domain)
    username = mailbox.username
    counts = counters.lock(mailbox.domain_id)
    changed = 0
    if remove_from_aliases:
        changed = _remove_from_aliases(actor=actor, mailbox=mailbox, counts=counts)
    delete_mailbox_rows(username=username)
    forget_owners(username=username)
    PasswordChange.objects.filter(username=username).delete()
    aliases, _rows = Alias.objects.filter(address=username).delete()
    mailboxes, _rows = Mailbox.objects.filter(pk=username).delete()
    language_preference_forget(realm=MAILBOX, username=username)
    if mailboxes:
        counters.add(
            counts,
            mailboxes=-mailboxes,
            alias_rows=-aliases,
            quota=-counters.positive(mailbox.quota),
        )
    log_action(actor=actor, domain=mailbox.domain_id, action="delete_mailbox", data=username)
    return changed


def _remove_from_aliases(*, actor: Admin | None, mailbox: Mailbox, counts: Any) -> int:
    # Called under the domain counters' lock; each alias row is locked before its rewrite.
    username = mailbox.username.lower()
    found = aliases_delivering_query(actor, mailbox).select_for_update()
    changed = 0
    for alias in found:
        if Mailbox.objects.filter(username=alias.address).exists():
            # Another mailbox forwards here: only its forward goes, its own copy stays.
            current = parse_goto(alias.address, alias.goto)
            forwards = [t for t in current.forwards if t.lower() != username]
            alias.goto = with_destinations(
                alias.address, alias.goto, keep_copy=current.keep_copy, forwards=forwards
            )
        else:
            rest = [t for t in split_goto(alias.goto) if t.lower() != username]
            if not rest:
                Alias.objects.filter(pk=alias.pk).delete()
                counters.add(counts, alias_rows=-1)
                log_action(
                    actor=actor, domain=alias.domain_id, action="delete_alias", data=alias.address
                )
                changed += 1
                continue
            alias.goto = ",".join(rest)
        alias.modified = timezone.now()
        alias.save(update_fields=["goto", "modified"])
        log_action(
            actor=actor,
            domain=alias.domain_id,
            action="edit_alias",
            data=f"{alias.address} -> {alias.goto}",
        )
        changed += 1
    return changed


def mailbox_forwarding(mailbox: Mailbox) -> tuple[list[str], bool]:
    """Return the forwarding targets on the mailbox's own alias and whether a copy is kept.

    Vacation targets are not forwarding: they are neither returned nor ever dropped.
    """
    alias = Alias.objects.filter(address=mailbox.username).first()
    if alias is None:
        return [], True
    goto = parse_goto(mailbox.username, alias.goto)
    return list(goto.forwards), goto.keep_copy


def _alias_domain_names(domain: str) -> list[str]:
    return list(
        AliasDomain.objects.filter(target_domain=domain).values_list("alias_domain", flat=True)
    )


def _delivery(address: str, goto: str) -> tuple[bool, frozenset[str]]:
    # What a forwarding edit decides: the copy kept and where else mail goes (order aside).
    parsed = parse_goto(address, goto)
    return parsed.keep_copy, frozenset(t.lower() for t in parsed.forwards)


def check_mailbox_actor(actor: Admin | str | None, mailbox: Mailbox) -> None:
    """Let an owner (actor = their address) act on their own mailbox only; an admin in scope."""
    if isinstance(actor, str):
        if actor != mailbox.username:
            raise PermissionDenied(_("You can only change your own mailbox."))
    else:
        require_domain_scope(actor, mailbox.domain)


@transaction.atomic
def mailbox_set_forwarding(
    *, actor: Admin | str | None, mailbox: Mailbox, targets: list[str], keep_copy: bool
) -> Alias:
    """Forward the mailbox's mail to targets, keeping a copy in the mailbox or not.

    The mailbox's own address (also at an alias domain) is not a forwarding target: it would
    loop back here. A vacation target already in the alias row stays in it.
    """
    check_mailbox_actor(actor, mailbox)
    own = mailbox.username
    loops = {f"{mailbox.local_part}@{name}" for name in _alias_domain_names(mailbox.domain_id)}
    cleaned: list[str] = []
    errors: list[str] = []
    for target in targets:
        value = normalize_target(target)
        if value in loops or (isinstance(actor, str) and value == own):
            errors.append(
                _(
                    '%(address)s is this mailbox itself; tick "keep a copy" to keep mail '
                    "here instead."
                )
                % {"address": value}
            )
            continue
        if value != own and value not in cleaned:
            cleaned.append(value)
    if errors:
        raise ValidationError({"targets": errors})
    if not cleaned and not keep_copy:
        raise ValidationError(
            {"targets": _("Without forwarding targets the mailbox must keep its mail.")}
        )
    if cleaned and not isinstance(actor, str):
        # Stopping forwarding is always allowed; sending copies elsewhere may not be. The
        # owner reads this mailbox anyway, so forwarding it sends nothing they could not read.
        check_rerouting(actor, mailbox.username, field="targets")
    now = timezone.now()
    counts = counters.lock(mailbox.domain_id)
    current = Alias.objects.select_for_update().filter(address=own).first()
    previous = old_goto = current.goto if current else ""
    goto = with_destinations(
        own, current.goto if current else "", keep_copy=keep_copy, forwards=cleaned
    )
    if current is None:
        alias = Alias.objects.create(
            address=own,
            goto=goto,
            domain_id=mailbox.domain_id,
            created=now,
            modified=now,
            active=mailbox.active,
        )
        counters.add(counts, alias_rows=1)
    else:
        alias = current
        alias.goto = goto
        alias.modified = now
        alias.save(update_fields=["goto", "modified"])
    log_action(
        actor=actor,
        domain=mailbox.domain_id,
        action="edit_alias",
        data=describe_changes(mailbox.username, {"goto": old_goto}, {"goto": alias.goto}),
    )
    if current is None or _delivery(own, previous) != _delivery(own, alias.goto):
        from mailboxes.emails import send_owner_change_email

        # Whoever changed it, owner or admin: a hijacked session is noticed either way.
        send_owner_change_email(mailbox, what="forwarding", by_admin=not isinstance(actor, str))
    return alias
