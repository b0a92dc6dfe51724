"""Brute-force protection for every login and reset form, per account and per client address.

Failures are rows in the project's auth-event table, so the limit holds across processes and
restarts. Each failure also writes one line in a fixed format for fail2ban:

    vimbadmin auth failure: realm=<admin|mailbox> user=<login> client=<address>
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from accounts.models import AuthEvent

logger = logging.getLogger("vimbadmin.auth")

FAILURE_KINDS = (AuthEvent.Kind.LOGIN_FAILED,)


def _window_start() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS)


def is_locked(*, realm: str, username: str, client_address: str, kind: str = "login") -> bool:
    """Tell whether further tries are refused for this account or this client address."""
    since = _window_start()
    events = AuthEvent.objects.filter(realm=realm, timestamp__gte=since)
    failure_kind = (
        AuthEvent.Kind.LOGIN_FAILED if kind == "login" else AuthEvent.Kind.RESET_REQUESTED
    )
    user = username.strip().lower()
    if user:
        # Failures before the account's last successful login no longer count against it.
        last_ok = events.filter(username=user, kind=AuthEvent.Kind.LOGIN).aggregate(
            at=Max("timestamp")
        )["at"]
        by_user = events.filter(username=user, kind=failure_kind)
        if last_ok and kind == "login":
            by_user = by_user.filter(timestamp__gt=last_ok)
        if by_user.count() >= settings.VIMBADMIN_LOGIN_FAILURE_LIMIT:
            return True
    by_address = events.filter(client_address=client_address, kind=failure_kind).count()
    return by_address >= settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS


def record(*, realm: str, kind: str, username: str, client_address: str) -> None:
    """Record an auth event; failures also go to the fail2ban log line."""
    user = username.strip().lower()[:255]
    AuthEvent.objects.create(
        realm=realm, kind=kind, username=user, client_address=client_address[:45]
    )
    # Control characters are dropped so a crafted login cannot forge a second log line.
    shown = "".join(ch for ch in user if ch.isprintable()).replace(" ", "_") or "-"
    if kind == AuthEvent.Kind.LOGIN_FAILED:
        logger.warning(
            "vimbadmin auth failure: realm=%s user=%s client=%s", realm, shown, client_address
        )
    elif kind == AuthEvent.Kind.LOCKED_OUT:
        logger.warning(
            "vimbadmin auth locked: realm=%s user=%s client=%s", realm, shown, client_address
        )
    else:
        logger.info(
            "vimbadmin auth %s: realm=%s user=%s client=%s", kind, realm, shown, client_address
        )
