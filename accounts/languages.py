"""Which language a person reads: their stored choice, else their domain's, else the site's.

The pages follow the browser (Accept-Language, or the switcher's cookie) until a logged-in
admin or mailbox owner picks a language in the footer; that choice is stored here and
applies in every browser they log in from, and to the mails they receive.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_supported_language_variant

from accounts.models import AuthEvent, LanguagePreference
from domains.models import DomainSettings

ADMIN: str = AuthEvent.Realm.ADMIN.value
MAILBOX: str = AuthEvent.Realm.MAILBOX.value


def supported_language(code: str | None) -> str:
    """Return the shipped language a code names ("de-AT" -> "de"), or "" for none."""
    if not code:
        return ""
    try:
        return get_supported_language_variant(code.strip().lower())
    except LookupError:
        return ""


def language_preference(realm: str, username: str) -> str:
    """Return the language an admin or owner chose, or "" when they chose none."""
    code = (
        LanguagePreference.objects.filter(realm=realm, username=username)
        .values_list("language", flat=True)
        .first()
    )
    return supported_language(code)


@transaction.atomic
def language_preference_set(*, realm: str, username: str, language: str) -> str:
    """Store the language an admin or owner chose for themselves; return the code stored.

    Only a shipped language is stored; anything else removes the choice.
    """
    code = supported_language(language)
    if not code:
        LanguagePreference.objects.filter(realm=realm, username=username).delete()
        return ""
    LanguagePreference.objects.update_or_create(
        realm=realm, username=username, defaults={"language": code, "updated": timezone.now()}
    )
    return code


def language_preference_forget(
    *, realm: str, username: str | None = None, domain: str = ""
) -> None:
    """Remove the stored choice of one account, or of every account of a domain."""
    rows = LanguagePreference.objects.filter(realm=realm)
    if username is not None:
        rows = rows.filter(username=username)
    elif domain:
        rows = rows.filter(username__endswith=f"@{domain}")
    else:
        raise ValueError("give a username or a domain")
    rows.delete()


def domain_language(domain: str) -> str:
    """Return the default language of a domain's mails, or "" when it has none."""
    code = (
        DomainSettings.objects.filter(domain_id=domain).values_list("language", flat=True).first()
    )
    return supported_language(code)


def mail_language(realm: str, address: str) -> str:
    """Return the language of a mail to an account: its choice, its domain's, the site's."""
    domain = address.rpartition("@")[2].lower()
    return (
        language_preference(realm, address)
        or (domain_language(domain) if domain else "")
        or supported_language(settings.LANGUAGE_CODE)
        or settings.LANGUAGE_CODE
    )


# The session keeps each logged-in realm's choice as [username, code], read on every request
# without a query; a different username (another login in the same browser) ignores it.
SESSION_KEY = "vimb_language"


def remember_language(
    session: SessionBase, realm: str, username: str, code: str | None = None
) -> str:
    """Put an account's stored choice (or `code`) in the session; return it ("" for none)."""
    if code is None:
        code = language_preference(realm, username)
    kept = dict(session.get(SESSION_KEY) or {})
    if code:
        kept[realm] = [username, code]
    else:
        kept.pop(realm, None)
    session[SESSION_KEY] = kept
    return code


def session_language(session: SessionBase, realm: str, username: str) -> str:
    """Return the choice kept in the session for this account, or ""."""
    kept = session.get(SESSION_KEY) or {}
    pair = kept.get(realm) if isinstance(kept, dict) else None
    if isinstance(pair, list) and len(pair) == 2 and pair[0] == username:
        return supported_language(pair[1])
    return ""


@receiver(user_logged_in, dispatch_uid="vimbadmin.accounts.languages.admin_login")
def load_admin_language(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Apply an admin's stored language from the login on."""
    session = getattr(request, "session", None)
    username = str(getattr(user, "username", "") or "")
    if session is not None and username:
        remember_language(session, ADMIN, username)
