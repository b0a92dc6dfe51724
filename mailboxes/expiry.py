"""Warning owners before Dovecot starts refusing their expired password.

Only where expiry is enforced (VIMBADMIN_PASSWORD_EXPIRY_ENFORCED, with Dovecot's query from
`mailconfig dovecot --password-expiry`) and only for domains whose password_expiry is not 0 days
(0 means "never expires" in that query). Each mailbox is warned once per expiry moment: the
`vimbadmin_password_expiry_warning` row is written before the mail goes out.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from mail.email import OutgoingMail, compose, send_now
from mail.names import address_to_unicode
from mailboxes.emails import owner_page_url
from mailboxes.models import Mailbox, PasswordExpiryWarning

logger = logging.getLogger("vimbadmin.expiry")

# Warning rows of passwords that expired this long ago are of no more use.
KEEP_AFTER_EXPIRY = datetime.timedelta(days=30)


@dataclass
class ExpiryWarnings:
    """What one run did: the mailboxes warned, and those whose mail failed (tried again later)."""

    warned: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def mailboxes_to_warn(*, now: datetime.datetime, days: int) -> list[Mailbox]:
    """Return the active mailboxes whose enforced password expires within `days`, not warned yet."""
    warned = PasswordExpiryWarning.objects.filter(
        username=OuterRef("username"), password_expiry=OuterRef("password_expiry")
    )
    return list(
        Mailbox.objects.select_related("domain")
        .filter(
            active=True,
            domain__active=True,
            domain__password_expiry__gt=0,
            password_expiry__gt=now,
            password_expiry__lte=now + datetime.timedelta(days=days),
        )
        .exclude(Exists(warned))
        .order_by("password_expiry", "username")
    )


def _claim(mailbox: Mailbox) -> bool:
    """Record the warning for this expiry; False when another run has recorded it already."""
    try:
        with transaction.atomic():
            PasswordExpiryWarning.objects.create(
                username=mailbox.username, password_expiry=mailbox.password_expiry
            )
    except IntegrityError:
        return False
    return True


def _warning_mail(mailbox: Mailbox, *, now: datetime.datetime) -> OutgoingMail:
    recipients = [mailbox.username]
    other = (mailbox.email_other or "").strip().lower()
    if other and other != mailbox.username:
        recipients.append(other)
    days_left = max((mailbox.password_expiry - now).days, 0)
    return compose(
        "mailbox_password_expiry",
        subject=_("The password of %(address)s expires soon")
        % {"address": address_to_unicode(mailbox.username)},
        recipients=recipients,
        context={
            "address": address_to_unicode(mailbox.username),
            "mailbox": mailbox,
            "expires": mailbox.password_expiry,
            "days_left": days_left,
            "owner_url": owner_page_url(),
        },
        about=mailbox.username,
    )


def password_expiry_warn(*, days: int, now: datetime.datetime | None = None) -> ExpiryWarnings:
    """Mail every owner whose enforced password expires within `days`, once per expiry."""
    now = now or timezone.now()
    result = ExpiryWarnings()
    for mailbox in mailboxes_to_warn(now=now, days=days):
        if not _claim(mailbox):
            continue
        error = send_now(_warning_mail(mailbox, now=now))
        if error:
            # Not warned after all: the next run tries again.
            PasswordExpiryWarning.objects.filter(
                username=mailbox.username, password_expiry=mailbox.password_expiry
            ).delete()
            result.failed.append(mailbox.username)
            continue
        result.warned.append(mailbox.username)
    PasswordExpiryWarning.objects.filter(password_expiry__lt=now - KEEP_AFTER_EXPIRY).delete()
    return result
