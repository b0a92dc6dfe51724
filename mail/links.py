"""Absolute links in e-mails, built from VIMBADMIN_BASE_URL and never from a request's Host.

A reset link built from the Host header goes wherever the request said (any port of an allowed
host passes ALLOWED_HOSTS). So links come from the configured base URL; only with DEBUG on, and
no base URL, does the request stand in (for a developer's own machine).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.http import HttpRequest

logger = logging.getLogger("vimbadmin.mail")


def base_url_problem(value: str) -> str:
    """Return why a base URL is unusable ("" when it is fine)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must start with https:// (or http://) and name a host"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return (
            "give only the scheme, host and port (e.g. https://mail-admin.example.org); "
            "the path comes from the application's own URL prefix"
        )
    return ""


def absolute_url(path: str, request: HttpRequest | None = None) -> str | None:
    """Return the link to `path` for an e-mail, or None (logged) when no base URL is usable."""
    base = (getattr(settings, "VIMBADMIN_BASE_URL", "") or "").strip()
    if base:
        problem = base_url_problem(base)
        if not problem:
            return base.rstrip("/") + path
        logger.error("VIMBADMIN_BASE_URL %r is unusable: %s; no link sent", base, problem)
        return None
    if settings.DEBUG and request is not None:
        return request.build_absolute_uri(path)
    logger.error(
        "VIMBADMIN_BASE_URL is not set: no link sent (set it to the address the admin is "
        "reached at, e.g. https://mail-admin.example.org)"
    )
    return None


@register(Tags.security, deploy=True)
def check_base_url(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Require a usable VIMBADMIN_BASE_URL in production: reset links are built from it."""
    base = (getattr(settings, "VIMBADMIN_BASE_URL", "") or "").strip()
    if not base:
        return [
            Error(
                "VIMBADMIN_BASE_URL is not set, so no password reset link can be mailed.",
                hint="Set it to the address the admin is reached at, "
                "e.g. VIMBADMIN_BASE_URL=https://mail-admin.example.org",
                id="mail.E001",
            )
        ]
    problem = base_url_problem(base)
    if problem:
        return [Error(f"VIMBADMIN_BASE_URL {base!r} is unusable: {problem}.", id="mail.E002")]
    if urlsplit(base).scheme != "https":
        return [
            Warning(
                "VIMBADMIN_BASE_URL is not https: reset links would travel in clear text.",
                id="mail.W001",
            )
        ]
    return []
