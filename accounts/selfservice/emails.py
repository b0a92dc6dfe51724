"""E-mails to mailbox owners about their password, from templates under templates/emails/."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from mailboxes.models import Mailbox
from vimbadmin.context import report

logger = logging.getLogger("vimbadmin.mail")


def _send(template: str, subject: str, recipient: str, context: dict[str, Any]) -> bool:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("sending %s e-mail for %s failed: %s", template, context["address"], exc)
        return False
    return True


def send_password_changed_email(mailbox: Mailbox) -> bool:
    """Tell the mailbox that its password was changed (never the password itself)."""
    sent = _send(
        "mailbox_password_changed",
        _("The password of %(address)s was changed") % {"address": mailbox.username},
        mailbox.username,
        {"address": mailbox.username, "mailbox": mailbox},
    )
    if not sent:
        # The new password is committed already; a mail server problem must not undo or hide it.
        report(_("Your password was changed, but the confirmation e-mail could not be sent."))
    return sent


def send_password_reset_email(mailbox: Mailbox, link: str) -> bool:
    """Send a password reset link to the mailbox's alternative address."""
    # No report() here: the page must look the same whether or not a mail went out.
    return _send(
        "mailbox_password_reset",
        _("Reset the password of %(address)s") % {"address": mailbox.username},
        mailbox.email_other,
        {
            "address": mailbox.username,
            "mailbox": mailbox,
            "link": link,
            "valid_minutes": max(settings.PASSWORD_RESET_TIMEOUT // 60, 1),
        },
    )
