"""Single-use, expiring links for a mailbox owner's forgotten password."""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from mailboxes.models import Mailbox


class MailboxResetTokenGenerator(PasswordResetTokenGenerator):
    """Sign the mailbox, its password hash and the time: a used or stale link no longer checks."""

    key_salt = "vimbadmin.accounts.selfservice.MailboxResetTokenGenerator"

    def _make_hash_value(self, user: Mailbox, timestamp: int) -> str:  # type: ignore[override]
        # The hash changes when the password is set, which makes the link single-use; a changed
        # alternative address also voids links sent to the old one.
        return f"{user.username}{user.password}{user.email_other}{timestamp}"


mailbox_reset_token = MailboxResetTokenGenerator()


def encode_uid(mailbox: Mailbox) -> str:
    """Encode the mailbox address for a URL path segment."""
    return urlsafe_base64_encode(force_bytes(mailbox.username))


def decode_uid(uidb64: str) -> str | None:
    """Decode a URL path segment back to an address, or None when it is garbage."""
    try:
        return force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
