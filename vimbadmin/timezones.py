"""Show dates in the user's time zone: the browser's, sent in a cookie by static/js/vimbadmin.js."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "vimb_tz"


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_from_cookie(value: str | None) -> zoneinfo.ZoneInfo | None:
    """Return the IANA zone a cookie names, or None for a missing or unknown name."""
    if not value or value not in _known_zones():
        return None
    return zoneinfo.ZoneInfo(value)


class UserTimeZoneMiddleware:
    """Activate the time zone the browser reported for this request (else the server's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_from_cookie(request.COOKIES.get(COOKIE))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
