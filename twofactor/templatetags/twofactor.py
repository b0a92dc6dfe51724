"""Second-factor snippets for pages of other apps: the state, a super admin's reset button."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Admin, AuthEvent
from accounts.scoping import is_superadmin
from mailboxes.models import Mailbox
from twofactor import selectors

register = template.Library()


@register.inclusion_tag("twofactor/_reset.html", takes_context=True)
def twofactor_reset(context: dict[str, Any], account: Admin | Mailbox) -> dict[str, Any]:
    """Show whether the account has a second factor and, to super admins, a reset button."""
    realm = AuthEvent.Realm.ADMIN if isinstance(account, Admin) else AuthEvent.Realm.MAILBOX
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "account": account,
        "realm": realm,
        "available": selectors.totp_available(realm),
        "enabled": selectors.has_totp(realm, account.pk),
        "may_reset": is_superadmin(user) and not (isinstance(account, Admin) and account == user),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("twofactor/_app_passwords.html", takes_context=True)
def app_passwords(context: dict[str, Any], mailbox: Mailbox) -> dict[str, Any]:
    """List a mailbox's app passwords with revoke buttons (the page reached it through scope)."""
    request = context.get("request")
    return {
        "available": selectors.app_passwords_available(),
        "app_passwords": selectors.app_passwords_of(mailbox),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
