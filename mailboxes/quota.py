"""Quota input with units: "500M", "2G", "1.5 GB", "0" (unlimited); stored as bytes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_UNITS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_QUOTA = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:([KMGT])I?B?|(B))?\s*$", re.IGNORECASE)


def mb_to_bytes(megabytes: int) -> int:
    """Convert Postfix Admin's quota unit (MB times the quota multiplier) to bytes."""
    return megabytes * (settings.VIMBADMIN_QUOTA_MULTIPLIER or 1)


def bytes_to_mb(value: int) -> int:
    """Convert bytes to Postfix Admin's quota unit, rounding down."""
    return value // (settings.VIMBADMIN_QUOTA_MULTIPLIER or 1)


def parse_quota(text: str) -> int:
    """Return bytes for a typed quota; a bare number is in MB, 0 means unlimited."""
    match = _QUOTA.match(text or "")
    if not match:
        raise ValidationError(
            _("Enter a size such as 500M, 2G or 0 for unlimited."), code="invalid"
        )
    number_text = match.group(1).replace(",", ".")
    unit = (match.group(2) or match.group(3) or "").upper()
    try:
        number = Decimal(number_text)
    except InvalidOperation:
        raise ValidationError(_("Enter a size such as 500M, 2G or 0 for unlimited.")) from None
    if not unit:
        return int(number * mb_to_bytes(1))
    return int(number * _UNITS[unit])


def format_bytes(value: int) -> str:
    """Show a byte count the way people read it (binary units)."""
    if value <= 0:
        return _("unlimited") if value == 0 else "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            shown = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{shown} {unit}"
        value /= 1024
    return str(value)
