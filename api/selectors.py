"""Reads of API tokens: an admin's own list, and the token a request's key names."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Admin
from accounts.scoping import is_admin
from api.keys import key_prefix, matches
from api.models import ApiToken

# How many of an admin's tokens, newest first, the token page shows (live ones are at most
# api.services.MAX_TOKENS_PER_ADMIN).
TOKEN_PAGE_ROWS = 200


def api_token_list(user: Any) -> QuerySet[ApiToken]:
    """Return the user's own tokens, newest first (nobody sees another admin's tokens here).

    Revoked tokens stay (their use is history); the token page shows the newest
    TOKEN_PAGE_ROWS.
    """
    if not is_admin(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(admin_id=user.pk).order_by("-created", "-id")


def api_token_for_key(key: str) -> ApiToken | None:
    """Return the token whose key this is, with its admin, or None (whatever its state)."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    token = ApiToken.objects.filter(prefix=prefix).first()
    if token is None or not matches(key, token.key_hash):
        return None
    # Read apart rather than joined: on MariaDB the admin table's collation (Postfix Admin's)
    # may differ from this table's, and such columns refuse to be compared.
    admin = Admin.objects.filter(pk=token.admin_id).first()
    if admin is None:
        return None
    token.admin = admin
    return token
