"""Normalise domains and addresses the way they are stored: lower-case, IDN as punycode."""

from __future__ import annotations

import re

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(value: str) -> str:
    """Return the stored (lower-case, punycode) form of a domain name typed in any script."""
    text = (value or "").strip().rstrip(".").lower()
    if not text:
        raise ValidationError(_("Enter a domain name."), code="required")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValidationError(
            _("“%(value)s” is not a valid domain name."), code="invalid", params={"value": value}
        ) from None
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            _("“%(value)s” is not a valid domain name."), code="invalid", params={"value": value}
        )
    return ascii_name


def to_unicode(domain: str) -> str:
    """Return a stored domain name for display, in Unicode."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def address_to_unicode(address: str) -> str:
    """Return a stored address for display, with its domain in Unicode."""
    local, sep, domain = address.rpartition("@")
    return f"{local}{sep}{to_unicode(domain)}" if sep else address


def normalize_address(value: str) -> str:
    """Return the stored form of a mail address: lower-case local part and punycode domain."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("Enter an e-mail address."), code="required")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid e-mail address: %(reason)s"),
            code="invalid",
            params={"value": value, "reason": str(exc)},
        ) from None
    return f"{result.local_part.lower()}@{normalize_domain(result.ascii_domain or result.domain)}"


def normalize_local_part(value: str, domain: str) -> str:
    """Return the stored local part for a new address in the given (stored) domain."""
    local = (value or "").strip().lower()
    if not local:
        raise ValidationError(_("Enter the part before the @."), code="required")
    if "@" in local:
        raise ValidationError(_("Enter only the part before the @."), code="invalid")
    return normalize_address(f"{local}@{domain}").rpartition("@")[0]


def normalize_target(value: str) -> str:
    """Return the stored form of an alias destination: an address or `@domain`."""
    text = (value or "").strip()
    if text.startswith("@"):
        return "@" + normalize_domain(text[1:])
    return normalize_address(text)
