"""What every write inside a domain takes first: the scope check and the domain row lock.

The mailbox, alias and domain services all call these, so they live below all three.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import Admin
from accounts.scoping import can_manage_domain
from domains.models import Domain


def require_domain_scope(actor: Admin | None, domain: Domain) -> None:
    """Refuse a change inside a domain the actor does not manage (defence in depth)."""
    if actor is not None and not can_manage_domain(actor, domain):
        raise PermissionDenied(_("You do not manage this domain."))


def lock_domain(domain: Domain) -> Domain:
    """Lock the domain row so limit checks and the write that follows are one step."""
    return Domain.objects.select_for_update().get(pk=domain.pk)
