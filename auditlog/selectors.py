"""Reads of the audit log, scoped and shaped to use the log's indexes."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.scoping import can_manage_domain, is_superadmin, scoped
from domains.models import Domain
from pfa.models import Log

# Up to this many managed domains are spelled out as literals in the log query (see below).
LITERAL_DOMAINS_LIMIT = 200


def _start_of(day: datetime.date) -> datetime.datetime | None:
    """Return the first instant of a day in the current time zone, or None if UTC cannot hold it.

    That is only the calendar's first day, east of UTC: no row is older, so no bound is needed.
    """
    try:
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        # Stored in UTC: the database is asked with this instant.
        start.astimezone(datetime.UTC)
    except OverflowError:
        return None
    return start


def _day_after(day: datetime.date) -> datetime.date | None:
    """Return the next day, or None after the calendar's last day (no row is newer)."""
    try:
        return day + datetime.timedelta(days=1)
    except OverflowError:
        return None


def _own_domains_log(user: Any) -> QuerySet[Log]:
    """Return the log of a domain admin's domains, named as literals where they are few.

    Neither engine walks the (domain, timestamp) index for `domain IN (SELECT ...)`: they read
    every log row of the admin's domains and sort them (3 s on MariaDB with 100,000 mailboxes).
    With literal names the newest rows come straight off the index (0.1 ms on PostgreSQL). The
    names are exactly the scope, so the scope's subquery is left out: MariaDB planned the two
    together as a join that doubled the cost of a deep page's keys.
    """
    names = list(
        scoped(user, Domain)
        .order_by()
        .values_list("domain", flat=True)[: LITERAL_DOMAINS_LIMIT + 1]
    )
    if len(names) > LITERAL_DOMAINS_LIMIT:
        return scoped(user, Log)
    if len(names) == 1:
        return Log.objects.filter(domain=names[0])
    return Log.objects.filter(domain__in=names)


def log_list(user: Any, filters: dict[str, Any]) -> QuerySet[Log]:
    """Return the log rows the user may see, newest first, narrowed by the filters."""
    # Equality on domain and a range on timestamp match the (domain, timestamp) and
    # (timestamp) indexes, so a page stays cheap on a table of millions of rows.
    selected = filters.get("domain")
    if is_superadmin(user):
        # Every row, those of purged domains and of no domain included.
        queryset = Log.objects.filter(domain=selected) if selected else Log.objects.all()
    elif selected:
        # One domain of the admin's or nothing: a foreign, purged or unknown name alike shows
        # no row, so the answer tells nothing about other tenants.
        queryset = (
            Log.objects.filter(domain=selected)
            if can_manage_domain(user, selected)
            else Log.objects.none()
        )
    else:
        queryset = _own_domains_log(user)
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("admin"):
        queryset = queryset.filter(username__icontains=filters["admin"])
    start = _start_of(filters["date_from"]) if filters.get("date_from") else None
    if start is not None:
        queryset = queryset.filter(timestamp__gte=start)
    next_day = _day_after(filters["date_to"]) if filters.get("date_to") else None
    end = _start_of(next_day) if next_day is not None else None
    if end is not None:
        queryset = queryset.filter(timestamp__lt=end)
    return queryset.order_by("-timestamp", "-id")
