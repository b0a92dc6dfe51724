"""Reads of second factors: the secret in Postfix Admin's column, recovery codes, the policy."""

from __future__ import annotations

import functools

from django.core.cache import cache
from django.db import connection, connections
from django.db.models import Q

from accounts.models import Admin, AuthEvent
from accounts.scoping import is_superadmin, scoped
from domains.models import Domain
from mailboxes.models import Mailbox
from pfa.models import MailboxAppPassword, TotpExceptionAddress
from pfa.schema import has_column
from twofactor.models import AppPasswordInfo, RecoveryCode, TwoFactorDomain, TwoFactorPolicy

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


# Django's cache holds the policy's version for this long: every process sees a change within
# it (at once in the process that made it, and everywhere with a shared cache backend).
POLICY_VERSION_KEY = "vimbadmin:twofactor:policy-version"
POLICY_VERSION_SECONDS = 10


def policy_version() -> str:
    """Return the version of the policy ("" before one is saved), read through the cache."""
    version = cache.get(POLICY_VERSION_KEY)
    if not isinstance(version, str):
        version = (
            TwoFactorPolicy.objects.order_by("pk").values_list("version", flat=True).first() or ""
        )
        cache.set(POLICY_VERSION_KEY, version, POLICY_VERSION_SECONDS)
    return version


def forget_policy_version() -> None:
    """Drop the cached policy version (after a change is committed)."""
    cache.delete(POLICY_VERSION_KEY)


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


def app_passwords_of(mailbox: Mailbox) -> list[MailboxAppPassword]:
    """Return a mailbox's app passwords, each with `created` (None where Postfix Admin made it).

    The caller reached the mailbox through scope.
    """
    rows = list(MailboxAppPassword.objects.filter(username=mailbox.username).order_by("id"))
    # Matched by id, then by username here rather than in SQL: on MySQL/MariaDB the two tables'
    # username columns may have different collations (Postfix Admin re-creates its table), which
    # a comparison in SQL refuses. A row without a project row (Postfix Admin's) shows no date,
    # and a project row of another mailbox (an id deleted elsewhere, then reused) is not used.
    info = {
        row.app_password_id: row
        for row in AppPasswordInfo.objects.filter(app_password_id__in=[r.pk for r in rows])
    }
    for row in rows:
        found = info.get(row.pk)
        row.created = found.created if found and found.username == row.username else None  # type: ignore[attr-defined]
    return rows


def app_password_of_owner(mailbox: Mailbox, pk: int) -> MailboxAppPassword | None:
    """Return one of the mailbox's own app passwords, or None (missing or another mailbox's)."""
    return MailboxAppPassword.objects.filter(pk=pk, username=mailbox.username).first()


def app_password_in_scope(user: object, pk: int) -> MailboxAppPassword | None:
    """Return an app password of a mailbox the admin may see, or None (missing or out of scope)."""
    mailboxes = scoped(user, Mailbox).values("username")
    return MailboxAppPassword.objects.filter(pk=pk, username__in=mailboxes).first()


@functools.cache
def _tables(alias: str) -> frozenset[str]:
    with connections[alias].cursor() as cursor:
        return frozenset(connections[alias].introspection.table_names(cursor))


def app_passwords_available(using: str = "default") -> bool:
    """Tell whether the database has Postfix Admin 4's app-password table (cached per process)."""
    return "mailbox_app_password" in _tables(using)


def scoped_domain_names_of(user: object, names: list[str]) -> list[str]:
    """Return those of the names that are domains the user may see."""
    return list(scoped(user, Domain).filter(domain__in=names).values_list("domain", flat=True))


def totp_exceptions_for_admin(user: object) -> list[TotpExceptionAddress]:
    """Return the exceptions an admin sees: for domains and mailboxes in scope, and global ones."""
    rows = TotpExceptionAddress.objects.order_by("username", "ip")
    if is_superadmin(user):
        return list(rows)
    # A handful of rows (Postfix Admin's own page lists them all): the domain part of each is
    # checked against the scope in one query.
    candidates = list(rows.filter(username__isnull=False))
    parts = {(row.username or "").rpartition("@")[2] for row in candidates}
    mine = set(scoped(user, Domain).filter(domain__in=parts).values_list("domain", flat=True))
    return [row for row in candidates if (row.username or "").rpartition("@")[2] in mine] + list(
        rows.filter(username__isnull=True)
    )


def totp_exception_of_owner(mailbox: Mailbox, pk: int) -> TotpExceptionAddress | None:
    """Return an exception the owner set for their own mailbox, or None (missing or not theirs)."""
    return TotpExceptionAddress.objects.filter(pk=pk, username=mailbox.username).first()


def totp_exceptions_for_owner(mailbox: Mailbox) -> list[TotpExceptionAddress]:
    """Return the exceptions that apply to a mailbox: its own, its domain's and global ones."""
    return list(
        TotpExceptionAddress.objects.filter(
            Q(username=mailbox.username) | Q(username=mailbox.domain_id) | Q(username__isnull=True)
        ).order_by("username", "ip")
    )
