"""Writes of second factors: secrets in Postfix Admin's columns, used periods, recovery codes.

Every change of a secret writes a `log` row (Postfix Admin keeps no action key of its own for
it, so it is `edit_admin` / `edit_mailbox` with what changed) and an auth event.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import throttle
from accounts.models import Admin, AuthEvent
from accounts.scoping import can_manage_domain, require_superadmin
from core.context import client_address, report
from mail.email import compose, send_after_commit
from mail.passwords import app_password_hash, generate_password
from mailboxes.models import Mailbox
from pfa.audit import log_action
from pfa.models import MailboxAppPassword, TotpExceptionAddress
from twofactor import selectors, totp
from twofactor.models import (
    AppPasswordInfo,
    LastCodeStep,
    RecoveryCode,
    TwoFactorDomain,
    TwoFactorPolicy,
    new_policy_version,
)
from twofactor.networks import normalize_exception_address

Realm = AuthEvent.Realm
RECOVERY_CODES = 10
# 16 Base32 characters: 80 bits, so a fast hash of them cannot be reversed by trying.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16


def _realm_of(account: Admin | Mailbox) -> str:
    return Realm.ADMIN if isinstance(account, Admin) else Realm.MAILBOX


def _store_secret(realm: str, username: str, secret: str | None) -> None:
    if not selectors.totp_available(realm):
        raise ValidationError(
            _("This database has no place for second factors (Postfix Admin 4 schema needed).")
        )
    table = connection.ops.quote_name(selectors.TABLES[realm])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET totp_secret = %s WHERE username = %s",  # noqa: S608 (fixed table)
            [secret, username],
        )


def _log(actor: object, account: Admin | Mailbox, what: str) -> None:
    if isinstance(account, Admin):
        log_action(actor=actor, domain="", action="edit_admin", data=f"{account.pk}: {what}")
    else:
        log_action(
            actor=actor,
            domain=account.domain_id,
            action="edit_mailbox",
            data=f"{account.pk}: {what}",
        )


def _event(realm: str, kind: str, username: str) -> None:
    throttle.record(realm=realm, kind=kind, username=username, client_address=client_address.get())


def _remember_step(realm: str, username: str, step: int) -> bool:
    """Record the period of an accepted code; refuse a period already used (replay)."""
    LastCodeStep.objects.bulk_create(
        [LastCodeStep(realm=realm, username=username, step=0)], ignore_conflicts=True
    )
    with transaction.atomic():
        row = LastCodeStep.objects.select_for_update().get(realm=realm, username=username)
        if step <= row.step:
            return False
        row.step = step
        row.save(update_fields=["step"])
    return True


def _hash_recovery(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return "sha256$" + hashlib.sha256(cleaned.encode()).hexdigest()


def _new_recovery_codes(realm: str, username: str) -> list[str]:
    RecoveryCode.objects.filter(realm=realm, username=username).delete()
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[k : k + 4] for k in range(0, _RECOVERY_LENGTH, 4)))
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(realm=realm, username=username, code_hash=_hash_recovery(c)) for c in codes]
    )
    return codes


def totp_code_use(*, realm: str, username: str, code: str) -> bool:
    """Accept a code of the account's secret within the skew, once; refuse it otherwise."""
    secret = selectors.totp_secret(realm, username)
    step = totp.matching_step(secret, code) if secret else None
    return step is not None and _remember_step(realm, username, step)


def recovery_code_use(*, realm: str, username: str, code: str) -> bool:
    """Spend one unused recovery code of the account; refuse a used or unknown one."""
    if not selectors.has_totp(realm, username):
        return False
    spent = RecoveryCode.objects.filter(
        realm=realm, username=username, code_hash=_hash_recovery(code), used__isnull=True
    ).update(used=timezone.now())
    return spent > 0


@transaction.atomic
def totp_enrol(*, actor: object, account: Admin | Mailbox, secret: str, code: str) -> list[str]:
    """Save a new secret once a code of it proves the app has it; return new recovery codes."""
    realm = _realm_of(account)
    if not totp.is_valid_secret(secret):
        raise ValidationError({"code": _("The secret is not valid; reload the page.")})
    step = totp.matching_step(secret, code)
    if step is None:
        raise ValidationError(
            {"code": _("The code is not correct; check the time of your device.")}
        )
    _store_secret(realm, account.pk, totp.normalize_secret(secret))
    # The code just typed cannot be used again to log in.
    LastCodeStep.objects.filter(realm=realm, username=account.pk).delete()
    LastCodeStep.objects.create(realm=realm, username=account.pk, step=step)
    codes = _new_recovery_codes(realm, account.pk)
    _log(actor, account, "second factor set up")
    _event(realm, AuthEvent.Kind.TOTP_ENROLLED, account.pk)
    return codes


@transaction.atomic
def totp_disable(*, actor: object, account: Admin | Mailbox) -> None:
    """Remove the second factor and recovery codes (the caller checked password and code)."""
    realm = _realm_of(account)
    _store_secret(realm, account.pk, None)
    RecoveryCode.objects.filter(realm=realm, username=account.pk).delete()
    _log(actor, account, "second factor removed")
    _event(realm, AuthEvent.Kind.TOTP_DISABLED, account.pk)


@transaction.atomic
def recovery_codes_renew(*, actor: object, account: Admin | Mailbox) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them (shown once)."""
    realm = _realm_of(account)
    if not selectors.has_totp(realm, account.pk):
        raise ValidationError(_("Set up a second factor first."))
    codes = _new_recovery_codes(realm, account.pk)
    _log(actor, account, "new recovery codes")
    return codes


@transaction.atomic
def totp_reset(*, actor: Admin, account: Admin | Mailbox) -> None:
    """Remove another account's second factor: super admins only; logged, the user is told."""
    require_superadmin(actor, _("Only super admins reset second factors."))
    if isinstance(account, Admin) and account.pk == actor.pk:
        raise PermissionDenied(_("Remove your own second factor on your own page."))
    realm = _realm_of(account)
    _store_secret(realm, account.pk, None)
    RecoveryCode.objects.filter(realm=realm, username=account.pk).delete()
    _log(actor, account, "second factor reset")
    _event(realm, AuthEvent.Kind.TOTP_RESET, account.pk)
    mail = compose(
        "twofactor_reset",
        subject=_("The second factor of %(address)s was removed") % {"address": account.pk},
        recipients=[account.pk],
        context={"address": account.pk, "by": actor.pk},
        about=account.pk,
    )
    send_after_commit(mail, on_failure=_report_failure)


def _report_failure(error: str) -> None:
    # The reset is committed already; a mail server problem must not undo or hide it.
    report(
        _("The change was saved, but the e-mail could not be sent: %(error)s") % {"error": error}
    )


# --------------------------------------------------------------------------------------------
# App passwords (Postfix Admin 4's mailbox_app_password)

APP_PASSWORD_LENGTH = 24


@transaction.atomic
def app_password_create(*, actor: object, mailbox: Mailbox, description: str) -> str:
    """Add a generated app password to the mailbox; return it (shown once, stored hashed)."""
    description = description.strip()
    if not description:
        raise ValidationError({"description": _("Name the app or device.")})
    if len(description) > 255:
        raise ValidationError({"description": _("Use at most 255 characters.")})
    raw = generate_password(APP_PASSWORD_LENGTH)
    row = MailboxAppPassword.objects.create(
        username=mailbox.username, description=description, password_hash=app_password_hash(raw)
    )
    # A leftover row of an id Postfix Admin deleted and the database handed out again is
    # replaced, never shown for the new app password.
    AppPasswordInfo.objects.update_or_create(
        app_password_id=row.pk,
        defaults={"username": mailbox.username, "created": timezone.now()},
    )
    log_action(
        actor=actor,
        domain=mailbox.domain_id,
        action="add_app_password",
        data=f"{mailbox.username}: {description}",
    )
    return raw


@transaction.atomic
def app_password_revoke(*, actor: object, app_password: MailboxAppPassword) -> None:
    """Delete an app password; mail clients using it are refused from the next login."""
    username = app_password.username or ""
    AppPasswordInfo.objects.filter(app_password_id=app_password.pk).delete()
    app_password.delete()
    log_action(
        actor=actor,
        domain=username.rpartition("@")[2],
        action="edit_mailbox",
        data=f"{username}: app password {app_password.description or ''} revoked",
    )


# --------------------------------------------------------------------------------------------
# Policy


@transaction.atomic
def twofactor_policy_set(
    *, actor: Admin | None, superadmins: bool, domain_admins: bool, domains: list[str]
) -> None:
    """Set who must have a second factor: super admins only; each change is logged."""
    require_superadmin(actor, _("Only super admins set the second-factor policy."))
    policy = TwoFactorPolicy.objects.select_for_update().order_by("pk").first()
    if policy is None:
        policy = TwoFactorPolicy()
    for field, value, who in (
        ("superadmins", superadmins, "super admins"),
        ("domain_admins", domain_admins, "domain admins"),
    ):
        if getattr(policy, field) != value:
            state = "must" if value else "need not"
            log_action(
                actor=actor,
                domain="",
                action="edit_admin",
                data=f"second-factor policy: {who} {state} use a second factor",
            )
        setattr(policy, field, value)
    policy.modified = timezone.now()
    # Open sessions compare this with the version their logins were checked against.
    policy.version = new_policy_version()
    policy.save()
    # Now for this connection's own reads, and again once committed for every other reader
    # (one that re-read the old version in between must not keep it).
    selectors.forget_policy_version()
    transaction.on_commit(selectors.forget_policy_version)
    wanted = set(domains)
    current = set(TwoFactorDomain.objects.values_list("domain", flat=True))
    for name in sorted(wanted - current):
        TwoFactorDomain.objects.create(domain=name)
        log_action(
            actor=actor,
            domain=name,
            action="edit_domain",
            data=f"{name}: mailbox owners must use a second factor",
        )
    for name in sorted(current - wanted):
        TwoFactorDomain.objects.filter(domain=name).delete()
        log_action(
            actor=actor,
            domain=name,
            action="edit_domain",
            data=f"{name}: mailbox owners need not use a second factor",
        )


# --------------------------------------------------------------------------------------------
# TOTP exception addresses (Postfix Admin 4's totp_exception_address)


def _exception_domain(username: str | None) -> str:
    return "" if username is None else username.rpartition("@")[2]


def _check_exception_scope(actor: object, username: str | None) -> None:
    """Owners: their own address only; domain admins: their domains; super admins: also everyone."""
    if isinstance(actor, Admin):
        if username is None:
            require_superadmin(actor, _("Only super admins add exceptions for everyone."))
        elif not can_manage_domain(actor, _exception_domain(username)):
            raise PermissionDenied(_("That address or domain is not one you manage."))
    elif actor is not None and username != actor:
        raise PermissionDenied(_("You can add exceptions for your own mailbox only."))


@transaction.atomic
def totp_exception_add(
    *, actor: object, ip: str, username: str | None, description: str
) -> TotpExceptionAddress:
    """Let the main password of a mailbox with a second factor in from one address or network.

    `ip` is an IP address or a CIDR network, IPv4 or IPv6 (stored normalised); `username` is a
    mailbox address, a domain name (its whole domain) or None (everyone), as Postfix Admin 4
    stores it; a row for the same address and target replaces the old one.
    """
    _check_exception_scope(actor, username)
    try:
        ip = normalize_exception_address(ip)
    except ValidationError as exc:
        raise ValidationError({"ip": exc.messages}) from exc
    description = description.strip()
    if not description:
        raise ValidationError({"description": _("Say what the address is (e.g. office).")})
    TotpExceptionAddress.objects.filter(ip=ip, username=username).delete()
    if username is None:
        TotpExceptionAddress.objects.filter(ip=ip, username__isnull=True).delete()
    row = TotpExceptionAddress.objects.create(
        ip=ip, username=username, description=description[:255]
    )
    log_action(
        actor=actor,
        domain=_exception_domain(username),
        action="add_totp_exception",
        data=f"{username or '*'}: {ip}",
    )
    return row


@transaction.atomic
def totp_exception_delete(*, actor: object, exception: TotpExceptionAddress) -> None:
    """Remove an exception address, within the same limits as adding one."""
    _check_exception_scope(actor, exception.username)
    exception.delete()
    log_action(
        actor=actor,
        domain=_exception_domain(exception.username),
        action="delete_totp_exception",
        data=f"{exception.username or '*'}: {exception.ip}",
    )


def forget_owners(*, username: str | None = None, domain: str | None = None) -> None:
    """Drop the project's second-factor rows of a purged mailbox, or of a purged domain's mailboxes.

    Runs inside the purge's transaction, after Postfix Admin's own rows went (pfa.cascade): the
    recovery codes, the last accepted code step and the app-password dates, and for a domain its
    place in the two-factor policy, so nothing carries over to a mailbox created again later.
    """
    if (username is None) == (domain is None):
        raise ValueError("give exactly one of username and domain")
    owner = AuthEvent.Realm.MAILBOX
    if username is not None:
        RecoveryCode.objects.filter(realm=owner, username=username).delete()
        LastCodeStep.objects.filter(realm=owner, username=username).delete()
        AppPasswordInfo.objects.filter(username=username).delete()
        return
    suffix = f"@{domain}"
    RecoveryCode.objects.filter(realm=owner, username__endswith=suffix).delete()
    LastCodeStep.objects.filter(realm=owner, username__endswith=suffix).delete()
    AppPasswordInfo.objects.filter(username__endswith=suffix).delete()
    TwoFactorDomain.objects.filter(domain=domain).delete()
