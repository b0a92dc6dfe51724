"""Mailbox and admin password hashing compatible with Dovecot and Postfix Admin.

Hashes are written with a Dovecot ``{SCHEME}`` prefix so Dovecot, Postfix Admin and
this application all read the same column. Verification accepts every format
Postfix Admin and Dovecot have historically stored, so existing databases keep
working and old hashes can be upgraded on the next successful login.

Passwords are never logged by this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from passlib.hash import (
    argon2,
    bcrypt,
    des_crypt,
    hex_md5,
    hex_sha1,
    hex_sha256,
    hex_sha512,
    ldap_salted_md5,
    ldap_salted_sha1,
    ldap_salted_sha256,
    ldap_salted_sha512,
    md5_crypt,
    sha256_crypt,
    sha512_crypt,
)

from mail import pfa_encrypt

__all__ = [
    "ARGON2_MEMORY_COST",
    "ARGON2_PARALLELISM",
    "ARGON2_TIME_COST",
    "BCRYPT_ROUNDS",
    "DEFAULT_SCHEME",
    "SHA_CRYPT_ROUNDS",
    "WRITABLE_SCHEMES",
    "check_scheme",
    "check_vimbadmin_scheme",
    "generate_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
    "vimbadmin_mailbox_hash",
]

DEFAULT_SCHEME = "ARGON2ID"

# Schemes new hashes may be written in; all of them are understood by Dovecot 2.3
# and by Postfix Admin.
WRITABLE_SCHEMES: tuple[str, ...] = (
    "ARGON2ID",
    "ARGON2I",
    "BLF-CRYPT",
    "SHA512-CRYPT",
    "SHA256-CRYPT",
    "SSHA512",
)

# PHP's password_hash() defaults (m=64 MiB, t=4, p=1), one step above Dovecot's t=3:
# a login costs what Postfix Admin's own hashes cost (tens of milliseconds on a
# current server CPU), and Dovecot (libsodium) and PHP verify these hashes unchanged.
ARGON2_MEMORY_COST = 65536  # KiB
ARGON2_TIME_COST = 4
ARGON2_PARALLELISM = 1
# Salt and tag sizes used by both PHP and libsodium.
ARGON2_SALT_SIZE = 16
ARGON2_DIGEST_SIZE = 32

# PHP's PASSWORD_BCRYPT default cost up to PHP 8.3; Dovecot's own default (5) is too weak.
BCRYPT_ROUNDS = 10
# Implicit glibc default: the hash carries no "rounds=" field, as doveadm and PHP write it.
SHA_CRYPT_ROUNDS = 5000
# Salt size for SSHA512; passlib accepts 4 to 16 bytes, Dovecot any length.
SSHA512_SALT_SIZE = 16

# bcrypt only ever reads the first 72 bytes. PHP and libc silently drop the rest,
# while the bcrypt 5 Python package raises instead, so the secret is cut here to
# stay byte-compatible with hashes written by PHP and Dovecot.
BCRYPT_MAX_BYTES = 72

# The longest password any form accepts. passlib refuses secrets over 4096 bytes, and 1,024
# characters are at most 4,096 bytes of UTF-8, so a password within it always reaches a hash.
MAX_PASSWORD_LENGTH = 1024

# Look-alike characters (0/O/o, 1/l/I) are left out so a password read aloud or
# from a printout is typed correctly. 64 symbols give exactly 6 bits each.
UNAMBIGUOUS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789#%+-.=@_"
MIN_PASSWORD_ENTROPY_BITS = 96

_argon2id = argon2.using(
    type="id",
    memory_cost=ARGON2_MEMORY_COST,
    rounds=ARGON2_TIME_COST,
    parallelism=ARGON2_PARALLELISM,
    salt_size=ARGON2_SALT_SIZE,
    digest_size=ARGON2_DIGEST_SIZE,
)
_argon2i = _argon2id.using(type="i")
# "$2y$" rather than passlib's default "$2b$": doveadm and PHP's password_hash() write
# it, and every crypt() Dovecot 2.3 may be linked against reads it.
_bcrypt = bcrypt.using(ident="2y", rounds=BCRYPT_ROUNDS)
_sha512_crypt = sha512_crypt.using(rounds=SHA_CRYPT_ROUNDS)
_sha256_crypt = sha256_crypt.using(rounds=SHA_CRYPT_ROUNDS)
_ssha512 = ldap_salted_sha512.using(salt_size=SSHA512_SALT_SIZE)

# Anything a corrupt or hostile stored value can make passlib, binascii or the
# backends raise; verification must turn all of these into a plain "no".
_MALFORMED = (ValueError, TypeError, OverflowError, NotImplementedError)

_PREFIX_RE = re.compile(r"\{([A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)?)\}(.*)", re.DOTALL)
_ENCODINGS = {"B64": "B64", "BASE64": "B64", "HEX": "HEX"}
_DES_CRYPT_RE = re.compile(r"[./0-9A-Za-z]{13}")
_HEX_MD5_RE = re.compile(r"[0-9a-fA-F]{32}")

# passlib ships no type information, so its handler classes are typed loosely.
_Handler = Any
# (secret, payload after the prefix, ".B64"/".HEX" encoding or None) -> match.
_Verifier = Callable[[bytes, str, str | None], bool]

# PHP's and libc's SHA-crypt take any salt character but "$". Postfix Admin's sha512.b64 draws
# its salts from base64, so about one hash in five holds a "+", which passlib's alphabet refuses.
_ANY_SALT_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "$")
_sha512_crypt_any_salt = type("sha512_crypt", (sha512_crypt,), {"salt_chars": _ANY_SALT_CHARS})
_sha256_crypt_any_salt = type("sha256_crypt", (sha256_crypt,), {"salt_chars": _ANY_SALT_CHARS})

# Crypt strings by leading identifier; "$argon2i$" cannot match "$argon2id$".
_CRYPT_PREFIXES: tuple[tuple[str, _Handler], ...] = (
    ("$1$", md5_crypt),
    ("$2y$", bcrypt),
    ("$2b$", bcrypt),
    ("$2a$", bcrypt),
    ("$5$", _sha256_crypt_any_salt),
    ("$6$", _sha512_crypt_any_salt),
    ("$argon2id$", argon2),
    ("$argon2i$", argon2),
)


def check_scheme(name: str) -> str:
    """Return the canonical writable scheme name or raise ValueError."""
    if not isinstance(name, str):
        raise ValueError(f"Password scheme must be a string, not {type(name).__name__}.")
    canonical = name.strip().upper()
    if canonical not in WRITABLE_SCHEMES:
        raise ValueError(
            f"Unknown or read-only password scheme {name!r}; "
            f"choose one of: {', '.join(WRITABLE_SCHEMES)}."
        )
    return canonical


def hash_password(raw: str, *, scheme: str | None = None) -> str:
    """Hash a password in the given or configured scheme, with its {SCHEME} prefix."""
    if not isinstance(raw, str):
        raise TypeError(f"Password must be a string, not {type(raw).__name__}.")
    # An empty password is still hashed (callers use it to spend equal time on
    # unknown users); verify_password() never accepts it anyway.
    if scheme is None:
        beside = pfa_encrypt.configured()
        if beside is not None:
            return _hash_as(beside.write, raw)
    target = _resolve_scheme(scheme)
    secret = raw.encode("utf-8")
    if target == "ARGON2ID":
        hashed = _argon2id.hash(secret)
    elif target == "ARGON2I":
        hashed = _argon2i.hash(secret)
    elif target == "BLF-CRYPT":
        hashed = _bcrypt.hash(secret[:BCRYPT_MAX_BYTES])
    elif target == "SHA512-CRYPT":
        hashed = _sha512_crypt.hash(secret)
    elif target == "SHA256-CRYPT":
        hashed = _sha256_crypt.hash(secret)
    else:
        # passlib already writes the "{SSHA512}" prefix itself.
        return _ssha512.hash(secret)
    return f"{{{target}}}{hashed}"


def verify_password(raw: str, stored: str) -> bool:
    """Check a password against any stored Dovecot or Postfix Admin hash format."""
    # An empty password is never accepted, even against "{PLAIN}" with nothing after it.
    if not isinstance(raw, str) or not raw or not isinstance(stored, str) or not stored:
        return False
    try:
        secret = raw.encode("utf-8")
        parsed = _split_prefix(stored)
        if parsed is None:
            return _verify_unprefixed(secret, stored)
        name, encoding, payload = parsed
        verifier = _VERIFIERS.get(name)
        if verifier is None:
            return False
        return verifier(secret, payload, encoding)
    except _MALFORMED:
        return False


def needs_rehash(stored: str, *, scheme: str | None = None) -> bool:
    """Tell whether a stored hash should be replaced by one in the configured scheme."""
    if scheme is None:
        beside = pfa_encrypt.configured()
        if beside is not None:
            return _needs_rehash_beside_pfa(stored, beside)
    target = _resolve_scheme(scheme)
    if not isinstance(stored, str) or not stored:
        return True
    parsed = _split_prefix(stored)
    if parsed is None:
        return True
    name, encoding, payload = parsed
    # Encoded variants (".B64", ".HEX") are rewritten in the plain form.
    if name != target or encoding is not None:
        return True
    try:
        return _below_current_cost(target, payload)
    except _MALFORMED:
        return True


def generate_password(length: int = 16) -> str:
    """Generate a random password of at least 96 bits from an unambiguous alphabet."""
    bits_per_char = math.log2(len(UNAMBIGUOUS_ALPHABET))
    minimum = math.ceil(MIN_PASSWORD_ENTROPY_BITS / bits_per_char)
    if length < minimum:
        raise ValueError(f"Password length must be at least {minimum} characters.")
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))


def _resolve_scheme(scheme: str | None) -> str:
    if scheme is None:
        # Read at call time so override_settings and late configuration take effect.
        scheme = getattr(settings, "VIMBADMIN_PASSWORD_SCHEME", DEFAULT_SCHEME)
    return check_scheme(scheme)


def _split_prefix(stored: str) -> tuple[str, str | None, str] | None:
    """Split "{NAME.ENC}payload" into upper-case name, encoding and payload."""
    match = _PREFIX_RE.fullmatch(stored)
    if match is None:
        return None
    label, payload = match.groups()
    name, _, suffix = label.upper().partition(".")
    if not suffix:
        return name, None, payload
    encoding = _ENCODINGS.get(suffix)
    if encoding is None:
        # Unknown suffix: keep the whole label so no verifier matches it.
        return label.upper(), None, payload
    return name, encoding, payload


def _decode_bytes(payload: str, encoding: str | None) -> bytes:
    if encoding == "HEX":
        return bytes.fromhex(payload)
    return base64.b64decode(payload, validate=True)


def _decode_text(payload: str, encoding: str | None) -> str:
    if encoding is None:
        return payload
    return _decode_bytes(payload, encoding).decode("ascii")


def _verify_unprefixed(secret: bytes, stored: str) -> bool:
    # Postfix Admin's "md5crypt", "system"/"mysql_encrypt" and "md5" settings store
    # hashes without a prefix; bare plaintext is deliberately not accepted.
    if _crypt_handler(stored) is not None:
        return _verify_crypt(secret, stored)
    if _HEX_MD5_RE.fullmatch(stored):
        return hex_md5.verify(secret, stored.lower())
    return False


def _crypt_handler(crypt_string: str) -> _Handler | None:
    for ident, handler in _CRYPT_PREFIXES:
        if crypt_string.startswith(ident):
            return handler
    if _DES_CRYPT_RE.fullmatch(crypt_string):
        return des_crypt
    return None


def _verify_crypt(secret: bytes, crypt_string: str) -> bool:
    handler = _crypt_handler(crypt_string)
    if handler is None:
        return False
    if handler is bcrypt:
        secret = secret[:BCRYPT_MAX_BYTES]
    return bool(handler.verify(secret, crypt_string))


def _verify_any_crypt(secret: bytes, payload: str, encoding: str | None) -> bool:
    # Dovecot checks CRYPT and the *-CRYPT schemes with libc crypt(), so any
    # crypt string is valid after those prefixes.
    return _verify_crypt(secret, _decode_text(payload, encoding))


def _verify_md5_crypt(secret: bytes, payload: str, encoding: str | None) -> bool:
    # Dovecot's MD5-CRYPT uses its own implementation that only reads "$1$".
    crypt_string = _decode_text(payload, encoding)
    return crypt_string.startswith("$1$") and _verify_crypt(secret, crypt_string)


def _verify_argon2(secret: bytes, payload: str, encoding: str | None) -> bool:
    # libsodium accepts both variants after either ARGON2I or ARGON2ID.
    crypt_string = _decode_text(payload, encoding)
    return crypt_string.startswith(("$argon2i$", "$argon2id$")) and _verify_crypt(
        secret, crypt_string
    )


def _verify_md5(secret: bytes, payload: str, encoding: str | None) -> bool:
    # Dovecot's {MD5} is md5-crypt, courier-authlib's {MD5} is a base64 MD5 digest;
    # only the former starts with "$1$", which is also how Dovecot tells them apart.
    if encoding is None and not payload.startswith("$1$"):
        return _verify_digest("md5", secret, payload, None)
    return _verify_md5_crypt(secret, payload, encoding)


def _verify_digest(algorithm: str, secret: bytes, payload: str, encoding: str | None) -> bool:
    size = hashlib.new(algorithm).digest_size
    if encoding is None:
        # Like Dovecot, tell hex from base64 by length: they never collide for
        # MD5, SHA1, SHA256 or SHA512 digests.
        encoding = "HEX" if len(payload) == 2 * size else "B64"
    expected = _decode_bytes(payload, encoding)
    if len(expected) != size:
        return False
    # Normalise to hex so passlib's hex_* handlers do the constant-time compare.
    return bool(_HEX_HANDLERS[size].verify(secret, expected.hex()))


def _verify_salted(
    handler: _Handler,
    algorithm: str,
    secret: bytes,
    payload: str,
    encoding: str | None,
) -> bool:
    data = _decode_bytes(payload, encoding)
    size = hashlib.new(algorithm).digest_size
    salt = data[size:]
    if not salt:
        return False
    if handler.min_salt_size <= len(salt) <= handler.max_salt_size:
        canonical = handler.ident + base64.b64encode(data).decode("ascii")
        return bool(handler.verify(secret, canonical))
    # passlib refuses salts outside 4..16 bytes, but Dovecot accepts any length,
    # so those rare hashes are checked here.
    return hmac.compare_digest(hashlib.new(algorithm, secret + salt).digest(), data[:size])


def _verify_plain(secret: bytes, payload: str, encoding: str | None) -> bool:
    expected = payload.encode("utf-8") if encoding is None else _decode_bytes(payload, encoding)
    return hmac.compare_digest(secret, expected)


def _verify_scram(digest: str, secret: bytes, payload: str, encoding: str | None) -> bool:
    # passlib's scram handler uses its own "$scram$" layout and stores the salted
    # password rather than RFC 5802 StoredKey, so Dovecot's format is checked here:
    # "iterations,salt,StoredKey,ServerKey", all base64.
    if encoding is not None:
        return False
    iterations_text, salt_b64, stored_key_b64, _server_key = payload.split(",")
    iterations = int(iterations_text)
    if iterations < 1:
        return False
    salt = _decode_bytes(salt_b64, None)
    stored_key = _decode_bytes(stored_key_b64, None)
    salted = hashlib.pbkdf2_hmac(digest, secret, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    return hmac.compare_digest(hashlib.new(digest, client_key).digest(), stored_key)


def _below_current_cost(target: str, payload: str) -> bool:
    if target in ("ARGON2ID", "ARGON2I"):
        expected_type = "id" if target == "ARGON2ID" else "i"
        parsed = argon2.from_string(payload)
        return (
            parsed.type != expected_type
            or parsed.version < 0x13
            or parsed.memory_cost < ARGON2_MEMORY_COST
            or parsed.rounds < ARGON2_TIME_COST
        )
    if target == "BLF-CRYPT":
        return not payload.startswith("$2y$") or bcrypt.from_string(payload).rounds < BCRYPT_ROUNDS
    if target in ("SHA512-CRYPT", "SHA256-CRYPT"):
        handler = sha512_crypt if target == "SHA512-CRYPT" else sha256_crypt
        ident = "$6$" if target == "SHA512-CRYPT" else "$5$"
        if not payload.startswith(ident):
            return True
        return handler.from_string(payload).rounds < SHA_CRYPT_ROUNDS
    # SSHA512 has no cost parameter; only a broken value needs replacing.
    data = base64.b64decode(payload, validate=True)
    return len(data) <= hashlib.new("sha512").digest_size


# passlib hex handlers by digest size in bytes (MD5, SHA1, SHA256, SHA512).
_HEX_HANDLERS: dict[int, _Handler] = {16: hex_md5, 20: hex_sha1, 32: hex_sha256, 64: hex_sha512}


def _digest_verifier(algorithm: str) -> _Verifier:
    return lambda secret, payload, encoding: _verify_digest(algorithm, secret, payload, encoding)


def _salted_verifier(handler: _Handler, algorithm: str) -> _Verifier:
    return lambda secret, payload, encoding: _verify_salted(
        handler, algorithm, secret, payload, encoding
    )


def _scram_verifier(digest: str) -> _Verifier:
    return lambda secret, payload, encoding: _verify_scram(digest, secret, payload, encoding)


# Scheme names as Dovecot and courier-authlib spell them, upper-cased.
_VERIFIERS: dict[str, _Verifier] = {
    "CRYPT": _verify_any_crypt,
    "DES-CRYPT": _verify_any_crypt,
    "SHA256-CRYPT": _verify_any_crypt,
    "SHA512-CRYPT": _verify_any_crypt,
    "BLF-CRYPT": _verify_any_crypt,
    "MD5-CRYPT": _verify_md5_crypt,
    "ARGON2I": _verify_argon2,
    "ARGON2ID": _verify_argon2,
    "MD5": _verify_md5,
    "PLAIN-MD5": _digest_verifier("md5"),
    "LDAP-MD5": _digest_verifier("md5"),
    # courier-authlib's hex MD5.
    "MD5RAW": _digest_verifier("md5"),
    "SHA": _digest_verifier("sha1"),
    "SHA1": _digest_verifier("sha1"),
    "SHA256": _digest_verifier("sha256"),
    "SHA512": _digest_verifier("sha512"),
    "SMD5": _salted_verifier(ldap_salted_md5, "md5"),
    "SSHA": _salted_verifier(ldap_salted_sha1, "sha1"),
    "SSHA256": _salted_verifier(ldap_salted_sha256, "sha256"),
    "SSHA512": _salted_verifier(ldap_salted_sha512, "sha512"),
    "PLAIN": _verify_plain,
    "CLEAR": _verify_plain,
    "CLEARTEXT": _verify_plain,
    "SCRAM-SHA-1": _scram_verifier("sha1"),
    "SCRAM-SHA-256": _scram_verifier("sha256"),
}


# Beside Postfix Admin: VIMBADMIN_PFA_ENCRYPT names the format written (mail.pfa_encrypt), and
# a login re-hashes only what that Postfix Admin cannot verify or what is weaker.

# The crypt string of each family, at the configured cost or php_crypt's difficulty.
_CRYPT_WRITERS: dict[str, Callable[[bytes, int | None], str]] = {
    pfa_encrypt.ARGON2ID: lambda secret, cost: _argon2id.hash(secret),
    pfa_encrypt.ARGON2I: lambda secret, cost: _argon2i.hash(secret),
    pfa_encrypt.BLF_CRYPT: lambda secret, cost: _bcrypt.using(rounds=cost or BCRYPT_ROUNDS).hash(
        secret[:BCRYPT_MAX_BYTES]
    ),
    pfa_encrypt.SHA512_CRYPT: lambda secret, cost: _sha512_crypt.using(
        rounds=cost or SHA_CRYPT_ROUNDS
    ).hash(secret),
    pfa_encrypt.SHA256_CRYPT: lambda secret, cost: _sha256_crypt.using(
        rounds=cost or SHA_CRYPT_ROUNDS
    ).hash(secret),
    pfa_encrypt.MD5_CRYPT: lambda secret, cost: md5_crypt.hash(secret),
    pfa_encrypt.DES_CRYPT: lambda secret, cost: des_crypt.hash(secret),
}


def _hash_as(fmt: pfa_encrypt.WriteFormat, raw: str) -> str:
    """Hash a password in the layout Postfix Admin stores for its encrypt value."""
    if fmt.prefix == f"{{{fmt.family}}}" and fmt.family in WRITABLE_SCHEMES and not fmt.cost:
        return hash_password(raw, scheme=fmt.family)
    secret = raw.encode("utf-8")
    if fmt.digest:
        # Only the weak encrypt values (md5, courier-authlib) need these, and only for new
        # passwords; the system check warns about them.
        algorithm = "md5" if fmt.family == pfa_encrypt.MD5 else "sha1"
        digest = hashlib.new(algorithm, secret, usedforsecurity=False).digest()
        text = digest.hex() if fmt.digest == "hex" else base64.b64encode(digest).decode("ascii")
        return fmt.prefix + text
    crypt_string = _CRYPT_WRITERS[fmt.family](secret, fmt.cost)
    if fmt.b64:
        crypt_string = base64.b64encode(crypt_string.encode("ascii")).decode("ascii")
    return fmt.prefix + crypt_string


def _needs_rehash_beside_pfa(stored: str, beside: pfa_encrypt.PfaEncrypt) -> bool:
    if not beside.rehash_on_login or not isinstance(stored, str):
        return False
    if not pfa_encrypt.keeps(beside, stored):
        return True
    found = pfa_encrypt.recognise(stored)
    if found.family != beside.write.family:
        return False
    try:
        return _below_cost(beside.write, found.crypt)
    except _MALFORMED:
        return True


def _below_cost(fmt: pfa_encrypt.WriteFormat, crypt_string: str) -> bool:
    if fmt.family in (pfa_encrypt.ARGON2ID, pfa_encrypt.ARGON2I):
        return _below_current_cost(fmt.family, crypt_string)
    if fmt.family == pfa_encrypt.BLF_CRYPT:
        return bool(bcrypt.from_string(crypt_string).rounds < (fmt.cost or BCRYPT_ROUNDS))
    if fmt.family in (pfa_encrypt.SHA512_CRYPT, pfa_encrypt.SHA256_CRYPT):
        sha512 = fmt.family == pfa_encrypt.SHA512_CRYPT
        handler = _sha512_crypt_any_salt if sha512 else _sha256_crypt_any_salt
        return bool(handler.from_string(crypt_string).rounds < (fmt.cost or SHA_CRYPT_ROUNDS))
    return False


# App passwords (Postfix Admin 4's mailbox_app_password) are generated with about 140 bits, so an
# unsalted SHA-512 cannot be reversed by trying; being deterministic, it lets Dovecot's SQL
# passdb find the matching row by hashing the typed password (mailserver/configs.py), the
# comparison Postfix Admin's documented query makes (its issue #802 for salted schemes).
APP_PASSWORD_SCHEME = "{SHA512.HEX}"  # noqa: S105 (a scheme name)


def app_password_hash(raw: str) -> str:
    """Return the stored form of a generated app password, the one Dovecot's query recomputes."""
    return APP_PASSWORD_SCHEME + hashlib.sha512(raw.encode("utf-8")).hexdigest()


# ViMbAdmin 3 stores mailbox hashes without their {SCHEME} prefix, in the one scheme its
# `defaults.mailbox.password_scheme` names; an import gives each hash back the prefix that
# Dovecot and verify_password() read. Salted hex digests with ViMbAdmin's global salt are
# re-encoded as Dovecot's salted schemes (digest followed by the salt), which is the same hash.

VIMBADMIN_SCHEMES: tuple[str, ...] = (
    "plain",
    "plaintext",
    "md5",
    "md5-salted",
    "md5.salted",
    "sha1",
    "sha1-salted",
    "sha1.salted",
    "crypt:md5",
    "crypt:blowfish",
    "crypt:sha256",
    "crypt:sha512",
    "dovecot:<SCHEME>",
)
_VIMBADMIN_CRYPT_SHAPES = (
    ("$1$", "MD5-CRYPT"),
    ("$2a$", "BLF-CRYPT"),
    ("$2b$", "BLF-CRYPT"),
    ("$2y$", "BLF-CRYPT"),
    ("$5$", "SHA256-CRYPT"),
    ("$6$", "SHA512-CRYPT"),
    ("$argon2id$", "ARGON2ID"),
    ("$argon2i$", "ARGON2I"),
)
_HEX_SHA1_RE = re.compile(r"[0-9a-fA-F]{40}")
_DOVECOT_SCHEME_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]*(?:\.(?:B64|BASE64|HEX))?")


def check_vimbadmin_scheme(scheme: str, salt: str | None) -> tuple[str, ...]:
    """Return ViMbAdmin password_scheme values (comma-separated, the current one first, then
    any older one still in the database) normalised, or raise ValueError saying why."""
    found = []
    for part in scheme.split(","):
        value = part.strip()
        lowered = value.lower()
        if lowered.startswith("dovecot:"):
            name = value.split(":", 1)[1].strip().upper()
            if not _DOVECOT_SCHEME_RE.fullmatch(name):
                raise ValueError(
                    f"{value!r} does not name a Dovecot scheme (e.g. dovecot:BLF-CRYPT)."
                )
            found.append(f"dovecot:{name}")
            continue
        if lowered not in VIMBADMIN_SCHEMES:
            raise ValueError(
                f"Unknown ViMbAdmin password scheme {value!r}; use the value of "
                f"defaults.mailbox.password_scheme: {', '.join(VIMBADMIN_SCHEMES)}."
            )
        if lowered in ("md5-salted", "sha1-salted") and not salt:
            raise ValueError(
                f"The scheme {lowered} needs ViMbAdmin's global salt: pass --password-salt with "
                "the value of defaults.mailbox.password_salt."
            )
        found.append(lowered)
    if not found:
        raise ValueError("Give ViMbAdmin's password scheme, e.g. dovecot:BLF-CRYPT.")
    return tuple(found)


# Dovecot schemes whose hashes are crypt() strings, recognised by their shape.
_CRYPT_FAMILY = frozenset(
    {"CRYPT", "DES-CRYPT", "MD5-CRYPT", "BLF-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT"}
    | {"ARGON2I", "ARGON2ID"}
)


def vimbadmin_mailbox_hash(
    stored: str, schemes: tuple[str, ...], *, salt: str | None = None
) -> str:
    """Give a ViMbAdmin 3 mailbox hash the {SCHEME} prefix its scheme implies.

    `schemes` come from check_vimbadmin_scheme(); each hash is read as the first of them its
    shape fits (crypt() strings by their identifier, md5 and sha1 as hex digests, plain text
    last). A hash that already carries a prefix Dovecot knows is kept. Raise ValueError when
    no scheme fits.
    """
    parsed = _split_prefix(stored)
    if parsed is not None and parsed[0] in _VERIFIERS:
        return stored
    crypt_name = next(
        (name for ident, name in _VIMBADMIN_CRYPT_SHAPES if stored.startswith(ident)), None
    )
    for scheme in schemes:
        dovecot = scheme.split(":", 1)[1] if scheme.startswith("dovecot:") else None
        if scheme.startswith("crypt:") or (dovecot and dovecot.split(".")[0] in _CRYPT_FAMILY):
            if crypt_name:
                return f"{{{crypt_name}}}{stored}"
            continue
        if dovecot:
            return f"{{{dovecot}}}{stored}"
        if scheme in ("plain", "plaintext"):
            return f"{{PLAIN}}{stored}"
        if scheme.startswith("md5") and _HEX_MD5_RE.fullmatch(stored):
            if scheme == "md5":
                return f"{{PLAIN-MD5}}{stored.lower()}"
            return _salted_digest("SMD5", stored, salt if scheme == "md5-salted" else scheme)
        if scheme.startswith("sha1") and _HEX_SHA1_RE.fullmatch(stored):
            if scheme == "sha1":
                return f"{{SHA1.HEX}}{stored.lower()}"
            return _salted_digest("SSHA", stored, salt if scheme == "sha1-salted" else scheme)
    raise ValueError(f"the stored hash fits none of the schemes {', '.join(schemes)}")


def _salted_digest(name: str, hex_digest: str, salt: str | None) -> str:
    # Dovecot's SMD5 / SSHA: base64(digest + salt), exactly ViMbAdmin's digest of password+salt.
    data = bytes.fromhex(hex_digest) + (salt or "").encode("utf-8")
    return f"{{{name}}}{base64.b64encode(data).decode('ascii')}"


def vimbadmin_scheme_label(prefixed: str) -> str:
    """Name the scheme of a prefixed hash for the import report, e.g. BLF-CRYPT."""
    parsed = _split_prefix(prefixed)
    return parsed[0] if parsed else "unknown"
