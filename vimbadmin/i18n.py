"""The language switcher and the stored language of the logged-in admin or mailbox owner.

Django's LocaleMiddleware picks the language from the switcher's cookie or Accept-Language;
`LanguagePreferenceMiddleware`, after it, applies the choice a logged-in person stored (the
owner's on the owner pages, the admin's elsewhere). The footer's form posts to
`set_language`, which is Django's view plus storing the choice for whoever is logged in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.languages import (
    ADMIN,
    MAILBOX,
    language_preference_set,
    remember_language,
    session_language,
    supported_language,
)
from accounts.owner_session import SESSION_KEY as OWNER_SESSION_KEY


def _accounts(request: HttpRequest) -> list[tuple[str, str]]:
    """Return the logged-in (realm, username) pairs of the request, the owner first."""
    found = []
    owner = request.session.get(OWNER_SESSION_KEY) if hasattr(request, "session") else None
    if isinstance(owner, str) and owner:
        found.append((MAILBOX, owner))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        found.append((ADMIN, user.get_username()))
    return found


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language (Django's cookie) and store it for everyone logged in here."""
    response = django_set_language(request)
    code = supported_language(request.POST.get("language"))
    if code:
        for realm, username in _accounts(request):
            language_preference_set(realm=realm, username=username, language=code)
            remember_language(request.session, realm, username, code)
    return response


class LanguagePreferenceMiddleware:
    """Apply a logged-in person's stored language over the browser's (after LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        accounts = _accounts(request)
        match = getattr(request, "resolver_match", None)
        if match is None or match.namespace != "selfservice":
            # An admin page (or a shared one): the admin's choice before the owner's.
            accounts.reverse()
        for realm, username in accounts:
            code = session_language(request.session, realm, username)
            if code:
                translation.activate(code)
                request.LANGUAGE_CODE = code
                break
        return None
