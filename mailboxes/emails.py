"""Welcome and settings e-mails, from overridable templates under templates/emails/."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from mailboxes.models import Mailbox
from vimbadmin.context import report

logger = logging.getLogger("vimbadmin.mail")


def server_settings(mailbox: Mailbox) -> list[dict[str, str]]:
    """Return the client settings (host, port, security) with %d/%u/%m filled in."""
    rows = []
    for label, value in (
        ("IMAP", settings.VIMBADMIN_SETTINGS_IMAP),
        ("POP3", settings.VIMBADMIN_SETTINGS_POP3),
        ("SMTP", settings.VIMBADMIN_SETTINGS_SMTP),
    ):
        if not value:
            continue
        host, _sep, rest = _fill(value, mailbox).partition(":")
        port, _sep, security = rest.partition(":")
        rows.append({"protocol": label, "host": host, "port": port, "security": security})
    return rows


def _fill(template: str, mailbox: Mailbox) -> str:
    return (
        template.replace("%d", mailbox.domain_id)
        .replace("%u", mailbox.local_part)
        .replace("%m", mailbox.username)
    )


def _send(template: str, subject: str, mailbox: Mailbox, recipients: list[str]) -> bool:
    context = {
        "mailbox": mailbox,
        "servers": server_settings(mailbox),
        "webmail": _fill(settings.VIMBADMIN_SETTINGS_WEBMAIL, mailbox),
    }
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        # The change is committed already; a mail server problem must not undo or hide it.
        logger.warning("sending %s e-mail for %s failed: %s", template, mailbox.username, exc)
        report(
            _("The change was saved, but the e-mail could not be sent: %(error)s") % {"error": exc}
        )
        return False
    return True


def send_welcome_email(mailbox: Mailbox) -> bool:
    """Send the welcome e-mail (with client settings, never the password) to a new mailbox."""
    return _send("welcome", _("Welcome to your new mailbox"), mailbox, [mailbox.username])


def send_settings_email(mailbox: Mailbox, recipients: list[str]) -> bool:
    """Send the mailbox's client settings to the given addresses."""
    return _send(
        "settings",
        _("Settings for %(address)s") % {"address": mailbox.username},
        mailbox,
        recipients,
    )
