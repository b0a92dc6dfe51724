"""Reads of the audit log, starting from the scoping helper and shaped to use the log's indexes."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuthEvent
from accounts.scoping import list_scope
from accounts.selectors import auth_event_list
from core.listing.pagination import ListQuerySet
from pfa.models import Log


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


def log_list(user: Any, filters: dict[str, Any]) -> QuerySet[Log]:
    """Return the log rows the user may see, newest first, narrowed by the filters."""
    # Equality on domain and a range on timestamp match the (domain, timestamp) and
    # (timestamp) indexes, so a page stays cheap on a table of millions of rows. A super admin
    # sees every row, those of purged domains and of no domain included; a domain admin only
    # their domains' (named as literals, so the newest rows come straight off the index): a
    # foreign, purged or unknown name alike shows no row, so the answer tells nothing about
    # other tenants.
    scope = list_scope(user, filters.get("domain") or "")
    queryset = scope.rows(Log)
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("admin"):
        queryset = queryset.filter(username__icontains=filters["admin"])
    start, end = day_range(filters)
    if start is not None:
        queryset = queryset.filter(timestamp__gte=start)
    if end is not None:
        queryset = queryset.filter(timestamp__lt=end)
    return ListQuerySet.of(queryset.order_by("-timestamp", "-id"), scope=scope)


def day_range(
    filters: dict[str, Any],
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """Return the instants [start, end) of the days `date_from` to `date_to` (None: no bound)."""
    start = _start_of(filters["date_from"]) if filters.get("date_from") else None
    next_day = _day_after(filters["date_to"]) if filters.get("date_to") else None
    end = _start_of(next_day) if next_day is not None else None
    return start, end


def access_list(user: Any, filters: dict[str, Any]) -> QuerySet[AuthEvent]:
    """Return the access events a super admin asked for, newest first."""
    start, end = day_range(filters)
    return auth_event_list(
        user,
        {
            "kind": filters.get("kind"),
            "address": filters.get("address"),
            "start": start,
            "end": end,
        },
    )
