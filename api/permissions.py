"""What a token may do: read always; write unless read-only."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.scoping import is_admin
from api.models import ApiToken


class ReadOnlyToken(exceptions.PermissionDenied):
    default_detail = _("This API token is read-only.")
    default_code = "read_only_token"


class TokenPermission(BasePermission):
    """Let an active admin's token through; a read-only token only for reads."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or not is_admin(request.user):
            return False
        if token.read_only and request.method not in SAFE_METHODS:
            raise ReadOnlyToken()
        return True
