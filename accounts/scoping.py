"""The one place that decides what a user may see.

Super admins see everything; a domain admin sees the domains assigned to them and what lives in
them; anybody else sees nothing. Every view reads through `scoped()` so that an object outside a
user's scope is a 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Admin, AuthEvent
from aliases.models import Alias
from domains.models import ALL_DOMAINS, AliasDomain, Domain, DomainAdmin
from mailboxes.models import Mailbox
from pfa.models import Log

M = TypeVar("M", bound=Model)


def is_admin(user: Any) -> bool:
    """Tell whether the user is a logged-in, active admin."""
    return isinstance(user, Admin) and user.active


def is_superadmin(user: Any) -> bool:
    """Treat an admin as super if either Postfix Admin representation says so."""
    if not is_admin(user):
        return False
    cached = getattr(user, "_vimb_is_superadmin", None)
    if cached is None:
        # Postfix Admin keeps both the flag and a domain_admins row for ALL; either one counts,
        # as databases where only one of them survived exist in the wild.
        cached = (
            user.superadmin
            or DomainAdmin.objects.filter(
                username_id=user.pk, domain_id=ALL_DOMAINS, active=True
            ).exists()
        )
        user._vimb_is_superadmin = cached
    return cached


def require_superadmin(actor: Any, message: str) -> None:
    """Refuse a change unless a super admin makes it; no actor is the operator's shell."""
    if actor is not None and not is_superadmin(actor):
        raise PermissionDenied(message)


def _assigned_domain_names(user: Admin) -> QuerySet:
    return DomainAdmin.objects.filter(username_id=user.pk, active=True).values("domain_id")


def _domains(user: Any) -> QuerySet[Domain]:
    visible = Domain.objects.exclude(domain=ALL_DOMAINS)
    if is_superadmin(user):
        return visible
    if is_admin(user):
        return visible.filter(domain__in=_assigned_domain_names(user))
    return visible.none()


def scoped(user: Any, model: type[M]) -> QuerySet[M]:
    """Return the rows of `model` the user may see; never more."""
    domains = _domains(user)
    everything = is_superadmin(user)
    if model is Domain:
        return domains  # type: ignore[return-value]
    if model in (Mailbox, Alias):
        qs = model._default_manager.all()
        return qs if everything else qs.filter(domain__in=domains.values("domain"))
    if model is AliasDomain:
        qs = AliasDomain.objects.all()
        return qs if everything else qs.filter(alias_domain__in=domains.values("domain"))  # type: ignore[return-value]
    if model is Log:
        qs = Log.objects.all()
        return qs if everything else qs.filter(domain__in=domains.values("domain"))  # type: ignore[return-value]
    if model in (Admin, DomainAdmin, AuthEvent):
        qs = model._default_manager.all()
        return qs if everything else qs.none()
    raise LookupError(f"no scoping rule for {model.__name__}")


def get_scoped_or_404(user: Any, model: type[M], **lookup: Any) -> M:
    """Fetch one object within the user's scope, or answer 404 as if it did not exist."""
    return get_object_or_404(scoped(user, model), **lookup)


def can_manage_domain(user: Any, domain: Domain | str) -> bool:
    """Tell whether the user may change things inside the domain."""
    name = domain.domain if isinstance(domain, Domain) else domain
    return scoped(user, Domain).filter(domain=name).exists()


def domain_admin_filter(user: Any) -> Q:
    """Return a filter on `domain` limiting rows to the user's domains (for raw-ish lookups)."""
    return Q() if is_superadmin(user) else Q(domain__in=_domains(user).values("domain"))
