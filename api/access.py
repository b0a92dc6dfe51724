"""What a request's token reaches: its admin's scope (accounts.scoping), narrowed by the token.

A token limited to some domains sees only their rows, and nothing that belongs to no domain
(admins); out of reach is a 404, as in the pages. The admin's scope itself is read afresh on
every request, so a token never reaches further than its admin does now.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from accounts.models import Admin
from accounts.scoping import scoped
from api.models import ApiToken
from core.listing.pagination import ListQuerySet
from domains.models import AliasDomain, DomainAdmin

M = TypeVar("M", bound=Model)

# The field holding the domain a row belongs to, per model; rows of other models belong to none.
_DOMAIN_FIELD = {AliasDomain: "alias_domain_id", DomainAdmin: "domain_id"}


def token_domains(token: Any) -> list[str] | None:
    """Return the domains a token is limited to, or None when it has no such limit."""
    if isinstance(token, ApiToken) and token.domains:
        return list(token.domains)
    return None


def narrowed(token: Any, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow rows the admin may see to those the token may see."""
    limit = token_domains(token)
    if limit is None:
        return queryset
    model = queryset.model
    if model is Admin:
        return queryset.none()
    field = _DOMAIN_FIELD.get(model, "domain")
    if field == "domain" and _lies_within(queryset, limit):
        # A list of the token's own domains: a filter would add nothing but lose the list's
        # fast paths (ListQuerySet's facts), e.g. its keyset pages on MariaDB.
        return queryset
    return queryset.filter(**{f"{field}__in": limit})


def _lies_within(queryset: QuerySet[Any], limit: list[str]) -> bool:
    """Tell whether a list's scope names only domains among `limit` (its rows lie within them)."""
    scope = queryset.scope if isinstance(queryset, ListQuerySet) else None
    return scope is not None and scope.names is not None and set(scope.names) <= set(limit)


def token_scoped(request: Any, model: type[M]) -> QuerySet[M]:
    """Return the rows of `model` the request's token may see; never more than its admin."""
    return narrowed(request.auth, scoped(request.user, model))


def token_get_or_404(request: Any, model: type[M], **lookup: Any) -> M:
    """Fetch one object the token may see, or 404 exactly as if it did not exist."""
    found = token_scoped(request, model).filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def token_covers_domain(request: Any, name: str) -> bool:
    """Tell whether the token may act inside the domain (the admin's scope is checked apart)."""
    limit = token_domains(request.auth)
    return limit is None or name in limit
