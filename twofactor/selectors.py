"""Reads of second factors: the secret in Postfix Admin's column, recovery codes, the policy."""

from __future__ import annotations

from django.db import connection

from accounts.models import Admin, AuthEvent
from accounts.scoping import is_superadmin
from mailboxes.models import Mailbox
from pfa.schema import has_column
from twofactor.models import RecoveryCode, TwoFactorDomain, TwoFactorPolicy

Realm = AuthEvent.Realm
# The Postfix Admin table whose `totp_secret` column holds each realm's secrets.
TABLES: dict[str, str] = {Realm.ADMIN: "admin", Realm.MAILBOX: "mailbox"}


def totp_available(realm: str) -> bool:
    """Tell whether the database can hold second factors of the realm (Postfix Admin 4 schema)."""
    return has_column(TABLES[realm], "totp_secret")


def totp_secret(realm: str, username: str) -> str:
    """Return the account's stored TOTP secret; "" for none (NULL, empty, or no such column)."""
    if not totp_available(realm):
        return ""
    table = connection.ops.quote_name(TABLES[realm])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT totp_secret FROM {table} WHERE username = %s",  # noqa: S608 (fixed table)
            [username],
        )
        row = cursor.fetchone()
    return (row[0] or "").strip() if row else ""


def has_totp(realm: str, username: str) -> bool:
    """Tell whether the account has a second factor, set here or by Postfix Admin."""
    return bool(totp_secret(realm, username))


def recovery_codes_left(realm: str, username: str) -> int:
    """Return how many unused recovery codes the account has."""
    return RecoveryCode.objects.filter(realm=realm, username=username, used__isnull=True).count()


def twofactor_policy() -> TwoFactorPolicy:
    """Return the policy (a default one, unsaved, until a super admin saves it)."""
    return TwoFactorPolicy.objects.order_by("pk").first() or TwoFactorPolicy()


def policy_domains() -> list[str]:
    """Return the domains whose mailbox owners must have a second factor."""
    return list(TwoFactorDomain.objects.order_by("domain").values_list("domain", flat=True))


def policy_requires(realm: str, account: Admin | Mailbox) -> bool:
    """Tell whether the policy obliges the account to have a second factor."""
    if not totp_available(realm):
        return False
    if isinstance(account, Admin):
        policy = twofactor_policy()
        return policy.superadmins if is_superadmin(account) else policy.domain_admins
    return TwoFactorDomain.objects.filter(domain=account.domain_id).exists()
