"""TOTP codes as an authenticator app shows them, computed independently of the code under test.

Postfix Admin 4's parameters: a Base32 secret, HMAC-SHA-1, 6 digits, 30-second periods
(RFC 6238). Checked against the RFC's own test values in tests/test_twofactor_login.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time


def rfc6238(secret: str, at: float, *, offset: int = 0) -> str:
    """Return the 6-digit code for `secret` at time `at`, `offset` periods away."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(at // 30) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start : start + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_period(margin: float = 3.0) -> float:
    """Wait out the last `margin` seconds of a period, so a code computed now is checked in the
    same one; return the current time."""
    if time.time() % 30 > 30 - margin:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()
