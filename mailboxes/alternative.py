"""The owner's alternative address (`mailbox.email_other`), set only once confirmed by link.

Password reset links go to this address, so an owner cannot just type one: the link in a mail
to the new address stores it. The link is signed (SECRET_KEY), expires, names the mailbox and
the address, and works only while the stored address is still the one it replaces, so an old
link cannot undo a later change.
"""

from __future__ import annotations

import datetime
import hashlib

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.languages import MAILBOX, mail_language
from mail.email import compose, send_in_background
from mail.links import absolute_url
from mail.names import normalize_address
from mailboxes.emails import send_owner_change_email
from mailboxes.models import Mailbox
from pfa.audit import log_action

SALT = "vimbadmin.mailbox.alternative-address"
VALID_FOR = datetime.timedelta(days=2)


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def alternative_token(mailbox: Mailbox, address: str) -> str:
    """Return the signed confirmation token for setting `address` on the mailbox."""
    payload = {"m": mailbox.username, "a": address, "o": _fingerprint(mailbox.email_other)}
    return signing.dumps(payload, salt=SALT, compress=True)


def check_alternative_address(mailbox: Mailbox, value: str) -> str:
    """Return the stored form of a new alternative address, or raise a field error."""
    try:
        address = normalize_address(value)
    except ValidationError as exc:
        raise ValidationError({"address": exc.messages}) from None
    if address == mailbox.username:
        raise ValidationError(
            {
                "address": _(
                    "Choose an address other than this mailbox: it is for when you cannot "
                    "log in here."
                )
            }
        )
    return address


def alternative_address_request(
    *, actor: str, mailbox: Mailbox, address: str, request: HttpRequest | None = None
) -> str:
    """Mail a confirmation link to `address`; nothing is stored until it is followed.

    Return the address the link went to.
    """
    if actor != mailbox.username:
        raise ValidationError(_("You can only change your own mailbox."))
    address = check_alternative_address(mailbox, address)
    path = reverse(
        "selfservice:email-other-confirm", kwargs={"token": alternative_token(mailbox, address)}
    )
    link = absolute_url(path, request)
    if link is None:
        raise ValidationError(
            _("No confirmation link can be sent: the server's address is not configured.")
        )
    with translation.override(mail_language(MAILBOX, mailbox.username)):
        mail = compose(
            "mailbox_email_other_confirm",
            subject=_("Confirm the alternative address of %(address)s")
            % {"address": mailbox.username},
            recipients=[address],
            context={
                "address": mailbox.username,
                "email_other": address,
                "link": link,
                "valid_days": VALID_FOR.days,
            },
            about=mailbox.username,
            language=translation.get_language() or "",
        )
    send_in_background(mail)
    return address


def _load(token: str) -> dict[str, str] | None:
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in "mao"):
        return None
    return payload


def alternative_link_target(token: str) -> tuple[Mailbox, str] | None:
    """Return the mailbox and address a confirmation link would set, or None when it is void."""
    payload = _load(token)
    if payload is None:
        return None
    mailbox = Mailbox.objects.filter(username=payload["m"], active=True).first()
    if mailbox is None or _fingerprint(mailbox.email_other) != payload["o"]:
        return None
    return mailbox, payload["a"]


@transaction.atomic
def alternative_address_confirm(*, token: str) -> Mailbox:
    """Store the alternative address a valid, unused confirmation link names."""
    payload = _load(token)
    invalid = ValidationError(_("This confirmation link is invalid, used or has expired."))
    if payload is None:
        raise invalid
    mailbox = Mailbox.objects.select_for_update().filter(username=payload["m"], active=True).first()
    if mailbox is None or _fingerprint(mailbox.email_other) != payload["o"]:
        raise invalid
    mailbox.email_other = payload["a"]
    mailbox.modified = timezone.now()
    mailbox.save(update_fields=["email_other", "modified"])
    log_action(
        actor=mailbox.username,
        domain=mailbox.domain_id,
        action="edit_mailbox",
        data=f"{mailbox.username}: alternative address",
    )
    send_owner_change_email(mailbox, what="email_other")
    return mailbox


@transaction.atomic
def alternative_address_remove(*, actor: str, mailbox: Mailbox) -> Mailbox:
    """Remove the owner's alternative address (no confirmation needed to stop using one)."""
    if actor != mailbox.username:
        raise ValidationError(_("You can only change your own mailbox."))
    mailbox.email_other = ""
    mailbox.modified = timezone.now()
    mailbox.save(update_fields=["email_other", "modified"])
    log_action(
        actor=actor,
        domain=mailbox.domain_id,
        action="edit_mailbox",
        data=f"{mailbox.username}: alternative address removed",
    )
    send_owner_change_email(mailbox, what="email_other")
    return mailbox
