"""What the second-factor pages share: where a realm goes, the code check on a form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import flows as login_flows
from accounts.models import Admin, AuthEvent
from core.views import safe_next
from mailboxes.models import Mailbox
from twofactor import flows

Realm = AuthEvent.Realm
NEW_SECRET_KEY = "vimb_2fa_new_secret"  # noqa: S105 (a session key name)


def home(realm: str) -> str:
    if realm == Realm.MAILBOX:
        return reverse("selfservice:overview")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def login_page(realm: str) -> str:
    return reverse("selfservice:login" if realm == Realm.MAILBOX else "accounts:login")


def after_login(request: HttpRequest, realm: str) -> str:
    target = safe_next(request, home(realm))
    # An owner only reaches the owner's pages; an admin URL would bounce to the admin login.
    if realm == Realm.MAILBOX and not target.startswith(reverse("selfservice:overview")):
        return home(realm)
    return target


def wrong_code() -> str:
    return _("The code is not correct.")


def check_code_form(request: HttpRequest, form: Any, realm: str, account: Admin | Mailbox) -> bool:
    """Check the form's code like a login try; put the error on the form."""
    check = flows.check_code(request, realm, account, form.cleaned_data["code"])
    if check.retry_after:
        form.add_error(None, login_flows.locked_message(check.retry_after))
    elif not check.accepted:
        form.add_error("code", wrong_code())
    return check.accepted


def base_template(realm: str) -> str:
    return "selfservice/base.html" if realm == Realm.MAILBOX else "base.html"


def show_codes(request: HttpRequest, realm: str, codes: list[str], title: str) -> HttpResponse:
    """Show recovery codes once (the response is never cached; they are stored hashed)."""
    context = {
        "base_template": base_template(realm),
        "codes": codes,
        "title": title,
        "continue_url": request.path if realm == Realm.ADMIN else reverse("selfservice:twofactor"),
    }
    return render(request, "twofactor/recovery_codes.html", context)


def to_int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0
