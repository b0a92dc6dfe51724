"""Reads of admins, always through the scoping helper."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import throttle
from accounts.models import Admin, AuthEvent, ThrottleCounter
from accounts.scoping import is_superadmin, scoped
from domains.models import ALL_DOMAINS, Domain, DomainAdmin, by_sort_name


def admin_list(user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Admin]:
    """Return the admins the user may manage, with domain counts, filtered by `q`."""
    return admin_rows(scoped(user, Admin), filters)


def admin_rows(qs: QuerySet[Admin], filters: dict[str, Any] | None = None) -> QuerySet[Admin]:
    """Return these admins with domain counts and super admin flags, filtered by `q`.

    For the shell (the operator, who sees every admin); pages and the API use admin_list().
    """
    filters = filters or {}
    qs = qs.annotate(
        domain_count=Count(
            "domain_links",
            filter=Q(domain_links__active=True) & ~Q(domain_links__domain_id=ALL_DOMAINS),
        ),
        # Either Postfix Admin representation of a super admin counts (see scoping).
        is_super=ExpressionWrapper(
            Q(superadmin=True)
            | Q(
                Exists(
                    DomainAdmin.objects.filter(
                        username_id=OuterRef("pk"), domain_id=ALL_DOMAINS, active=True
                    )
                )
            ),
            output_field=BooleanField(),
        ),
    )
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(username__icontains=q.lower())
    return qs.order_by("username")


def admin_domains(user: Any, admin: Admin) -> QuerySet[Domain]:
    """Return the domains the admin manages that the user may see (never the ALL row)."""
    assigned = DomainAdmin.objects.filter(username_id=admin.pk, active=True).values("domain_id")
    return by_sort_name(scoped(user, Domain).filter(domain__in=assigned))


def domain_admins(user: Any, domain: Domain) -> QuerySet[Admin]:
    """Return the admins assigned to the domain, for a user who may manage admins."""
    assigned = DomainAdmin.objects.filter(domain_id=domain.pk, active=True).values("username_id")
    return scoped(user, Admin).filter(username__in=assigned).order_by("username")


def admin_for_login(address: str) -> Admin | None:
    """Return the admin with this login address, active or not, or None (no scope: anonymous)."""
    return Admin.objects.filter(username=address).first()


def auth_event_list(user: Any, filters: dict[str, Any]) -> QuerySet[AuthEvent]:
    """Return the logins, failures, lockouts and resets, newest first (super admins only).

    `filters`: `kind`, `address` (a login, or a client address, matched in part), `start` and
    `end` (instants: the rows whose first event lies in [start, end)).
    """
    if not is_superadmin(user):
        # Events name accounts of every domain and the addresses they come from.
        raise PermissionDenied
    rows = AuthEvent.objects.all()
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    address = (filters.get("address") or "").strip().lower()
    if address:
        rows = rows.filter(Q(username__contains=address) | Q(client_address__startswith=address))
    if filters.get("start") is not None:
        rows = rows.filter(timestamp__gte=filters["start"])
    if filters.get("end") is not None:
        rows = rows.filter(timestamp__lt=filters["end"])
    return rows.order_by("-timestamp", "-id")


@dataclass(frozen=True)
class ThrottledAddress:
    """A client address whose recent failures count against every login from it."""

    realm: str
    realm_label: str
    action: str
    client_address: str
    failures: int
    last_failure: datetime.datetime
    held_back_seconds: int


def throttled_addresses(user: Any, *, limit: int = 50) -> list[ThrottledAddress]:
    """Return the client addresses with failures still counted, most failures first."""
    if not is_superadmin(user):
        raise PermissionDenied
    now = timezone.now()
    since = now - datetime.timedelta(seconds=settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS)
    rows = ThrottleCounter.objects.filter(
        scope=ThrottleCounter.Scope.ADDRESS, failures__gt=0, last_failure__gte=since
    ).order_by("-failures", "-last_failure")[:limit]
    return [
        ThrottledAddress(
            realm=row.realm,
            realm_label=str(AuthEvent.Realm(row.realm).label),
            action=row.action,
            client_address=row.client_address,
            failures=row.failures,
            last_failure=row.last_failure or now,
            held_back_seconds=throttle.held_back_seconds(row, now=now),
        )
        for row in rows
    ]
