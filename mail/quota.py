"""One unit for every quota: Postfix Admin's MB, whatever its quota multiplier makes it.

- 1 MB is VIMBADMIN_QUOTA_MULTIPLIER bytes (Postfix Admin's `quota_multiplier`, 1,024,000 by
  default); a bare number is MB. The other units step by 1024 from it: 1 GB = 1024 MB,
  1 TB = 1024 GB, 1 KB = 1/1024 MB; B is bytes. "100", "100M" and "100 MB" are the same.
- Typed, shown, in the domains' MB limits and in every message alike: what reads "100 MB" is
  100 times the multiplier bytes (binary "MiB"/"GiB" are refused, they would be another unit).
- 0 is unlimited; a domain with a per-mailbox maximum or a total quota refuses it.
- `mailbox.quota` holds bytes in a BIGINT, and so do a domain's summed quotas: no quota, and no
  domain's total, may pass MAX_QUOTA_BYTES; the domains' MB limits stop at max_quota_mb().
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The largest BIGINT: mailbox.quota, domain MB limits and the domain counters' totals.
MAX_QUOTA_BYTES = 2**63 - 1

_QUOTA = re.compile(r"^\s*([0-9]{1,30}(?:[.,][0-9]{1,30})?)\s*(?:([KMGT])B?|(B))?\s*$", re.I)
_UNIT_STEPS = {"K": -1, "M": 0, "G": 1, "T": 2}


def multiplier() -> int:
    """Return the bytes of one MB (Postfix Admin uses 1 when its multiplier is empty or 0)."""
    return settings.VIMBADMIN_QUOTA_MULTIPLIER or 1


def unit_bytes(unit: str) -> Fraction:
    """Return the bytes of one B, KB, MB, GB or TB (a KB may be a fraction of bytes)."""
    if unit == "B":
        return Fraction(1)
    return multiplier() * Fraction(1024) ** _UNIT_STEPS[unit[0]]


def mb_to_bytes(megabytes: int) -> int:
    """Convert MB (a domain's limits, Postfix Admin's quota unit) to bytes."""
    return megabytes * multiplier()


def max_quota_mb() -> int:
    """Return the most MB a limit may hold so that it still fits in bytes (MAX_QUOTA_BYTES)."""
    return MAX_QUOTA_BYTES // multiplier()


def _invalid() -> ValidationError:
    return ValidationError(
        _("Enter a size such as 500M, 2G or 0 for unlimited."),
        code="invalid",
    )


def parse_quota(text: str) -> int:
    """Return the bytes of a typed quota: a bare number is MB, 0 is unlimited."""
    match = _QUOTA.match(text or "")
    if not match:
        raise _invalid()
    try:
        number = Fraction(Decimal(match.group(1).replace(",", ".")))
    except InvalidOperation:
        raise _invalid() from None
    unit = (match.group(2) or match.group(3) or "M").upper()
    value = int(number * unit_bytes(unit))
    if number and not value:
        raise ValidationError(_("Enter at least 1 B, or 0 for unlimited."), code="min_value")
    if value > MAX_QUOTA_BYTES:
        raise ValidationError(
            _("The quota is too large: at most %(max)s.") % {"max": format_bytes(MAX_QUOTA_BYTES)},
            code="max_value",
        )
    return value


def format_bytes(value: int) -> str:
    """Show a byte count (usage, a quota) in the quota units, to one decimal: "97.7 MB"."""
    if value < 0:
        return "-"
    shown: Fraction | int = value
    name = "B"
    for unit in ("KB", "MB", "GB", "TB"):
        size = unit_bytes(unit)
        if size >= 1 and value >= size:
            shown, name = value / size, unit
    text = f"{float(shown):.1f}".removesuffix(".0") if name != "B" else str(value)
    return f"{text} {name}"


def format_quota(value: int) -> str:
    """Show a mailbox quota in bytes: 0 is unlimited, below 0 disabled (as Postfix Admin)."""
    if value == 0:
        return _("unlimited")
    if value < 0:
        return _("disabled")
    return format_bytes(value)


def format_mb(megabytes: int) -> str:
    """Show a domain's MB limit in the quota units: 0 is unlimited, -1 disabled."""
    return format_quota(mb_to_bytes(megabytes) if megabytes > 0 else megabytes)


def quota_text(value: int) -> str:
    """Write a byte quota so that typing it back gives the same bytes ("2048", "512K", "7B").

    Whole MB are written bare, as Postfix Admin and the domains' limits show them.
    """
    if value <= 0:
        return "0"
    for unit, suffix in (("MB", ""), ("KB", "K")):
        size = unit_bytes(unit)
        if size.denominator == 1 and value % size.numerator == 0:
            return f"{value // size.numerator}{suffix}"
    return f"{value}B"


def quota_help(*, unlimited: bool | None = None) -> str:
    """Explain the quota unit and whether 0 (unlimited) is allowed (None: it depends)."""
    text = _(
        "In MB of %(bytes)s bytes, as Postfix Admin counts, or with a unit: 500M, 2G, 1T "
        "(1 GB = 1024 MB)."
    ) % {"bytes": f"{multiplier():,}"}
    if unlimited is None:
        rule = _("0 means unlimited where the domain has no quota limit.")
    elif unlimited:
        rule = _("0 means unlimited.")
    else:
        rule = _("This domain has a quota limit: 0 (unlimited) is not allowed.")
    return f"{text} {rule}"
