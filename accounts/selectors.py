"""Reads of admins, always through the scoping helper."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from accounts.models import Admin
from accounts.scoping import scoped
from domains.models import ALL_DOMAINS, Domain, DomainAdmin


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
    return scoped(user, Domain).filter(domain__in=assigned).order_by("domain")


def domain_admins(user: Any, domain: Domain) -> QuerySet[Admin]:
    """Return the admins assigned to the domain, for a user who may manage admins."""
    assigned = DomainAdmin.objects.filter(domain_id=domain.pk, active=True).values("username_id")
    return scoped(user, Admin).filter(username__in=assigned).order_by("username")


def admin_for_login(address: str) -> Admin | None:
    """Return the admin with this login address, active or not, or None (no scope: anonymous)."""
    return Admin.objects.filter(username=address).first()
