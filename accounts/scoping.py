"""The one place that decides what a user may see.

Super admins see everything; a domain admin sees the domains assigned to them and what lives in
them; anybody else sees nothing. Every view reads through `scoped()` so that an object outside a
user's scope is a 404, exactly like a missing one.

Lists (and their searches and the log) start from `list_scope()`: the same rows as `scoped()`,
with a domain admin's domains spelled out as literal names while there are at most
LITERAL_DOMAINS_LIMIT of them, which lets the database use its statistics and the (domain, key)
indexes. Those names are read once per request (`scoped_domain_names()`), and the same list
feeds the domain selects of the forms and the domain switcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Admin, AuthEvent
from aliases.models import Alias
from core.context import request_memo
from domains.models import ALL_DOMAINS, AliasDomain, Domain, DomainAdmin
from mail.names import domain_sort_key
from mailboxes.models import Mailbox
from pfa.models import Log

# Up to this many of a user's domains are named one by one: as literals in list queries, as
# the options of a domain select and of the domain switcher. Past it, lists use the scope's
# subquery and domains are typed (a select of thousands of options is unusable).
LITERAL_DOMAINS_LIMIT = 200

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


# The request memo's key of a user's domain names (see scoped_domain_names).
_NAMES_KEY = "scoping.domain_names"


def scoped_domain_names(user: Any) -> list[str] | None:
    """Return the stored names of the user's domains in the lists' order (by Unicode name), or
    None past LITERAL_DOMAINS_LIMIT.

    Read once per request (see core.context.request_memo); forget_domain_names() drops what
    was read when a change in the same request gives or takes domains.
    """
    memo = request_memo()
    key = (_NAMES_KEY, getattr(user, "pk", None))
    if memo is not None and key in memo:
        return memo[key]
    first = scoped(user, Domain).order_by("domain").values_list("domain", flat=True)
    names = list(first[: LITERAL_DOMAINS_LIMIT + 1])
    # Read in the stored order (the primary key's index), shown in the Unicode name's.
    found = sorted(names, key=domain_sort_key) if len(names) <= LITERAL_DOMAINS_LIMIT else None
    if memo is not None:
        memo[key] = found
    return found


def forget_domain_names() -> None:
    """Drop the domain names read during this request (a domain or an assignment changed)."""
    memo = request_memo()
    if memo is not None:
        for key in [k for k in memo if isinstance(k, tuple) and k[0] == _NAMES_KEY]:
            del memo[key]


class OutOfScope(AssertionError):
    """A fast path came up with a row outside the list's scope: a defect, never shown."""


@dataclass(frozen=True)
class ListScope:
    """The rows of a user's list, named the way the database finds them fastest.

    `names` are the domains whose rows the list shows, as literals: the selected domain (if the
    user sees it) or a domain admin's domains while they are few; empty: no row. None: the rows
    of every domain the user sees; every row for a super admin (`everything`), otherwise
    through the scope's subquery. The literals were checked against the scope here, so they
    replace it.
    """

    user: Any
    names: tuple[str, ...] | None
    everything: bool = False

    @property
    def one_domain(self) -> str | None:
        """Return the domain when the list shows exactly one, else None."""
        return self.names[0] if self.names is not None and len(self.names) == 1 else None

    def rows(self, model: type[M]) -> QuerySet[M]:
        """Return the rows of `model` (Mailbox, Alias or Log: a `domain` field) the list shows."""
        manager = model._default_manager
        if self.names is None:
            return manager.all() if self.everything else scoped(self.user, model)
        if len(self.names) == 1:
            return manager.filter(domain=self.names[0])
        return manager.filter(domain__in=self.names)

    def domains(self) -> QuerySet[Domain]:
        """Return the Domain rows whose rows the list shows."""
        if self.names is None:
            return scoped(self.user, Domain)
        return Domain.objects.exclude(domain=ALL_DOMAINS).filter(domain__in=self.names)

    def require(self, domains: Iterable[str]) -> None:
        """Refuse (OutOfScope) a domain outside the literal names.

        For the other scopes the query itself holds the condition, so there is nothing to test
        here: every row for a super admin, the scope's subquery otherwise (see by_keys).
        """
        if self.names is None:
            return
        allowed = set(self.names)
        stray = {name for name in domains if name not in allowed}
        if stray:
            raise OutOfScope(f"rows of {sorted(stray)} outside the list's scope")


def list_scope(user: Any, domain: str = "") -> ListScope:
    """Return the rows a list of the user shows: the selected domain's, if the user sees it
    (none otherwise), or, with no domain selected, those of every domain the user sees."""
    if is_superadmin(user):
        return ListScope(user, (domain,) if domain else None, everything=not domain)
    if not is_admin(user):
        return ListScope(user, ())
    names = scoped_domain_names(user)
    if domain:
        managed = domain in names if names is not None else can_manage_domain(user, domain)
        # A domain the user does not manage selects nothing.
        return ListScope(user, (domain,) if managed else ())
    return ListScope(user, tuple(names) if names is not None else None)
