"""Brute-force protection for every login, current-password and reset form.

Three counters decide, each a locked row in `vimbadmin_auth_throttle`, so that the check and
the count are one step and hold across processes and restarts:

- a client address: after VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures, whatever the
  accounts, that address is refused for VIMBADMIN_LOGIN_LOCKOUT_SECONDS;
- an account from one client address: after VIMBADMIN_LOGIN_FAILURE_LIMIT failures that pair is
  refused for VIMBADMIN_LOGIN_LOCKOUT_SECONDS; a successful login clears it;
- an account from every address without a successful login for it in the last
  VIMBADMIN_LOGIN_KNOWN_ADDRESS_DAYS: after VIMBADMIN_LOGIN_FAILURE_LIMIT failures each further
  try waits VIMBADMIN_LOGIN_SLOWDOWN_SECONDS after the last one, doubling up to the lockout; a
  day without such failures ends it. Known addresses never wait for it, so nobody elsewhere
  can lock the real user out.

Reset requests are counted the same way, separately, and every request counts. A try is
counted before the password is checked and given back when it was right, so concurrent tries
never get more checks than the limit. Events are kept in `vimbadmin_auth_event`, one counted
row per kind, account, address and hour; each failure also writes one line for fail2ban:

    vimbadmin auth failure: realm=<admin|mailbox> user=<login> client=<address>
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import AuthEvent, ThrottleCounter

logger = logging.getLogger("vimbadmin.auth")
T = TypeVar("T")

Action = ThrottleCounter.Action
Scope = ThrottleCounter.Scope
# Failures from unknown addresses are forgotten after this long without another one.
SLOWDOWN_MEMORY = datetime.timedelta(days=1)
# look(): how often a success refreshes its address's "known" mark (last_success).
KNOWN_REFRESH = datetime.timedelta(hours=1)
# Doublings of the slowdown beyond which the delay is the lockout anyway (keeps 2**n small).
_MAX_DOUBLINGS = 32
# How often a transaction the database picked as a deadlock victim is run (MariaDB 1213,
# PostgreSQL 40P01); the lock order makes that rare, not impossible.
_DEADLOCK_TRIES = 5


@dataclass(frozen=True)
class Attempt:
    """One counted try: allowed, or refused for `retry_after` more seconds."""

    realm: str
    action: str
    username: str
    client_address: str
    allowed: bool
    retry_after: int = 0
    # Whether the try was counted against the account as coming from an unknown address.
    counted_for_account: bool = False
    # look(): whether a success has anything to write (see succeed_looked()).
    success_to_write: bool = False


def user_key(username: str) -> str:
    """Return the form of a login under which its failures are counted."""
    return username.strip().lower()[:255]


def begin(*, realm: str, username: str, client_address: str, action: str = Action.LOGIN) -> Attempt:
    """Refuse a try while its address, account and address, or account is held back; else count it.

    The try counts as a failure at once; `succeed()` gives it back.
    """
    user, client = user_key(username), client_address[:45]
    attempt = _retrying(_begin, realm, action, user, client)
    if not attempt.allowed:
        # An address refused as such is kept as one row (no username), whatever logins it types.
        _remember(realm, AuthEvent.Kind.LOCKED_OUT, attempt.username, client, shown_user=user)
    return attempt


def fail(attempt: Attempt, *, kind: str = AuthEvent.Kind.LOGIN_FAILED) -> None:
    """Record a wrong password or code (the try stays counted), with its fail2ban line."""
    _remember(attempt.realm, kind, attempt.username, attempt.client_address)


def give_back(attempt: Attempt) -> None:
    """Uncount a try whose password was right while its second factor is still to come.

    Unlike succeed() the address does not become a known one and no login is recorded: that
    waits for the code, whose tries are counted like passwords.
    """
    now = timezone.now()
    counters = ThrottleCounter.objects.filter(
        realm=attempt.realm, action=attempt.action, failures__gt=0
    )
    counters.filter(scope=Scope.ADDRESS, username="", client_address=attempt.client_address).update(
        failures=F("failures") - 1, updated=now
    )
    counters.filter(
        scope=Scope.PAIR, username=attempt.username, client_address=attempt.client_address
    ).update(failures=F("failures") - 1, updated=now)
    if attempt.counted_for_account:
        counters.filter(scope=Scope.ACCOUNT, username=attempt.username, client_address="").update(
            failures=F("failures") - 1, updated=now
        )


def succeed(attempt: Attempt, *, login: bool = True) -> None:
    """Give back a counted try whose password was right; its address becomes a known one."""
    now = timezone.now()
    counters = ThrottleCounter.objects.filter(realm=attempt.realm, action=attempt.action)
    # One statement each, so no two row locks are ever held here at once.
    counters.filter(
        scope=Scope.ADDRESS, username="", client_address=attempt.client_address, failures__gt=0
    ).update(failures=F("failures") - 1, updated=now)
    counters.filter(
        scope=Scope.PAIR, username=attempt.username, client_address=attempt.client_address
    ).update(failures=0, last_success=now, updated=now)
    if attempt.counted_for_account:
        counters.filter(
            scope=Scope.ACCOUNT, username=attempt.username, client_address="", failures__gt=0
        ).update(failures=F("failures") - 1, updated=now)
    if login:
        _remember(attempt.realm, AuthEvent.Kind.LOGIN, attempt.username, attempt.client_address)


def look(*, realm: str, username: str, client_address: str) -> Attempt:
    """Tell whether a login try would be held back, counting nothing: one read, no write.

    Only for secrets nobody can guess in any number of tries (API keys, 256 random bits):
    their check needs no count before it, so a right key costs this read alone. A wrong one
    is counted afterwards by fail_looked(), so an address or account is held back after the
    same failures as with begin(); a burst of concurrent wrong keys may get a few more checks
    than the limit, none of which can find such a key. Passwords and codes go through begin().
    """
    now = timezone.now()
    user, client = user_key(username), client_address[:45]
    rows = _read_counters(_counter_keys(realm, Action.LOGIN, user, client))
    pair = rows.get(Scope.PAIR)
    known = _known_address(realm, user, client, now, pair, action=Action.LOGIN)
    held = _holding_back(rows, known, now)
    if held is not None:
        wait, scope = held
        shown = "" if scope == Scope.ADDRESS else user
        _remember(realm, AuthEvent.Kind.LOCKED_OUT, shown, client, shown_user=user)
        return Attempt(
            realm=realm,
            action=Action.LOGIN,
            username=shown,
            client_address=client,
            allowed=False,
            retry_after=math.ceil(wait),
        )
    # A success is written only when it changes something: failures to clear, or an address
    # not marked known for a while (known addresses escape the account-wide slowdown).
    stale = pair is None or pair.last_success is None or now - pair.last_success > KNOWN_REFRESH
    return Attempt(
        realm=realm,
        action=Action.LOGIN,
        username=user,
        client_address=client,
        allowed=True,
        success_to_write=stale or _live_failures(pair, Scope.PAIR, now) > 0,
    )


def fail_looked(attempt: Attempt, *, kind: str = AuthEvent.Kind.LOGIN_FAILED) -> None:
    """Count and record a wrong secret whose try look() let through (as begin() + fail())."""
    # Counted as begin() counts a try (held back by now: recorded as such, not counted again).
    begin(realm=attempt.realm, username=attempt.username, client_address=attempt.client_address)
    _remember(attempt.realm, kind, attempt.username, attempt.client_address)


def succeed_looked(attempt: Attempt) -> None:
    """Clear the pair's failures and mark its address known, when look() saw a need to."""
    if not attempt.success_to_write:
        return
    now = timezone.now()
    key = _counter_keys(attempt.realm, attempt.action, attempt.username, attempt.client_address)[
        Scope.PAIR
    ]
    _create_missing({Scope.PAIR: key}, {}, [Scope.PAIR], now)
    ThrottleCounter.objects.filter(**key).update(failures=0, last_success=now, updated=now)


def reset_allowed(*, realm: str, username: str, client_address: str) -> bool:
    """Count a reset request and tell whether it may go ahead; one check and count, like logins."""
    attempt = begin(
        realm=realm, username=username, client_address=client_address, action=Action.RESET
    )
    if attempt.allowed:
        _remember(realm, AuthEvent.Kind.RESET_REQUESTED, attempt.username, attempt.client_address)
    return attempt.allowed


def locked_minutes(seconds: int) -> int:
    """Return a wait in whole minutes as every lockout message shows it (rounded up, at least 1)."""
    return max(1, math.ceil(seconds / 60))


def record(*, realm: str, kind: str, username: str, client_address: str) -> None:
    """Record an auth event with its log line (tries are counted by begin() and reset_allowed())."""
    _remember(realm, kind, user_key(username), client_address[:45])


def auth_events_prune(*, older_than: datetime.timedelta) -> tuple[int, int]:
    """Delete auth events and idle counters older than the given age; return how many of each."""
    cutoff = timezone.now() - older_than
    events = _delete_in_chunks(AuthEvent.objects.filter(last_seen__lt=cutoff))
    counters = _delete_in_chunks(ThrottleCounter.objects.filter(updated__lt=cutoff))
    return events, counters


# --------------------------------------------------------------------------------------------
# Counters


def _begin(realm: str, action: str, user: str, client: str) -> Attempt:
    now = timezone.now()
    keys = _counter_keys(realm, action, user, client)
    # A first look without locks refuses a held-back try at once, writing no counter, so that a
    # flood against a locked address or account costs one read per try and adds no rows.
    rows = _read_counters(keys)
    known = _known_address(realm, user, client, now, rows.get(Scope.PAIR), action=action)
    held = _holding_back(rows, known, now)
    if held is None:
        scopes = [Scope.ADDRESS, Scope.PAIR] + ([] if known else [Scope.ACCOUNT])
        _create_missing(keys, rows, scopes, now)
        with transaction.atomic():
            # Locked always in the same order (address, pair, account), so that tries queue
            # rather than wait on each other in a circle; the decision is taken again here.
            rows = {scope: _lock_counter(keys[scope]) for scope in scopes}
            held = _holding_back(rows, known, now)
            if held is None:
                for row in rows.values():
                    _count_failure(row, now)
    if held is not None:
        wait, scope = held
        return Attempt(
            realm=realm,
            action=action,
            username="" if scope == Scope.ADDRESS else user,
            client_address=client,
            allowed=False,
            retry_after=math.ceil(wait),
        )
    return Attempt(
        realm=realm,
        action=action,
        username=user,
        client_address=client,
        allowed=True,
        counted_for_account=not known,
    )


def _holding_back(
    rows: dict[str, ThrottleCounter], known: bool, now: datetime.datetime
) -> tuple[float, str] | None:
    """Return the wait and the scope of the first counter that holds a try back, or None."""
    for scope in (Scope.ADDRESS, Scope.PAIR, Scope.ACCOUNT):
        # The account-wide slowdown never applies to an address the account logged in from.
        if scope == Scope.ACCOUNT and known:
            continue
        wait = _wait(rows.get(scope), scope, now)
        if wait:
            return wait, scope
    return None


def _counter_keys(realm: str, action: str, user: str, client: str) -> dict[str, dict[str, str]]:
    return {
        scope: {
            "realm": realm,
            "action": action,
            "scope": scope,
            "username": "" if scope == Scope.ADDRESS else user,
            "client_address": "" if scope == Scope.ACCOUNT else client,
        }
        for scope in (Scope.ADDRESS, Scope.PAIR, Scope.ACCOUNT)
    }


def _read_counters(keys: dict[str, dict[str, str]]) -> dict[str, ThrottleCounter]:
    found = Q()
    for key in keys.values():
        found |= Q(**key)
    return {row.scope: row for row in ThrottleCounter.objects.filter(found)}


def _create_missing(
    keys: dict[str, dict[str, str]],
    rows: dict[str, ThrottleCounter],
    scopes: list[str],
    now: datetime.datetime,
) -> None:
    missing = [ThrottleCounter(**keys[s], updated=now) for s in scopes if s not in rows]
    if missing:
        # Created in a statement of its own, before the transaction that locks them: an insert
        # that meets a row another try is creating waits for it and ends holding nothing, where
        # inside the transaction it would keep a shared lock and deadlock upgrading it.
        ThrottleCounter.objects.bulk_create(missing, ignore_conflicts=True)


def _lock_counter(key: dict[str, str]) -> ThrottleCounter:
    return ThrottleCounter.objects.select_for_update().get(**key)


def _live_failures(row: ThrottleCounter | None, scope: str, now: datetime.datetime) -> int:
    if row is None or row.last_failure is None:
        return 0
    memory = (
        SLOWDOWN_MEMORY
        if scope == Scope.ACCOUNT
        else datetime.timedelta(seconds=settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS)
    )
    return row.failures if now - row.last_failure < memory else 0


def _wait(row: ThrottleCounter | None, scope: str, now: datetime.datetime) -> float:
    """Return the seconds a try under this counter must still wait (0: it may go ahead)."""
    failures = _live_failures(row, scope, now)
    lockout = settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS
    if scope == Scope.ADDRESS:
        limit, delay = settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS, lockout
    elif scope == Scope.PAIR:
        limit, delay = settings.VIMBADMIN_LOGIN_FAILURE_LIMIT, lockout
    else:
        limit = settings.VIMBADMIN_LOGIN_FAILURE_LIMIT
        doublings = min(max(failures - limit, 0), _MAX_DOUBLINGS)
        delay = min(settings.VIMBADMIN_LOGIN_SLOWDOWN_SECONDS * 2**doublings, lockout)
    if failures < limit or row is None or row.last_failure is None:
        return 0
    return max((row.last_failure - now).total_seconds() + delay, 0)


def _count_failure(row: ThrottleCounter, now: datetime.datetime) -> None:
    row.failures = _live_failures(row, row.scope, now) + 1
    row.last_failure = now
    row.updated = now
    row.save(update_fields=["failures", "last_failure", "updated"])


def _known_address(
    realm: str,
    user: str,
    client: str,
    now: datetime.datetime,
    pair: ThrottleCounter | None,
    *,
    action: str,
) -> bool:
    """Tell whether the account logged in successfully from this address lately."""
    if action == Action.LOGIN:
        last = pair.last_success if pair is not None else None
    else:
        last = (
            ThrottleCounter.objects.filter(
                realm=realm,
                action=Action.LOGIN,
                scope=Scope.PAIR,
                username=user,
                client_address=client,
            )
            .values_list("last_success", flat=True)
            .first()
        )
    days = datetime.timedelta(days=settings.VIMBADMIN_LOGIN_KNOWN_ADDRESS_DAYS)
    return last is not None and now - last < days


def _retrying(step: Callable[..., T], *args: Any) -> T:
    """Run a step of its own transaction again when the database chose it as a deadlock victim."""
    for tries_left in range(_DEADLOCK_TRIES - 1, -1, -1):
        try:
            return step(*args)
        except OperationalError as exc:
            # Inside an outer transaction the victim's whole transaction is gone: no retry.
            if not tries_left or connection.in_atomic_block or not _is_deadlock(exc):
                raise
    raise AssertionError("unreachable")


def _is_deadlock(exc: OperationalError) -> bool:
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None) or (getattr(cause, "args", None) or [None])[0]
    return code in ("40P01", 1213)


# --------------------------------------------------------------------------------------------
# Events


def _remember(
    realm: str, kind: str, user: str, client: str, *, shown_user: str | None = None
) -> None:
    """Add one event to its hourly row and write its log line."""
    _retrying(_add_event, realm, kind, user, client)
    _log(realm, kind, user if shown_user is None else shown_user, client)


def _add_event(realm: str, kind: str, user: str, client: str) -> None:
    now = timezone.now()
    key = {
        "realm": realm,
        "kind": kind,
        "username": user,
        "client_address": client,
        "hour": now.replace(minute=0, second=0, microsecond=0),
    }
    rows = AuthEvent.objects.filter(**key)
    if not rows.update(count=F("count") + 1, last_seen=now):
        # The first event of the hour: create the row empty, then count like every other one,
        # so that two requests creating it at once both count.
        AuthEvent.objects.bulk_create(
            [AuthEvent(**key, timestamp=now, last_seen=now, count=0)], ignore_conflicts=True
        )
        rows.update(count=F("count") + 1, last_seen=now)


def _log(realm: str, kind: str, user: str, client: str) -> None:
    # Control characters are dropped so a crafted login cannot forge a second log line.
    shown = "".join(ch for ch in user if ch.isprintable()).replace(" ", "_") or "-"
    if kind in (AuthEvent.Kind.LOGIN_FAILED, AuthEvent.Kind.CODE_FAILED):
        logger.warning("vimbadmin auth failure: realm=%s user=%s client=%s", realm, shown, client)
    elif kind == AuthEvent.Kind.LOCKED_OUT:
        logger.warning("vimbadmin auth locked: realm=%s user=%s client=%s", realm, shown, client)
    else:
        logger.info("vimbadmin auth %s: realm=%s user=%s client=%s", kind, realm, shown, client)


def _delete_in_chunks(rows: QuerySet[Any], chunk: int = 5000) -> int:
    # Chunks keep each delete short, so logins are not held up by a long prune.
    deleted = 0
    while True:
        ids = list(rows.values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        rows.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


def held_back_seconds(row: ThrottleCounter, *, now: datetime.datetime | None = None) -> int:
    """Return how many more seconds tries under this counter are refused (0: none are)."""
    return math.ceil(_wait(row, row.scope, now or timezone.now()))
