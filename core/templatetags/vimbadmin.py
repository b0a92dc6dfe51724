"""Template helpers: role checks and display of stored (punycode) names."""

from typing import Any

from django import template

from accounts.scoping import is_superadmin as _is_superadmin
from core.listing.tables import display_address, display_domain
from mail.names import text_to_unicode
from mail.names import visible_controls as _visible_controls
from mail.quota import format_bytes, format_quota
from pfa.audit import action_label

register = template.Library()


@register.filter
def undo_of(message: Any) -> dict[str, str] | None:
    """Return the undo action a flash message offers ({active, url}), or None.

    core.views.ToggleActiveView tags its message "undo <0|1> <path of the toggle URL>".
    """
    parts = str(getattr(message, "extra_tags", "") or "").split(" ", 2)
    if len(parts) != 3 or parts[0] != "undo" or parts[1] not in ("0", "1"):
        return None
    url = parts[2]
    if not url.startswith("/") or url.startswith("//") or any(c in url for c in '"<> \\'):
        return None
    return {"active": parts[1], "url": url}


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
def unicode_text(value: str) -> str:
    """Show free text (a log row's data) with its punycode domains in Unicode."""
    return text_to_unicode(value or "")


@register.filter
def log_action_label(value: str) -> str:
    """Show a log row's action key as words, as the log page does."""
    return action_label(value or "")


@register.filter
def bytes_human(value: int | None) -> str:
    return format_bytes(int(value or 0))


@register.filter
def visible_controls(value: str | None) -> str:
    return _visible_controls(value or "")


@register.filter
def quota_human(value: int | None) -> str:
    return format_quota(int(value or 0))
