"""E-mails to mailbox owners about their password, from templates under templates/emails/."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from core.context import report
from mail.email import compose, send_after_commit, send_in_background
from mailboxes.models import Mailbox


def _report_changed_failure(error: str) -> None:
    # The new password is committed already; a mail server problem must not undo or hide it.
    report(_("Your password was changed, but the confirmation e-mail could not be sent."))


def send_password_changed_email(mailbox: Mailbox) -> None:
    """Tell the mailbox, once committed, that its password was changed (never the password)."""
    mail = compose(
        "mailbox_password_changed",
        subject=_("The password of %(address)s was changed") % {"address": mailbox.username},
        recipients=[mailbox.username],
        context={"address": mailbox.username, "mailbox": mailbox},
        about=mailbox.username,
    )
    send_after_commit(mail, on_failure=_report_changed_failure)


def send_password_reset_email(mailbox: Mailbox, *, recipient: str, link: str) -> None:
    """Queue a password reset link for the mailbox, sent to `recipient` in the background."""
    # Never reported on the page: it must look the same whether or not a mail went out.
    mail = compose(
        "mailbox_password_reset",
        subject=_("Reset the password of %(address)s") % {"address": mailbox.username},
        recipients=[recipient],
        context={
            "address": mailbox.username,
            "mailbox": mailbox,
            "link": link,
            "valid_minutes": max(settings.PASSWORD_RESET_TIMEOUT // 60, 1),
        },
        about=mailbox.username,
    )
    send_in_background(mail)
