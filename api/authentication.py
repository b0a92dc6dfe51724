"""Token authentication for /api/v1/: `Authorization: Bearer <key>`, throttled like a login.

A request is its token's admin, as they are now: a deactivated admin's tokens stop at once,
and what the admin may reach is read afresh on every request (accounts.scoping), so a domain
taken from the admin is taken from every token of theirs. Wrong keys count against the client
address like wrong passwords (accounts.throttle), with the same fail2ban line.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts import throttle
from accounts.models import AuthEvent
from accounts.scoping import is_admin
from api.keys import key_prefix
from api.models import ApiToken
from api.selectors import api_token_for_key
from api.services import api_token_record_use
from core.context import acting_through, request_client_address

SCHEME = "Bearer"


class TokenFailed(exceptions.AuthenticationFailed):
    default_code = "invalid_token"


def token_label(token: ApiToken) -> str:
    """Return how the log names a token: its name and public prefix."""
    return f"API token {token.name} [{token.prefix}]"


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticate a request by its API key; sessions are never read here."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME.lower().encode():
            return None
        if len(parts) != 2:
            raise TokenFailed(_("Send the key as: Authorization: Bearer <key>."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise TokenFailed(_("The API key is not valid.")) from None
        address = request_client_address(request._request)
        # Held back per client address and per key prefix, like a login per address and account.
        # A key has 256 random bits: it is checked first and counted only when wrong (one read
        # for a right key, see throttle.look).
        attempt = throttle.look(
            realm=AuthEvent.Realm.ADMIN,
            username=f"api-token:{key_prefix(key) or '-'}",
            client_address=address,
        )
        if not attempt.allowed:
            raise exceptions.Throttled(wait=attempt.retry_after)
        token = api_token_for_key(key)
        if token is None or not token.is_usable or not is_admin(token.admin):
            throttle.fail_looked(attempt)
            raise TokenFailed(_("The API key is not valid, has expired or was revoked."))
        throttle.succeed_looked(attempt)
        api_token_record_use(token=token, address=address)
        # Every log row written for this request names the token (pfa.audit).
        acting_through.set(token_label(token))
        return token.admin, token

    def authenticate_header(self, request: Request) -> str:
        return f'{SCHEME} realm="api"'
