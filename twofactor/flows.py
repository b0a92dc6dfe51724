"""The second step of a login: an account whose password was right, held until its code.

A right password for an account with a second factor (set here or by Postfix Admin), or one the
policy obliges to set one up, starts no session: the session only remembers which account is
held, for a few minutes, and every page stays closed until the code page (or the forced
enrolment page) finishes the login. Code tries are counted like password tries (the same
counters, the same fail2ban line); a code is accepted once.

A policy change reaches open sessions too: the session keeps, per realm, the policy version its
login was checked against (`policy_checked`), and `enforce_policy` (run on every request by
twofactor.middleware) compares it with the current version, read through the cache. Only when
they differ is the login checked again; a user the policy now covers who has no second factor
is logged out of that realm and held at the enrolment step, as if they had just logged in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import SESSION_KEY as ADMIN_SESSION_KEY
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import owner_session, throttle
from accounts.models import Admin, AuthEvent
from core.context import request_client_address
from mailboxes.models import Mailbox
from twofactor import selectors, services

PENDING_KEY = "vimb_2fa_pending"
# {realm: policy version} of the logins in this session.
POLICY_KEY = "vimb_2fa_policy"
# How long a held login waits for its code.
HOLD_SECONDS = 5 * 60
CODE = "code"
ENROL = "enrol"
_HASH_SALT = "vimbadmin.twofactor.pending"


@dataclass(frozen=True)
class Held:
    """A login whose password was right and whose second factor is still to come."""

    realm: str
    account: Admin | Mailbox
    step: str  # CODE or ENROL


@dataclass(frozen=True)
class CodeCheck:
    """The answer to a typed code: accepted, wrong, or not even checked for `retry_after` s."""

    accepted: bool
    retry_after: int = 0


def second_step(realm: str, account: Admin | Mailbox) -> str:
    """Return what a right password still needs: a code, an enrolment, or "" for nothing."""
    if selectors.has_totp(realm, account.pk):
        return CODE
    if selectors.policy_requires(realm, account):
        return ENROL
    return ""


def _fingerprint(account: Admin | Mailbox) -> str:
    # A password change while the login is held ends the hold.
    return salted_hmac(_HASH_SALT, account.password, algorithm="sha256").hexdigest()


def hold(request: HttpRequest, realm: str, account: Admin | Mailbox, step: str) -> None:
    """Remember the account whose password was right, under a fresh session key."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "realm": realm,
        "username": account.pk,
        "hash": _fingerprint(account),
        "step": step,
        "since": int(time.time()),
    }


def held(request: HttpRequest) -> Held | None:
    """Return the login held in this session while it is recent and its account still holds."""
    data: Any = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    realm, username = data.get("realm"), data.get("username")
    since = data.get("since")
    if not isinstance(since, int) or time.time() - since > HOLD_SECONDS:
        release(request)
        return None
    account: Admin | Mailbox | None
    if realm == AuthEvent.Realm.ADMIN:
        account = Admin.objects.filter(username=username, active=True).first()
    elif realm == AuthEvent.Realm.MAILBOX:
        account = (
            Mailbox.objects.select_related("domain")
            .filter(username=username, active=True, domain__active=True)
            .first()
        )
    else:
        account = None
    if account is None or not constant_time_compare(
        str(data.get("hash", "")), _fingerprint(account)
    ):
        release(request)
        return None
    return Held(realm=str(realm), account=account, step=str(data.get("step", CODE)))


def release(request: HttpRequest) -> None:
    """Forget the held login (finished, abandoned or expired)."""
    request.session.pop(PENDING_KEY, None)


def check_code(request: HttpRequest, realm: str, account: Admin | Mailbox, code: str) -> CodeCheck:
    """Check a TOTP code or a recovery code of the account, throttled and never twice."""
    attempt = throttle.begin(
        realm=realm, username=account.pk, client_address=request_client_address(request)
    )
    if not attempt.allowed:
        return CodeCheck(accepted=False, retry_after=attempt.retry_after)
    typed = "".join(code.split())
    if typed.isdigit():
        accepted = services.totp_code_use(realm=realm, username=account.pk, code=typed)
        kind = ""
    else:
        accepted = services.recovery_code_use(realm=realm, username=account.pk, code=typed)
        kind = AuthEvent.Kind.RECOVERY_USED
    if not accepted:
        throttle.fail(attempt, kind=AuthEvent.Kind.CODE_FAILED)
        return CodeCheck(accepted=False)
    throttle.succeed(attempt)
    if kind:
        throttle.record(
            realm=realm, kind=kind, username=account.pk, client_address=attempt.client_address
        )
    return CodeCheck(accepted=True)


# --------------------------------------------------------------------------------------------
# Policy changes and open sessions


def policy_checked(request: HttpRequest, realm: str, version: str | None = None) -> None:
    """Record that the realm's login in this session meets the policy of `version` (or now)."""
    stamps = request.session.get(POLICY_KEY)
    stamps = dict(stamps) if isinstance(stamps, dict) else {}
    stamps[realm] = selectors.policy_version() if version is None else version
    request.session[POLICY_KEY] = stamps


def policy_recheck(request: HttpRequest, realm: str) -> None:
    """Have the realm's login checked against the policy again on the next request."""
    stamps = request.session.get(POLICY_KEY)
    if isinstance(stamps, dict) and realm in stamps:
        request.session[POLICY_KEY] = {k: v for k, v in stamps.items() if k != realm}


@receiver(user_logged_in, dispatch_uid="vimbadmin.twofactor.policy_checked")
def _admin_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Every admin login flow decides the second step before it starts the session
    # (accounts.flows), which records the version it checked; this covers any other caller of
    # Django's login().
    if request is not None and hasattr(request, "session"):
        policy_checked(request, AuthEvent.Realm.ADMIN)


_SESSION_KEYS = {
    AuthEvent.Realm.ADMIN: ADMIN_SESSION_KEY,
    AuthEvent.Realm.MAILBOX: owner_session.SESSION_KEY,
}


def _logged_in(request: HttpRequest, realm: str) -> Admin | Mailbox | None:
    """Return the account logged in to the realm in this session (it still holds), or None."""
    if realm == AuthEvent.Realm.ADMIN:
        user = getattr(request, "user", None)
        return user if isinstance(user, Admin) and user.is_authenticated else None
    return owner_session.owner_mailbox(request)


def enforce_policy(request: HttpRequest) -> Held | None:
    """Hold a logged-in user whom a changed policy now obliges to enrol; None when nobody is.

    Costs nothing beyond a cache read while the session's logins were checked against the
    current version.
    """
    session = request.session
    if not any(key in session for key in _SESSION_KEYS.values()):
        return None
    version = selectors.policy_version()
    stamps = session.get(POLICY_KEY)
    stamps = stamps if isinstance(stamps, dict) else {}
    for realm, key in _SESSION_KEYS.items():
        if key not in session or stamps.get(realm) == version:
            continue
        account = _logged_in(request, realm)
        if account is None:
            continue
        if second_step(realm, account) == ENROL:
            if realm == AuthEvent.Realm.ADMIN:
                logout(request)
            else:
                owner_session.owner_logout(request)
            hold(request, realm, account, ENROL)
            return Held(realm=realm, account=account, step=ENROL)
        policy_checked(request, realm, version)
    return None
