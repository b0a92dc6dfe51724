"""Reads of mailboxes, starting from the scoping helper, in SQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Lower, Replace

from accounts.scoping import list_scope, scoped
from aliases.models import Alias
from core.listing.pagination import counted_by
from core.listing.search import GramSearch, address_search_terms, search_queryset, searched_rows
from domains import counters
from domains.models import AliasDomain, Domain, DomainSettings
from mail.names import domain_filter_value
from mail.quota import mb_to_bytes
from mailboxes.models import Mailbox, PasswordChange, password_digest
from pfa.derived import search_grams
from pfa.models import Quota2

# How many aliases pointing at one mailbox its page lists; the rest is reached by searching.
DELIVERING_ALIASES_LIMIT = 100


def mailbox_list(user: Any, filters: dict[str, Any]) -> QuerySet[Mailbox]:
    """Return the user's mailboxes matching `q` (address or name) and `domain`, with usage."""
    scope = list_scope(user, domain_filter_value(filters.get("domain") or ""))
    q = (filters.get("q") or "").strip()
    if q:
        # icontains is UPPER(name) LIKE UPPER(...) on PostgreSQL: the name index is on upper().
        match = Q(name__icontains=q)
        terms = address_search_terms(q)
        for term in terms:
            match |= Q(username__contains=term)
        grams = GramSearch(search_grams.MAILBOX, terms, scope, Mailbox.objects.filter(match))
        qs = searched_rows(scope, Mailbox, match, [q, *terms])
    else:
        qs = scope.rows(Mailbox)
    # Usage comes from Dovecot's quota dict when it fills quota2; one subquery, not one per row.
    used = Quota2.objects.filter(username=OuterRef("username")).values("bytes")[:1]
    qs = qs.annotate(used_bytes=Subquery(used)).order_by("username")
    if q:
        return search_queryset(qs, scope, grams)

    def kept_count() -> int | None:
        # The kept per-domain figures instead of COUNT(*) over the domain's index entries.
        totals = counters.totals(scope.domains())
        return None if totals is None else totals[0]

    return counted_by(qs, kept_count, scope=scope)


def mailbox_used_bytes(mailbox: Mailbox) -> int | None:
    """Return what Dovecot reports as used by the mailbox, or None when it reports nothing."""
    return Quota2.objects.filter(username=mailbox.username).values_list("bytes", flat=True).first()


def mailbox_password_changed(mailbox: Mailbox) -> datetime.datetime | None:
    """Return when the mailbox's current password was set here, or None when not known.

    Not known: set before this project kept the date, or changed since by another tool
    (Postfix Admin, doveadm, SQL), which the stored hash's digest no longer matching tells.
    """
    row = PasswordChange.objects.filter(username=mailbox.username).first()
    if row is None or row.hash_digest != password_digest(mailbox.password):
        return None
    return row.changed


@dataclass(frozen=True)
class DeliveringAliases:
    """The aliases that deliver to a mailbox: its own domain's, listed; other domains', counted."""

    # Of the mailbox's domain (its own alias row left out), by address, at most
    # DELIVERING_ALIASES_LIMIT; `more` tells that the domain has further ones.
    listed: list[Alias]
    more: bool
    # How many aliases of other domains deliver to it (up to limit + 1, which reads "more than
    # the limit"), never which; None on an admin's page.
    elsewhere: int | None
    limit: int


def _delivering(aliases: QuerySet[Alias], address: str) -> QuerySet[Alias]:
    """Narrow aliases to those whose destination list names the address as a whole element.

    The address is matched in any case and with spaces around the commas, as Postfix reads the
    list, but never as part of another address ("jimbob@x" or "bob@x.org" are not "bob@x").
    """
    # goto is unindexable text, so both conditions scan the rows the queryset's others leave.
    # A plain LIKE (ILIKE on PostgreSQL, whose LIKE minds case; MariaDB's collation and
    # SQLite's LIKE do not) cheaply keeps the rows holding the address anywhere, so LOWER()
    # and REPLACE() only run on those (on every row they tripled the time). Unescaped, "_" and
    # "%" only widen it. The list as ",a,b," (lower case, no spaces) then holds ",address,"
    # exactly when an element is the address, compared byte for byte.
    connection = connections[aliases.db]
    operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    column = (
        f"{connection.ops.quote_name(Alias._meta.db_table)}.{connection.ops.quote_name('goto')}"
    )
    pattern = "%" + address.replace("\\", "_") + "%"
    loosely = RawSQL(f"{column} {operator} %s", [pattern])  # noqa: S611 - constants, bound value
    text = TextField()
    comma = Value(",", output_field=text)
    spaceless = Replace(
        Lower("goto"),
        Value(" ", output_field=text),
        Value("", output_field=text),
        output_field=text,
    )
    elements = Concat(comma, spaceless, comma, output_field=text)
    return (
        aliases.filter(ExpressionWrapper(loosely, output_field=BooleanField()))
        .alias(goto_elements=elements)
        .filter(goto_elements__contains=f",{address},")
    )


def aliases_delivering_query(user: Any, mailbox: Mailbox) -> QuerySet[Alias]:
    """Return every alias of the mailbox's domain the user sees that delivers to it (None: all)."""
    aliases = Alias.objects.all() if user is None else scoped(user, Alias)
    address = mailbox.username.lower()
    return _delivering(aliases.filter(domain_id=mailbox.domain_id), address).exclude(
        address=address
    )


def aliases_delivering_to(mailbox: Mailbox, *, user: Any = None) -> DeliveringAliases:
    """Return the aliases delivering to a mailbox: its own domain's listed, others' only counted.

    `user` is the admin looking, whose scope applies, or None for the mailbox's owner, who sees
    the aliases of the mailbox's domain and only a count of those of other domains.
    """
    address = mailbox.username.lower()
    limit = DELIVERING_ALIASES_LIMIT
    if user is not None:
        # The domain's index keeps the scan to the one domain.
        own = _delivering(scoped(user, Alias).filter(domain_id=mailbox.domain_id), address)
        found = list(own.exclude(address=address).order_by("address")[: limit + 1])
        return DeliveringAliases(
            listed=found[:limit], more=len(found) > limit, elsewhere=None, limit=limit
        )
    # Other domains are counted as well, so one scan of every alias row serves both: scanning
    # the domain and then every other one read most rows twice.
    matches = (
        _delivering(Alias.objects.all(), address)
        .exclude(address=address)
        .only("address", "domain", "active")
        .order_by("address")
    )
    listed: list[Alias] = []
    elsewhere = 0
    for alias in matches.iterator():
        if alias.domain_id != mailbox.domain_id:
            elsewhere += 1
        elif len(listed) <= limit:
            listed.append(alias)
        if len(listed) > limit and elsewhere > limit:
            break
    return DeliveringAliases(
        listed=listed[:limit],
        more=len(listed) > limit,
        elsewhere=min(elsewhere, limit + 1),
        limit=limit,
    )


def mailbox_for_login(address: str) -> Mailbox | None:
    """Return the mailbox for a typed address, with its domain, or None when there is none."""
    return Mailbox.objects.select_related("domain").filter(username=address).first()


def mailbox_alias_domains(mailbox: Mailbox) -> list[str]:
    """Return the other addresses this mailbox receives through active alias domains."""
    names = AliasDomain.objects.filter(target_domain_id=mailbox.domain_id, active=True).values_list(
        "alias_domain_id", flat=True
    )
    return [f"{mailbox.local_part}@{name}" for name in names.order_by("alias_domain_id")]


def default_quotas(user: Any, names: list[str] | None = None) -> dict[str, int]:
    """Return, per domain the user manages (of `names`, if given), the quota in bytes a new
    mailbox gets by default.

    For the new-mailbox form's domain (the form re-fills the quota field when another domain
    is picked); the rule is domains.services.domain_settings(): the stored default, else
    the domain's per-mailbox maximum, else unlimited (0). Two queries, no join: on MariaDB the
    settings table's collation may differ from Postfix Admin's `domain` table.
    """
    domains = scoped(user, Domain)
    if names is not None:
        domains = domains.filter(domain__in=names)
    maxquotas = dict(domains.values_list("domain", "maxquota"))
    stored = dict(
        DomainSettings.objects.filter(domain_id__in=list(maxquotas)).values_list(
            "domain_id", "default_mailbox_quota"
        )
    )
    return {
        name: mb_to_bytes(stored[name] if name in stored else max(maxquota, 0))
        for name, maxquota in maxquotas.items()
    }


def password_expiry_enforced(mailbox: Mailbox) -> datetime.datetime | None:
    """Return when the mailbox's password expires, if Dovecot refuses it then; else None.

    Enforced means VIMBADMIN_PASSWORD_EXPIRY_ENFORCED (Dovecot's query from `mailconfig dovecot
    --password-expiry`) and a domain whose password_expiry is not 0 days ("never expires").
    """
    if not settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED:
        return None
    if not mailbox.domain.password_expiry:
        return None
    return mailbox.password_expiry
