"""Syntax of domains, addresses and names, and their stored form: lower-case, IDN as punycode.

One check serves every place that takes an address or a domain (domains, mailboxes, aliases and
their destinations, admins, alternative addresses). Like Postfix Admin's `check_email()` /
`check_domain()` it refuses no special-use name: `corp.local`, `a.test` and `h.home.arpa` are
real mail domains on private networks, and Postfix delivers to them. Like its AliasHandler it
takes local system users (`root`) as alias destinations.
"""

from __future__ import annotations

import re
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1
DOMAIN_MAX = 253  # RFC 1035 2.3.4, without the trailing dot
LABEL_MAX = 63
ADDRESS_MAX = 255  # alias.address, mailbox.username: varchar(255)

_LABEL = re.compile(rf"(?!-)[a-z0-9-]{{1,{LABEL_MAX}}}(?<!-)\Z")
# RFC 5321 atext; beyond ASCII, RFC 6531 lets the letters, digits, marks, punctuation and
# symbols of any script in. Quoted local parts are refused, as Postfix Admin does: a goto list
# is split on commas, and Postfix's SQL lookups never see the quotes.
_ASCII_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~")
_UNICODE_ATEXT = frozenset("LNPSM")
# A local system user as an alias destination (Postfix Admin's AliasHandler: /^[a-z0-9]+$/).
# Postfix appends $myorigin to it, which makes it a local recipient.
_LOCAL_USER = re.compile(r"[a-z0-9]+\Z")
# The one host name every Postfix has in mydestination: `postmaster@localhost` stays local.
LOCAL_HOST = "localhost"

# C0 and C1 controls, DEL, the line and paragraph separators, and the bidi embedding, override
# and isolate controls: characters that break a line or reorder the text shown around them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Names reserved for networks of their own (RFC 6761, 6762, 7686, 8375, 9476): mail to them
# never comes from the Internet, which is a reason to warn, never to refuse.
SPECIAL_USE = ("test", "localhost", "invalid", "example", "local", "onion", "home.arpa", "alt")


def has_control_characters(text: str) -> bool:
    """Tell whether text holds a control, line-break or text-direction character."""
    return bool(_CONTROL.search(text or ""))


def visible_controls(value: str) -> str:
    """Return text with each control or text-direction character made visible as �.

    Error messages echo typed values this way, and pages show names written by other tools
    this way: a right-to-left override never reaches the page to reorder what is shown.
    """
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", value or "")


def validate_one_line(value: str) -> None:
    """Refuse control, line-break and text-direction characters in a name or description."""
    if has_control_characters(value):
        raise ValidationError(
            _("Remove the control or text-direction characters from this text."),
            code="control_characters",
        )


def one_line_text(value: str, *, field: str) -> str:
    """Return a name or description as stored (trimmed), refusing the characters above."""
    text = (value or "").strip()
    try:
        validate_one_line(text)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    return text


def _invalid_domain(value: str) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is not a valid domain name."),
        code="invalid",
        params={"value": visible_controls(value)},
    )


def normalize_domain(value: str) -> str:
    """Return the stored (lower-case, punycode) form of a domain name typed in any script."""
    text = (value or "").strip().rstrip(".").lower()
    if not text:
        raise ValidationError(_("Enter a domain name."), code="required")
    if has_control_characters(text):
        raise _invalid_domain(value)
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _invalid_domain(value) from None
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > DOMAIN_MAX
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _invalid_domain(value)
    return ascii_name


def domain_filter_value(value: str) -> str:
    """Return the stored (punycode) form of a domain typed into a filter, or the text itself."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    try:
        return normalize_domain(text)
    except ValidationError:
        # An impossible domain simply matches nothing.
        return text


def special_use(domain: str) -> str:
    """Return the special-use name a stored domain falls under, or "" for an Internet name."""
    for name in SPECIAL_USE:
        if domain == name or domain.endswith("." + name):
            return name
    return ""


def to_unicode(domain: str) -> str:
    """Return a stored domain name for display, in Unicode."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


# Longer keys are cut (no real domain's key gets near it): the most MariaDB indexes in utf8mb4.
SORT_KEY_MAX = 768


def domain_sort_key(domain: str) -> str:
    """Return the key a stored domain name is listed by, to be compared code point by code point.

    People read the Unicode name, so lists order it as a dictionary does: first by its letters
    without case and accents ("ärzte" between "alpha" and "bücher", not after "zeta" as the code
    points or the stored `xn--` form would put it), then, between names equal so far, by the
    name itself (a plain letter before its accented forms). The databases compare the key as
    binary text (domains.models.CodePointText), so every engine lists in the same order as
    Python's sorted() of these keys. The stored name comes last, which makes each domain's key
    its own: a list pages by the key alone.
    """
    shown = to_unicode(domain).lower()
    decomposed = unicodedata.normalize("NFKD", shown.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return f"{letters} {shown} {domain}"[:SORT_KEY_MAX]


def address_to_unicode(address: str) -> str:
    """Return a stored address for display, with its domain in Unicode."""
    local, sep, domain = address.rpartition("@")
    return f"{local}{sep}{to_unicode(domain)}" if sep else address


# A run of domain characters with a punycode label in it ("xn--bcher-kva.example").
_PUNYCODE_RUN = re.compile(r"[A-Za-z0-9.-]*xn--[A-Za-z0-9.-]*", re.IGNORECASE)


def text_to_unicode(text: str) -> str:
    """Return free text (a log row's data) with every punycode domain in it shown in Unicode."""
    if not text or "xn--" not in text.lower():
        return text
    return _PUNYCODE_RUN.sub(lambda found: to_unicode(found.group(0)), text)


def _invalid_address(value: str, reason: str) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is not a valid e-mail address: %(reason)s"),
        code="invalid",
        params={"value": visible_controls(value), "reason": reason},
    )


def _is_atext(char: str, *, first: bool) -> bool:
    if char.isascii():
        return char in _ASCII_ATEXT
    category = unicodedata.category(char)
    # A combining mark first would combine with whatever is printed before the address.
    return category[0] in _UNICODE_ATEXT and not (first and category[0] == "M")


def _local_part_problem(local: str) -> str:
    """Return why a (lower-cased, NFC) local part is refused, or "" when it is a dot-atom."""
    if not local:
        return _("there is nothing before the @.")
    if len(local.encode()) > LOCAL_PART_MAX:
        return ngettext(
            "the part before the @ is longer than %(max)d byte.",
            "the part before the @ is longer than %(max)d bytes.",
            LOCAL_PART_MAX,
        ) % {"max": LOCAL_PART_MAX}
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return _("the part before the @ cannot start or end with a dot or have two in a row.")
    atoms = local.split(".")
    if all(_is_atext(c, first=i == 0) for atom in atoms for i, c in enumerate(atom)):
        return ""
    return _("the part before the @ may hold only letters, digits, dots and %(signs)s") % {
        "signs": "! # $ % & ' * + - / = ? ^ _ ` { | } ~"
    }


def _split_address(value: str) -> tuple[str, str]:
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("Enter an e-mail address."), code="required")
    if has_control_characters(text):
        raise _invalid_address(value, _("it holds a control or text-direction character."))
    local, sep, domain = text.rpartition("@")
    if not sep:
        raise _invalid_address(value, _("it has no @."))
    if "@" in local:
        raise _invalid_address(value, _("it has more than one @."))
    local = unicodedata.normalize("NFC", local).lower()
    problem = _local_part_problem(local)
    if problem:
        raise _invalid_address(value, problem)
    return local, domain


def _joined(value: str, local: str, domain: str) -> str:
    address = f"{local}@{domain}"
    if len(address) > ADDRESS_MAX:
        raise _invalid_address(
            value,
            ngettext(
                "it is longer than %(max)d character.",
                "it is longer than %(max)d characters.",
                ADDRESS_MAX,
            )
            % {"max": ADDRESS_MAX},
        )
    return address


def normalize_address(value: str) -> str:
    """Return the stored form of a mail address: lower-case local part and punycode domain."""
    local, domain = _split_address(value)
    try:
        name = normalize_domain(domain)
    except ValidationError:
        raise _invalid_address(
            value, _("the part after the @ is not a valid domain name.")
        ) from None
    return _joined(value, local, name)


def normalize_local_part(value: str, domain: str) -> str:
    """Return the stored local part for a new address in the given (stored) domain."""
    local = (value or "").strip().lower()
    if not local:
        raise ValidationError(_("Enter the part before the @."), code="required")
    if "@" in local:
        raise ValidationError(_("Enter only the part before the @."), code="invalid")
    return normalize_address(f"{local}@{domain}").rpartition("@")[0]


def normalize_target(value: str) -> str:
    """Return the stored form of an alias destination.

    A destination is an address, `@domain` (a catch-all's forward of a whole domain), a local
    system user such as `root`, or an address at `localhost`, as Postfix Admin accepts them.
    """
    text = (value or "").strip()
    if not text:
        raise ValidationError(_("Enter an e-mail address."), code="required")
    if text.startswith("@"):
        return "@" + normalize_domain(text[1:])
    if "@" not in text:
        if _LOCAL_USER.match(text.lower()):
            return text.lower()
        raise _invalid_address(
            value, _("it has no @, and a local user name holds only letters a-z and digits.")
        )
    local, domain = _split_address(text)
    if domain.strip().rstrip(".").lower() == LOCAL_HOST:
        return _joined(value, local, LOCAL_HOST)
    return normalize_address(text)
