"""The form of an API key: `vimb_<prefix>_<secret>`, found by its prefix, checked by its hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "vimb_"
_KEY = re.compile(r"vimb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def new_key() -> tuple[str, str]:
    """Return a fresh key and its public prefix (256 random bits in the secret part)."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_hash(key: str) -> str:
    """Return what is stored of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def key_prefix(key: str) -> str | None:
    """Return the public prefix of a well-formed key, else None."""
    found = _KEY.fullmatch(key)
    return found.group(1) if found else None


def matches(key: str, stored_hash: str) -> bool:
    """Tell in constant time whether a key is the one whose hash is stored."""
    return hmac.compare_digest(key_hash(key), stored_hash)
