"""Template helpers: role checks and display of stored (punycode) names."""

from typing import Any

from django import template

from accounts.scoping import is_superadmin as _is_superadmin
from domains.names import address_to_unicode, to_unicode
from mailboxes.quota import format_bytes

register = template.Library()


@register.filter
def is_superadmin(user: Any) -> bool:
    return _is_superadmin(user)


@register.filter
def unicode_domain(value: str) -> str:
    return to_unicode(value or "")


@register.filter
def unicode_address(value: str) -> str:
    return address_to_unicode(value or "")


@register.filter
def bytes_human(value: int | None) -> str:
    return format_bytes(int(value or 0))
