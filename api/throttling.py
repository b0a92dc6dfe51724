"""Requests per token: VIMBADMIN_API_RATE (DRF's rate syntax), counted in Django's cache."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Limit each token to the configured rate (per process with the default local cache)."""

    scope = "api_token"

    def get_rate(self) -> str | None:
        return settings.VIMBADMIN_API_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        return f"vimbadmin-api-throttle-{token.pk}"
