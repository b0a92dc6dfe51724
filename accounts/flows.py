"""One login flow for admins and mailbox owners: throttle, verify, re-hash, record.

Both login pages and both own-password pages call it, so every realm gives the same answers,
counts the same failures and writes the same fail2ban line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import login as django_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import throttle
from accounts.models import Admin, AuthEvent
from accounts.owner_session import owner_login
from accounts.selectors import admin_for_login
from accounts.services import admin_rehash_password
from core.context import request_client_address
from mail import passwords
from mail.names import normalize_address
from mailboxes.models import Mailbox
from mailboxes.selectors import mailbox_for_login
from mailboxes.services import mailbox_rehash_password
from twofactor import flows as second_factor
from twofactor.selectors import policy_version


@dataclass(frozen=True)
class Realm:
    """How the accounts of one realm are found, allowed in, re-hashed and given a session."""

    name: str
    find: Callable[[str], Any]
    may_log_in: Callable[[Any], bool]
    rehash: Callable[[Any, str], None]
    start_session: Callable[[HttpRequest, Any], None]


def _admin_session(request: HttpRequest, admin: Admin) -> None:
    django_login(request, admin, backend="accounts.backends.AdminBackend")


ADMIN = Realm(
    name=AuthEvent.Realm.ADMIN,
    find=admin_for_login,
    may_log_in=lambda admin: admin.active,
    rehash=lambda admin, raw: admin_rehash_password(admin=admin, raw_password=raw),
    start_session=_admin_session,
)
MAILBOX = Realm(
    name=AuthEvent.Realm.MAILBOX,
    find=mailbox_for_login,
    may_log_in=lambda mailbox: mailbox.active and mailbox.domain.active,
    rehash=lambda mailbox, raw: mailbox_rehash_password(mailbox=mailbox, raw_password=raw),
    start_session=owner_login,
)


@dataclass(frozen=True)
class Outcome:
    """The account that proved its password, or the one error text to show."""

    account: Admin | Mailbox | None = None
    error: str = ""
    # What the login still needs before any page opens (twofactor.flows.CODE or ENROL), or "".
    second_step: str = ""


def login_error() -> str:
    """Return the one answer for an unknown address, a wrong password and a disabled account."""
    return _("The e-mail address or the password is not correct.")


def wrong_current_password() -> str:
    """Return the answer for a wrong current password on an own-password page."""
    return _("Your current password is wrong.")


def locked_message(seconds: int) -> str:
    """Return the message shown while tries are held back, with the wait in whole minutes."""
    minutes = throttle.locked_minutes(seconds)
    return ngettext(
        "Too many failed attempts; try again in %(minutes)d minute.",
        "Too many failed attempts; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def login_key(typed: str) -> str:
    """Return the address a login is looked up and counted under; it is never refused as such."""
    try:
        return normalize_address(typed)
    except ValidationError:
        # Not even an address: just an account that does not exist.
        return throttle.user_key(typed)


def log_in(request: HttpRequest, realm: Realm, *, address: str, password: str) -> Outcome:
    """Log a user of the realm in, unless held back or the password is wrong."""
    key = login_key(address)
    # Read before the policy is checked: a change in between is checked again on the next request.
    version = policy_version()
    account = realm.find(key) if key else None
    # A collation may match another spelling (MariaDB: "ádm" is "adm"); only the same one counts.
    if account is not None and account.pk.lower() != key:
        account = None
    outcome = _check(request, realm, key, account, password, allowed=realm.may_log_in)
    if outcome.second_step and outcome.account is not None:
        # No session yet: the account is only held until its code (or enrolment) finishes it.
        second_factor.hold(request, realm.name, outcome.account, outcome.second_step)
    elif outcome.account is not None:
        realm.start_session(request, outcome.account)
        second_factor.policy_checked(request, realm.name, version)
    return outcome


REALMS = {ADMIN.name: ADMIN, MAILBOX.name: MAILBOX}


def second_step_url(request: HttpRequest, step: str) -> str:
    """Return the page that finishes a held login, carrying the page asked for."""
    url = reverse("twofactor:code" if step == second_factor.CODE else "twofactor:enrol")
    target = request.POST.get("next") or request.GET.get("next") or ""
    return f"{url}?{urlencode({'next': target})}" if target else url


def finish_login(request: HttpRequest, realm_name: str, account: Admin | Mailbox) -> None:
    """Start the session of a held login whose second factor has just been proved."""
    second_factor.release(request)
    REALMS[realm_name].start_session(request, account)
    # The account has a second factor now, which meets any policy.
    second_factor.policy_checked(request, realm_name)


def check_current_password(
    request: HttpRequest, realm: Realm, *, account: Admin | Mailbox, password: str
) -> str:
    """Check a logged-in user's current password like a login; return the error text or ""."""
    return _check(request, realm, account.pk, account, password, login=False).error


def _check(
    request: HttpRequest,
    realm: Realm,
    key: str,
    account: Any,
    password: str,
    *,
    allowed: Callable[[Any], bool] = lambda account: True,
    login: bool = True,
) -> Outcome:
    attempt = throttle.begin(
        realm=realm.name,
        username=account.pk if account is not None else key,
        client_address=request_client_address(request),
    )
    if not attempt.allowed:
        # Not even checked while held back, so further guesses learn nothing.
        return Outcome(error=locked_message(attempt.retry_after))
    too_long = len(password) > passwords.MAX_PASSWORD_LENGTH
    if account is None:
        if not too_long:
            # Spend the time a real check would take so that timing does not reveal accounts.
            passwords.hash_password(password)
        accepted = False
    else:
        # The password is checked first so that a disabled account answers no faster.
        accepted = (
            not too_long and passwords.verify_password(password, account.password)
        ) and allowed(account)
    if not accepted:
        throttle.fail(attempt)
        return Outcome(error=login_error() if login else wrong_current_password())
    # Only at login: a re-hash changes the session fingerprint, which an open session would lose.
    if login and passwords.needs_rehash(account.password):
        realm.rehash(account, password)
    step = second_factor.second_step(realm.name, account) if login else ""
    if step:
        # The login is recorded, and the address becomes a known one, only after the code.
        throttle.give_back(attempt)
    else:
        throttle.succeed(attempt, login=login)
    return Outcome(account=account, second_step=step)
