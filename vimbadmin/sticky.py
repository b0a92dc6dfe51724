"""The domain filter that stays selected while moving between lists (kept in the session)."""

from __future__ import annotations

from django.http import HttpRequest

SESSION_KEY = "vimb_domain"


def sticky_domain(request: HttpRequest) -> str:
    """Return the selected domain: `?domain=` sets it (empty clears it), else the session's."""
    if "domain" in request.GET:
        value = request.GET.get("domain", "").strip().lower()
        if value:
            request.session[SESSION_KEY] = value
        else:
            request.session.pop(SESSION_KEY, None)
        return value
    return request.session.get(SESSION_KEY, "")
