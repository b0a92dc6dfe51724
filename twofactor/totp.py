"""TOTP codes exactly as Postfix Admin 4 makes and checks them, so one authenticator serves both.

Postfix Admin 4 (`model/TotpPf.php`, spomky-labs/otphp defaults) stores the secret in
`admin.totp_secret` / `mailbox.totp_secret` as plain, unpadded, upper-case Base32 and checks
RFC 6238 codes with HMAC-SHA-1, 6 digits and a 30-second period. Postfix Admin accepts only the
current period; here one period either side is accepted too (clocks of phones drift), and every
accepted period is remembered by the caller so that no code works twice.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time

import pyotp
import segno

DIGITS = 6
PERIOD = 30
# Periods accepted either side of the current one.
SKEW = 1
# 160 bits, RFC 4226's recommended key size; 32 Base32 characters, easy to type.
SECRET_BYTES = 20


def new_secret() -> str:
    """Return a fresh secret in Postfix Admin's encoding (unpadded upper-case Base32)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def normalize_secret(secret: str) -> str:
    """Return a stored or typed secret as Base32 without spaces, padding or lower case."""
    return "".join(secret.split()).rstrip("=").upper()


def is_valid_secret(secret: str) -> bool:
    """Tell whether a secret decodes as Base32 to at least 80 bits (RFC 4226's minimum)."""
    cleaned = normalize_secret(secret)
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        return False
    return len(key) >= 10


def current_step(now: float | None = None) -> int:
    """Return the number of the current 30-second period."""
    return int((time.time() if now is None else now) // PERIOD)


def code_at(secret: str, step: int) -> str:
    """Return the code of a period (HMAC-SHA-1, 6 digits, RFC 6238)."""
    return pyotp.TOTP(normalize_secret(secret), digits=DIGITS, interval=PERIOD).generate_otp(step)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """Return the period whose code was typed (within the skew), or None for a wrong code."""
    typed = "".join(code.split())
    if len(typed) != DIGITS or not typed.isdigit() or not is_valid_secret(secret):
        return None
    found = None
    here = current_step(now)
    # Every candidate is compared, so the answer takes as long whichever one matched.
    for step in range(here - SKEW, here + SKEW + 1):
        if hmac.compare_digest(code_at(secret, step), typed) and found is None:
            found = step
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(
        normalize_secret(secret), digits=DIGITS, interval=PERIOD, name=account, issuer=issuer
    ).provisioning_uri()


def qr_data_uri(uri: str) -> str:
    """Return the QR code of a URI as an SVG data: URI, drawn here (no external service)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))
