"""Postfix Admin's `$CONF['encrypt']`, and the hash format that keeps its logins working.

When Postfix Admin runs on the same database, a password this project stores must be one that
Postfix Admin's own login can check, or that user is locked out of it. `VIMBADMIN_PFA_ENCRYPT`
names Postfix Admin's encrypt value ("none": no Postfix Admin beside this project). This module
turns it into:

* the format new hashes are written in, laid out as Postfix Admin stores it (bare `$1$…` for
  `md5crypt`, `{SHA512-CRYPT}$6$…` for `dovecot:SHA512-CRYPT`, …);
* which stored hashes that Postfix Admin can verify, so that a login here re-hashes only a hash
  it cannot verify, or one weaker than what it writes, and never replaces a stronger hash it can
  verify by a weaker one;
* for the weak values (unsalted MD5, courier-authlib, clear text) no re-hash at login at all.

The rules follow Postfix Admin 3.3's `pacrypt()` (Debian 12), the strictest reader: its
`md5crypt` compares a bare `$1$` string only, `php_crypt` hands the hash (a `{NAME}` prefix of
upper-case letters, digits and dashes removed) to PHP's crypt(), `dovecot:` asks `doveadm pw`
about any `{SCHEME}`-prefixed hash, and `sha512.b64` reads `{SHA512-CRYPT.B64}` and
`{MD5-CRYPT}`. The upper-case scheme names of Postfix Admin 4 (`SHA512-CRYPT`, `ARGON2ID`, …)
write and read the prefixed hash. Hashing itself stays with the password module; this module
only describes formats, so it needs nothing above `mail/`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

NONE = "none"

# Hash families by Dovecot's scheme names. The crypt() families are told by the crypt string
# itself, whatever prefix wraps it ("{CRYPT}$6$…" is SHA512-CRYPT).
ARGON2ID = "ARGON2ID"
ARGON2I = "ARGON2I"
BLF_CRYPT = "BLF-CRYPT"
SHA512_CRYPT = "SHA512-CRYPT"
SHA256_CRYPT = "SHA256-CRYPT"
MD5_CRYPT = "MD5-CRYPT"
DES_CRYPT = "DES-CRYPT"
MD5 = "MD5"  # an unsalted MD5 digest, hex or base64
SHA1 = "SHA1"
PLAIN = "PLAIN"
UNKNOWN = "UNKNOWN"

# What a stolen copy of each family costs an attacker, for "never downgrade": 0 clear text,
# unsalted digests and DES (8 characters); 1 salted digests and md5crypt; 2 SHA-crypt;
# 3 bcrypt; 4 Argon2.
STRENGTH: dict[str, int] = {
    ARGON2ID: 4,
    ARGON2I: 4,
    BLF_CRYPT: 3,
    SHA512_CRYPT: 2,
    SHA256_CRYPT: 2,
    MD5_CRYPT: 1,
    "SSHA512": 1,
    "SSHA256": 1,
    "SSHA": 1,
    "SMD5": 1,
    "SCRAM-SHA-1": 1,
    "SCRAM-SHA-256": 1,
}

# Families PHP's crypt() (and libc's, behind MariaDB's ENCRYPT()) checks.
PHP_CRYPT_FAMILIES = frozenset({MD5_CRYPT, BLF_CRYPT, SHA256_CRYPT, SHA512_CRYPT, DES_CRYPT})

_CRYPT_IDENTS: tuple[tuple[str, str], ...] = (
    ("$1$", MD5_CRYPT),
    ("$2y$", BLF_CRYPT),
    ("$2b$", BLF_CRYPT),
    ("$2a$", BLF_CRYPT),
    ("$2x$", BLF_CRYPT),
    ("$5$", SHA256_CRYPT),
    ("$6$", SHA512_CRYPT),
    ("$argon2id$", ARGON2ID),
    ("$argon2i$", ARGON2I),
)
_DES_RE = re.compile(r"[./0-9A-Za-z]{13}")
_HEX_MD5_RE = re.compile(r"[0-9a-fA-F]{32}")
_PREFIX_RE = re.compile(r"\{([A-Za-z0-9_.-]+)\}(.*)", re.DOTALL)
# Postfix Admin 3.3 strips only such a prefix before crypt() (php_crypt) or doveadm (dovecot:).
_PHP_CRYPT_PREFIX_RE = re.compile(r"\{[-A-Z0-9]+\}")
_DOVECOT_PREFIX_RE = re.compile(r"\{[A-Z0-9.-]+\}")

# Scheme names whose payload is a crypt string (after decoding a ".B64"/".HEX" suffix).
_CRYPT_SCHEMES = frozenset(
    {"CRYPT", DES_CRYPT, MD5_CRYPT, SHA256_CRYPT, SHA512_CRYPT, BLF_CRYPT, ARGON2I, ARGON2ID}
)
_DIGEST_SCHEMES: dict[str, str] = {
    "PLAIN-MD5": MD5,
    "LDAP-MD5": MD5,
    "MD5RAW": MD5,
    "SHA": SHA1,
    "SHA1": SHA1,
    "SHA256": "SHA256",
    "SHA512": "SHA512",
    "SMD5": "SMD5",
    "SSHA": "SSHA",
    "SSHA256": "SSHA256",
    "SSHA512": "SSHA512",
    "PLAIN": PLAIN,
    "CLEAR": PLAIN,
    "CLEARTEXT": PLAIN,
    "PLAIN-TRUNC": PLAIN,
    "SCRAM-SHA-1": "SCRAM-SHA-1",
    "SCRAM-SHA-256": "SCRAM-SHA-256",
}


# Dovecot's scheme names (doveadm knows them); MD5RAW is courier-authlib's only.
_DOVECOT_SCHEMES = (_CRYPT_SCHEMES | set(_DIGEST_SCHEMES) | {"MD5"}) - {"MD5RAW"}
# The schemes Postfix Admin 3.3 asks doveadm for a fresh hash of, rather than to check one.
_DOVECOT_UNSALTED = frozenset(
    {
        "SHA",
        "SHA1",
        "SHA256",
        "SHA512",
        "CLEAR",
        "CLEARTEXT",
        "PLAIN",
        "PLAIN-TRUNC",
        "CRAM-MD5",
        "HMAC-MD5",
        "PLAIN-MD4",
        "PLAIN-MD5",
        "LDAP-MD5",
        "LANMAN",
        "NTLM",
        "RPA",
    }
)


@dataclass(frozen=True)
class StoredFormat:
    """What a stored password value is: its hash family and how it is wrapped."""

    family: str
    # The prefix as stored ("{SHA512-CRYPT}", "{md5raw}"), "" for a bare value.
    prefix: str = ""
    # "B64"/"HEX" when the value after the prefix is an encoded crypt string.
    encoding: str | None = None
    # The crypt string inside ("$6$…"), "" for digests and unknown values.
    crypt: str = ""
    # For a bare value: how it was told ("$1$", "$2y$", "DES", "hex MD5").
    ident: str = ""

    @property
    def label(self) -> str:
        """Name the format as an operator sees it in the column."""
        if self.family == "EMPTY":
            return "empty"
        if self.prefix:
            name = self.prefix[1:-1].upper().partition(".")[0]
            return self.prefix if name == self.family else f"{self.prefix} ({self.family})"
        if self.family == UNKNOWN:
            return "no hash format (clear text?)"
        return f"{self.ident} without prefix ({self.family})"

    @property
    def strength(self) -> int:
        """Rank the family; 0 is clear text or an unsalted digest."""
        return STRENGTH.get(self.family, 0)


def recognise(stored: str) -> StoredFormat:
    """Tell the hash family and the wrapping of a stored password value."""
    if not stored:
        return StoredFormat(family="EMPTY")
    match = _PREFIX_RE.fullmatch(stored)
    if match is None:
        return _recognise_bare(stored)
    label, payload = match.groups()
    name, _, suffix = label.upper().partition(".")
    encoding = {"B64": "B64", "BASE64": "B64", "HEX": "HEX"}.get(suffix) if suffix else None
    prefix = "{" + label + "}"
    if suffix and encoding is None:
        return StoredFormat(family=UNKNOWN, prefix=prefix)
    if name in _CRYPT_SCHEMES or (name == "MD5" and payload.startswith("$1$") and not encoding):
        crypt = _decode(payload, encoding)
        family = _crypt_family(crypt)
        return StoredFormat(family=family, prefix=prefix, encoding=encoding, crypt=crypt)
    if name == "MD5":
        # courier-authlib's {MD5} is a base64 MD5 digest.
        return StoredFormat(family=MD5, prefix=prefix, encoding=encoding)
    return StoredFormat(family=_DIGEST_SCHEMES.get(name, UNKNOWN), prefix=prefix, encoding=encoding)


def _recognise_bare(stored: str) -> StoredFormat:
    family = _crypt_family(stored)
    if family == DES_CRYPT:
        return StoredFormat(family=family, crypt=stored, ident="DES")
    if family != UNKNOWN:
        ident = next(i for i, f in _CRYPT_IDENTS if stored.startswith(i))
        return StoredFormat(family=family, crypt=stored, ident=ident)
    if _HEX_MD5_RE.fullmatch(stored):
        return StoredFormat(family=MD5, ident="hex MD5")
    return StoredFormat(family=UNKNOWN)


def _crypt_family(crypt: str) -> str:
    for ident, family in _CRYPT_IDENTS:
        if crypt.startswith(ident):
            return family
    return DES_CRYPT if _DES_RE.fullmatch(crypt) else UNKNOWN


def _decode(payload: str, encoding: str | None) -> str:
    try:
        if encoding == "B64":
            return base64.b64decode(payload, validate=True).decode("ascii")
        if encoding == "HEX":
            return bytes.fromhex(payload).decode("ascii")
    except (binascii.Error, ValueError):
        return ""
    return payload


# --------------------------------------------------------------------------------------------
# The format written beside Postfix Admin


@dataclass(frozen=True)
class WriteFormat:
    """How new hashes are laid out: a family, then Postfix Admin's own wrapping of it."""

    family: str
    # Written verbatim before the hash ("" for Postfix Admin's bare crypt strings).
    prefix: str = ""
    # The crypt string base64-encoded after the prefix (Dovecot's ".B64").
    b64: bool = False
    # php_crypt's difficulty: rounds for SHA-crypt, the cost for bcrypt.
    cost: int | None = None
    # Digest text for the weak families: "hex" or "b64".
    digest: str = ""

    @property
    def strength(self) -> int:
        """Rank the family as `StoredFormat.strength` does."""
        return STRENGTH.get(self.family, 0)

    @property
    def example(self) -> str:
        """Show the layout as the README and the messages name it."""
        if self.digest:
            algorithm = "MD5" if self.family == MD5 else self.family
            shape = f"<{'hex' if self.digest == 'hex' else 'base64'} {algorithm} digest>"
        else:
            shape = {
                MD5_CRYPT: "$1$…",
                SHA512_CRYPT: "$6$…",
                SHA256_CRYPT: "$5$…",
                BLF_CRYPT: "$2y$…",
                ARGON2ID: "$argon2id$…",
                ARGON2I: "$argon2i$…",
                DES_CRYPT: "<DES crypt>",
            }.get(self.family, "…")
        if self.b64:
            shape = f"<base64 of {shape}>"
        return self.prefix + shape if self.prefix else f"bare {shape}"

    def is_written_as(self, stored: StoredFormat) -> bool:
        """Tell whether a stored hash has exactly this layout (cost aside)."""
        return (
            stored.family == self.family
            and stored.prefix == self.prefix
            and (stored.encoding == "B64") == self.b64
        )


@dataclass(frozen=True)
class PfaEncrypt:
    """One `$CONF['encrypt']` value: what is written beside it and what it can verify."""

    value: str
    write: WriteFormat
    verifies: Callable[[StoredFormat], bool]
    # False for the weak values: a login keeps whatever hash is stored.
    rehash_on_login: bool = True
    # Why the value is weak, for the system check ("" when it is not).
    weakness: str = ""
    # A condition on the database engine, for the system check ("" for none).
    needs: str = ""
    # False when the project's own scheme is written instead of what Postfix Admin writes.
    writes_as_pfa: bool = True


# Schemes this project's hasher writes with their own prefix (mail.passwords, which sits
# above this module, checks the same list).
OWN_SCHEMES = (ARGON2ID, ARGON2I, BLF_CRYPT, SHA512_CRYPT, SHA256_CRYPT, "SSHA512")
# Schemes `dovecot:X` and Postfix Admin 4's plain names write in X itself.
_PREFIXED_WRITABLE = frozenset({*OWN_SCHEMES, MD5_CRYPT})
_PHP_CRYPT_METHODS: dict[str, str] = {
    "SHA512": SHA512_CRYPT,
    "SHA256": SHA256_CRYPT,
    "BLOWFISH": BLF_CRYPT,
    "MD5": MD5_CRYPT,
    # DES keeps 8 characters of a password: SHA512-crypt is written instead, which the same
    # crypt() (PHP's, and libc's for Dovecot's CRYPT scheme) verifies.
    "DES": SHA512_CRYPT,
}
_AUTHLIB_FLAVORS: dict[str, WriteFormat] = {
    "md5raw": WriteFormat(family=MD5, prefix="{md5raw}", digest="hex"),
    "md5": WriteFormat(family=MD5, prefix="{md5}", digest="b64"),
    "sha": WriteFormat(family=SHA1, prefix="{SHA}", digest="b64"),
    "crypt": WriteFormat(family=DES_CRYPT, prefix="{crypt}"),
}
# Postfix Admin 4's scheme names accepted here; each verifies a prefixed hash of any of them
# (the crypt part of PFACrypt's native list).
_PFA4_NATIVE = frozenset(
    {ARGON2ID, ARGON2I, BLF_CRYPT, SHA512_CRYPT, SHA256_CRYPT, MD5_CRYPT, "CRYPT"}
)


def _bare_crypt(families: Iterable[str]) -> Callable[[StoredFormat], bool]:
    allowed = frozenset(families)
    return lambda stored: not stored.prefix and stored.family in allowed


def _php_crypt_verifies(stored: StoredFormat) -> bool:
    if stored.family not in PHP_CRYPT_FAMILIES or stored.encoding is not None:
        return False
    return not stored.prefix or bool(_PHP_CRYPT_PREFIX_RE.fullmatch(stored.prefix))


def _dovecot_verifies(method: str) -> Callable[[StoredFormat], bool]:
    salted = method.partition(".")[0] not in _DOVECOT_UNSALTED

    def verifies(stored: StoredFormat) -> bool:
        if stored.prefix:
            name = stored.prefix[1:-1].upper().partition(".")[0]
            known = name in _DOVECOT_SCHEMES and stored.family not in (UNKNOWN, "EMPTY")
            # An upper-case prefix names the scheme doveadm checks; any other is handed to
            # `doveadm pw -t` (which reads it in any case) only under a salted method.
            upper = bool(_DOVECOT_PREFIX_RE.fullmatch(stored.prefix))
            return known and (upper or salted)
        if salted:
            # `doveadm pw -t` refuses a hash without prefix, except that it takes "$1$" for
            # MD5-CRYPT, which Postfix Admin then matches only under dovecot:MD5-CRYPT.
            return method == MD5_CRYPT and stored.family == MD5_CRYPT
        # Unsalted: Postfix Admin compares a fresh hash, its prefix removed.
        if method == "PLAIN-MD5":
            return stored.ident == "hex MD5"
        return method in ("PLAIN", "CLEAR", "CLEARTEXT") and stored.family == UNKNOWN

    return verifies


def _pfa4_verifies(stored: StoredFormat) -> bool:
    if not stored.prefix:
        return False
    name = stored.prefix[1:-1].upper().partition(".")[0]
    return name in _PFA4_NATIVE and stored.family in PHP_CRYPT_FAMILIES | {ARGON2I, ARGON2ID}


def _sha512_b64_verifies(stored: StoredFormat) -> bool:
    if stored.prefix == "{SHA512-CRYPT.B64}":
        return stored.family == SHA512_CRYPT
    return stored.prefix == "{MD5-CRYPT}" and stored.family == MD5_CRYPT


def _md5_verifies(stored: StoredFormat) -> bool:
    # PHP's md5() is lower-case hex, compared as a string.
    return stored.ident == "hex MD5" and stored.family == MD5


def _authlib_verifies(stored: StoredFormat) -> bool:
    flavor = stored.prefix[1:-1].lower()
    expected = _AUTHLIB_FLAVORS.get(flavor)
    return expected is not None and expected.family == stored.family


def _cleartext_verifies(stored: StoredFormat) -> bool:
    return not stored.prefix and stored.family == UNKNOWN


_WEAK_DIGEST = "an unsalted digest, recovered from a stolen copy in moments"


def parse(value: str, *, own_scheme: str = ARGON2ID) -> PfaEncrypt | None:
    """Read a `$CONF['encrypt']` value; None for "none"; ValueError for one not understood."""
    text = (value or "").strip()
    key = text.lower()
    if key in ("", NONE):
        return None
    own = WriteFormat(family=own_scheme, prefix="{" + own_scheme + "}")
    if key == "md5crypt":
        return PfaEncrypt(text, WriteFormat(MD5_CRYPT), _bare_crypt({MD5_CRYPT}))
    if key in ("system", "mysql_encrypt"):
        # Postfix Admin writes DES (system) or SHA512-crypt through ENCRYPT(); both check any
        # bare crypt string, so SHA512-crypt is written for both.
        needs = "mysql" if key == "mysql_encrypt" else ""
        return PfaEncrypt(
            text, WriteFormat(SHA512_CRYPT), _bare_crypt(PHP_CRYPT_FAMILIES), needs=needs
        )
    if key == "md5":
        return PfaEncrypt(
            text,
            WriteFormat(MD5, digest="hex"),
            _md5_verifies,
            rehash_on_login=False,
            weakness=_WEAK_DIGEST,
        )
    if key == "cleartext":
        # Never stored in clear text here: new passwords get the project's own scheme, which
        # Postfix Admin cannot verify.
        return PfaEncrypt(
            text,
            own,
            _cleartext_verifies,
            rehash_on_login=False,
            weakness="clear text, which this project never stores",
            writes_as_pfa=False,
        )
    if key == "authlib" or key.startswith("authlib:"):
        flavor = key.partition(":")[2] or "md5raw"
        if flavor not in _AUTHLIB_FLAVORS:
            raise ValueError(
                f"Unknown courier-authlib flavor {flavor!r}: use authlib:md5raw, authlib:md5, "
                "authlib:SHA or authlib:crypt (Postfix Admin's authlib_default_flavor)."
            )
        return PfaEncrypt(
            text,
            _AUTHLIB_FLAVORS[flavor],
            _authlib_verifies,
            rehash_on_login=False,
            weakness=_WEAK_DIGEST if flavor != "crypt" else "DES, which reads 8 characters",
        )
    if key in ("sha512.b64", "sha512crypt.b64", "sha512-crypt.b64"):
        return PfaEncrypt(
            text,
            WriteFormat(SHA512_CRYPT, prefix="{SHA512-CRYPT.B64}", b64=True),
            _sha512_b64_verifies,
        )
    if key.startswith("dovecot:"):
        return _parse_dovecot(text, own)
    if key == "php_crypt" or key.startswith("php_crypt:"):
        return _parse_php_crypt(text)
    scheme = text.upper()
    if scheme in _PFA4_NATIVE:
        # Postfix Admin 4 names the scheme itself and writes it with its prefix ("CRYPT" is
        # bcrypt there).
        family = BLF_CRYPT if scheme == "CRYPT" else scheme
        return PfaEncrypt(text, WriteFormat(family, prefix="{" + scheme + "}"), _pfa4_verifies)
    raise ValueError(
        f"{text!r} is not a Postfix Admin encrypt value this project can write beside it. "
        "Use the value of $CONF['encrypt'] in Postfix Admin's config.local.php: md5crypt, "
        "php_crypt[:METHOD[:DIFFICULTY[:{PREFIX}]]], dovecot:SCHEME, sha512.b64, system, "
        "mysql_encrypt, md5, authlib or cleartext (or, for Postfix Admin 4, a scheme name "
        "such as SHA512-CRYPT or ARGON2ID), or none."
    )


def _parse_dovecot(text: str, own: WriteFormat) -> PfaEncrypt:
    method = text.partition(":")[2].strip().upper()
    if not re.fullmatch(r"[A-Z0-9.-]+", method):
        raise ValueError(f"{text!r}: Postfix Admin refuses the Dovecot scheme {method!r}.")
    if method == "DIGEST-MD5":
        raise ValueError(f"{text!r}: Postfix Admin does not support dovecot:DIGEST-MD5.")
    name, _, suffix = method.partition(".")
    if name in _PREFIXED_WRITABLE and suffix in ("", "B64") and not (suffix and name == "SSHA512"):
        write = WriteFormat(name, prefix="{" + method + "}", b64=bool(suffix))
        return PfaEncrypt(text, write, _dovecot_verifies(method))
    # Postfix Admin has doveadm check whatever {SCHEME} is stored, so the project's own scheme
    # is written rather than a weaker or unknown one (CRYPT is DES in doveadm).
    return PfaEncrypt(text, own, _dovecot_verifies(method), writes_as_pfa=False)


def _parse_php_crypt(text: str) -> PfaEncrypt:
    parts = text.split(":")
    if len(parts) > 4:
        raise ValueError(f"{text!r}: php_crypt takes at most METHOD:DIFFICULTY:PREFIX.")
    method = parts[1].strip().upper() if len(parts) > 1 else "SHA512"
    if method not in _PHP_CRYPT_METHODS:
        raise ValueError(
            f"{text!r}: Postfix Admin's php_crypt knows DES, MD5, BLOWFISH, SHA256 and SHA512, "
            f"not {method!r}."
        )
    family = _PHP_CRYPT_METHODS[method]
    difficulty = parts[2].strip() if len(parts) > 2 else ""
    cost: int | None = None
    if difficulty and method in ("BLOWFISH", "SHA256", "SHA512"):
        low, high = (4, 31) if method == "BLOWFISH" else (1000, 999_999_999)
        if not difficulty.isdigit() or not low <= int(difficulty) <= high:
            raise ValueError(
                f"{text!r}: the {method} difficulty must be a whole number from {low} to {high}."
            )
        cost = int(difficulty)
    prefix = parts[3].strip() if len(parts) > 3 else ""
    if prefix and not _PHP_CRYPT_PREFIX_RE.fullmatch(prefix):
        raise ValueError(
            f"{text!r}: Postfix Admin could not verify its own hashes with the prefix "
            f"{prefix!r}; a prefix is {{NAME}} in upper-case letters, digits and dashes."
        )
    return PfaEncrypt(text, WriteFormat(family, prefix=prefix, cost=cost), _php_crypt_verifies)


def from_settings() -> PfaEncrypt | None:
    """Read VIMBADMIN_PFA_ENCRYPT now; ValueError for a value not understood."""
    # Read at call time so that override_settings and late configuration take effect.
    value = getattr(settings, "VIMBADMIN_PFA_ENCRYPT", NONE)
    own = str(getattr(settings, "VIMBADMIN_PASSWORD_SCHEME", ARGON2ID)).strip().upper()
    return parse(value, own_scheme=own if own in OWN_SCHEMES else ARGON2ID)


def configured() -> PfaEncrypt | None:
    """Return the configured Postfix Admin encrypt value, or None without Postfix Admin."""
    try:
        return from_settings()
    except ValueError as exc:
        raise ImproperlyConfigured(f"VIMBADMIN_PFA_ENCRYPT: {exc}") from None


def keeps(target: PfaEncrypt, stored: str) -> bool:
    """Tell whether a login should leave a verified hash as it is (cost aside)."""
    if not target.rehash_on_login:
        return True
    found = recognise(stored)
    # A hash Postfix Admin cannot verify is rewritten in the format it can: that is what the
    # setting is for. One it can verify is never replaced by a weaker one.
    return target.verifies(found) and found.strength >= target.write.strength


# --------------------------------------------------------------------------------------------
# What Postfix Admin appears to have written (schema_check)

# Formats only Postfix Admin writes (this project, without the setting, writes {SCHEME}), and
# the encrypt value that writes each.
_WRITTEN_BY: tuple[tuple[Callable[[StoredFormat], bool], str], ...] = (
    (lambda s: not s.prefix and s.family == MD5_CRYPT, "md5crypt"),
    (lambda s: not s.prefix and s.family == SHA512_CRYPT, "php_crypt:SHA512"),
    (lambda s: not s.prefix and s.family == SHA256_CRYPT, "php_crypt:SHA256"),
    (lambda s: not s.prefix and s.family == BLF_CRYPT, "php_crypt:BLOWFISH"),
    (lambda s: not s.prefix and s.family == DES_CRYPT, "system"),
    (_md5_verifies, "md5"),
    (lambda s: s.prefix == "{SHA512-CRYPT.B64}", "sha512.b64"),
    (_authlib_verifies, "authlib"),
    (_cleartext_verifies, "cleartext"),
)


def written_by(stored: StoredFormat) -> str:
    """Return the encrypt value that writes this format and that this project never does."""
    for test, value in _WRITTEN_BY:
        if test(stored):
            return value
    return ""


def recommend(counts: Mapping[StoredFormat, int]) -> str:
    """Return the VIMBADMIN_PFA_ENCRYPT value the stored formats point to ("" when unclear)."""
    votes: dict[str, int] = {}
    for found, count in counts.items():
        value = written_by(found)
        if value:
            votes[value] = votes.get(value, 0) + count
    if votes:
        return max(votes, key=lambda value: votes[value])
    prefixed = {f: c for f, c in counts.items() if f.prefix and f.family in _PREFIXED_WRITABLE}
    if prefixed:
        return "dovecot:" + max(prefixed, key=lambda f: prefixed[f]).family
    return ""


# --------------------------------------------------------------------------------------------
# System check


@register(Tags.security)
def check_pfa_encrypt(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse an encrypt value not understood; say what the weak ones do."""
    try:
        target = from_settings()
    except ValueError as exc:
        return [Error(f"VIMBADMIN_PFA_ENCRYPT: {exc}", id="mail.E010")]
    if target is None:
        return []
    messages: list[CheckMessage] = []
    if target.weakness and target.value.lower() == "cleartext":
        messages.append(
            Warning(
                "VIMBADMIN_PFA_ENCRYPT=cleartext: Postfix Admin stores clear text, which this "
                "project never does. Passwords set here are hashed and Postfix Admin cannot "
                "verify them; its clear-text passwords cannot log in here. Logins keep the "
                "stored value.",
                hint="Switch Postfix Admin to a hashing encrypt value, e.g. "
                "$CONF['encrypt'] = 'php_crypt:SHA512', and set the same here.",
                id="mail.W011",
            )
        )
    elif target.weakness:
        messages.append(
            Warning(
                f"VIMBADMIN_PFA_ENCRYPT={target.value}: new passwords are stored as "
                f"{target.write.example}, {target.weakness}, because that is what Postfix Admin "
                "verifies. Logins keep the stored hash and never re-hash into it.",
                hint="Switch Postfix Admin to a stronger encrypt value, e.g. "
                "$CONF['encrypt'] = 'php_crypt:SHA512' (it still verifies the old hashes), "
                "and set the same here.",
                id="mail.W010",
            )
        )
    if target.needs == "mysql":
        engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
        if not engine.endswith("mysql"):
            messages.append(
                Warning(
                    "VIMBADMIN_PFA_ENCRYPT=mysql_encrypt: Postfix Admin verifies through "
                    "MariaDB's ENCRYPT(), which this database does not have.",
                    hint="Use the encrypt value Postfix Admin really runs with.",
                    id="mail.W012",
                )
            )
    return messages
