"""Template helpers: role checks and display of stored (punycode) names."""

from typing import Any

from django import template

from accounts.scoping import is_superadmin as _is_superadmin
from core.listing.tables import display_address, display_domain
from mail.names import visible_controls as _visible_controls
from mail.quota import format_bytes, format_quota

register = template.Library()


@register.filter
def is_superadmin(user: Any) -> bool:
    return _is_superadmin(user)


@register.filter
def unicode_domain(value: str) -> str:
    return display_domain(value or "")


@register.filter
def unicode_address(value: str) -> str:
    return display_address(value or "")


@register.filter
def bytes_human(value: int | None) -> str:
    return format_bytes(int(value or 0))


@register.filter
def visible_controls(value: str | None) -> str:
    return _visible_controls(value or "")


@register.filter
def quota_human(value: int | None) -> str:
    return format_quota(int(value or 0))
