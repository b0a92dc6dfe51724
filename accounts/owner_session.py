"""The mailbox owner's login in the session, kept apart from Django's admin login."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.languages import MAILBOX, remember_language
from accounts.languages import SESSION_KEY as LANGUAGE_SESSION_KEY
from mailboxes.models import Mailbox

SESSION_KEY = "vimb_mailbox"
HASH_SESSION_KEY = "vimb_mailbox_hash"
_OWNER_KEYS = (SESSION_KEY, HASH_SESSION_KEY)
_HASH_SALT = "vimbadmin.accounts.selfservice.session_hash"


def session_hash(mailbox: Mailbox) -> str:
    """Fingerprint the stored password hash, so changing the password ends other sessions."""
    return salted_hmac(_HASH_SALT, mailbox.password, algorithm="sha256").hexdigest()


def owner_login(request: HttpRequest, mailbox: Mailbox) -> None:
    """Log the owner in under a fresh session key, leaving any admin login in place."""
    # A new key defeats session fixation; cycle_key() keeps the admin's data, flush() would not.
    request.session.cycle_key()
    # As Django's own login(): a CSRF token seen before the login is worthless after it.
    rotate_token(request)
    request.session[SESSION_KEY] = mailbox.username
    request.session[HASH_SESSION_KEY] = session_hash(mailbox)
    # The owner's own language from now on, in whatever browser they log in from.
    remember_language(request.session, MAILBOX, mailbox.username)


def owner_refresh(request: HttpRequest, mailbox: Mailbox) -> None:
    """Keep the current session logged in after its own password change."""
    request.session.cycle_key()
    request.session[HASH_SESSION_KEY] = session_hash(mailbox)


def owner_logout(request: HttpRequest) -> None:
    """End the owner's login only; an admin login in the same session stays."""
    had_owner = any(key in request.session for key in _OWNER_KEYS)
    for key in _OWNER_KEYS:
        request.session.pop(key, None)
    if had_owner:
        request.session.cycle_key()


def owner_mailbox(request: HttpRequest) -> Mailbox | None:
    """Return the logged-in owner's mailbox while it, its domain and its password still hold."""
    username = request.session.get(SESSION_KEY)
    if not username or not isinstance(username, str):
        return None
    mailbox = (
        Mailbox.objects.select_related("domain")
        .filter(username=username, active=True, domain__active=True)
        .first()
    )
    stored = request.session.get(HASH_SESSION_KEY) or ""
    if mailbox is None or not constant_time_compare(stored, session_hash(mailbox)):
        owner_logout(request)
        return None
    return mailbox


def _attach_owner(request: HttpRequest) -> HttpResponse | None:
    """Set `request.mailbox` for a logged-in owner, else return the redirect to the owner login."""
    mailbox = owner_mailbox(request)
    if mailbox is None:
        return redirect_to_login(request.get_full_path(), reverse("selfservice:login"))
    request.mailbox = mailbox  # type: ignore[attr-defined]
    return None


def mailbox_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in a logged-in mailbox owner (as `request.mailbox`); send others to the owner login."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _attach_owner(request) or view(request, *args, **kwargs)

    return wrapped


class MailboxLoginRequiredMixin:
    """Class-based form of mailbox_login_required; the mailbox is also `self.mailbox`."""

    mailbox: Mailbox
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _attach_owner(request)
        if refused is not None:
            return refused
        self.mailbox = request.mailbox  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


@receiver(user_logged_out, dispatch_uid="vimbadmin.selfservice.keep_owner_login")
def keep_owner_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Carry an owner login across an admin logout in the same browser session."""
    session = getattr(request, "session", None)
    if session is None:
        return
    kept = {key: session[key] for key in (*_OWNER_KEYS, LANGUAGE_SESSION_KEY) if key in session}
    if not kept:
        return
    # Django's logout() flushes the whole session right after this signal; the owner's keys are
    # put back into the fresh (new-key) session so logging out of one login leaves the other.
    flush = session.flush

    def flush_keeping_owner() -> None:
        flush()
        session.update(kept)

    session.flush = flush_keeping_owner
