"""Reads of the audit log, scoped and shaped to use the log's indexes."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.scoping import scoped
from pfa.models import Log


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def log_list(user: Any, filters: dict[str, Any]) -> QuerySet[Log]:
    """Return the log rows the user may see, newest first, narrowed by the filters."""
    queryset = scoped(user, Log)
    # Equality on domain and a range on timestamp match the (domain, timestamp) and
    # (timestamp) indexes, so a page stays cheap on a table of millions of rows.
    if filters.get("domain"):
        queryset = queryset.filter(domain=filters["domain"])
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("admin"):
        queryset = queryset.filter(username__icontains=filters["admin"])
    if filters.get("date_from"):
        queryset = queryset.filter(timestamp__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        next_day = filters["date_to"] + datetime.timedelta(days=1)
        queryset = queryset.filter(timestamp__lt=_start_of(next_day))
    return queryset.order_by("-timestamp", "-id")
