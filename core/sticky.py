"""The domain filter that stays selected while moving between lists (kept in the session)."""

from __future__ import annotations

from django.http import HttpRequest

SESSION_KEY = "vimb_domain"


def sticky_domain(request: HttpRequest) -> str:
    """Return the selected domain: `?domain=` sets it (empty clears it), else the session's."""
    if "domain" in request.GET:
        value = request.GET.get("domain", "").strip().lower()
        select(request, value)
        return value
    return request.session.get(SESSION_KEY, "")


def select(request: HttpRequest, domain: str) -> None:
    """Remember the selected domain ('' clears it), writing the session only when it changes.

    An unchanged session is not saved again, which spares every filtered list view an UPDATE
    of django_session and its commit.
    """
    if domain and request.session.get(SESSION_KEY) != domain:
        request.session[SESSION_KEY] = domain
    elif not domain and SESSION_KEY in request.session:
        del request.session[SESSION_KEY]
