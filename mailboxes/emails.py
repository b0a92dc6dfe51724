"""E-mails about mailboxes (welcome, settings, password changed and reset), from overridable
templates under templates/emails/."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.languages import MAILBOX, mail_language
from core.context import report
from mail.email import OutgoingMail, compose, send_after_commit, send_in_background, send_now
from mail.links import absolute_url, base_url_problem
from mail.names import address_to_unicode, to_unicode
from mailboxes.models import Mailbox


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
        shown = to_unicode(host)
        rows.append(
            {
                "protocol": label,
                "host": host,
                # What a person reads; the stored (ASCII) form follows it when they differ.
                "host_display": shown,
                "host_label": shown if shown == host else f"{shown} ({host})",
                "port": port,
                "security": security,
            }
        )
    return rows


def _fill(template: str, mailbox: Mailbox) -> str:
    return (
        template.replace("%d", mailbox.domain_id)
        .replace("%u", mailbox.local_part)
        .replace("%m", mailbox.username)
    )


def owner_page_url() -> str:
    """Return the full address of the owner's pages (/me/), or '' without a usable base URL."""
    base = (getattr(settings, "VIMBADMIN_BASE_URL", "") or "").strip()
    if not base or base_url_problem(base):
        return ""
    return absolute_url(reverse("selfservice:overview")) or ""


def owner_language(mailbox: Mailbox) -> str:
    """Return the language of mails about a mailbox: its owner's, its domain's, the site's."""
    return mail_language(MAILBOX, mailbox.username)


def _compose(
    kind: str, subject: str, mailbox: Mailbox, recipients: list[str], **extra: object
) -> OutgoingMail:
    context = {
        **extra,
        "mailbox": mailbox,
        "address_display": address_to_unicode(mailbox.username),
        "servers": server_settings(mailbox),
        "webmail": _fill(settings.VIMBADMIN_SETTINGS_WEBMAIL, mailbox),
        "owner_url": owner_page_url(),
    }
    return compose(
        kind,
        subject=subject,
        recipients=recipients,
        context=context,
        about=mailbox.username,
        language=translation.get_language() or "",
    )


def _report_failure(error: str) -> None:
    # The change is committed already; a mail server problem must not undo or hide it.
    text = _("The change was saved, but the e-mail could not be sent: %(error)s")
    report(text % {"error": error})


def send_welcome_email(mailbox: Mailbox, *, invited: bool = False) -> None:
    """Send the welcome e-mail (client settings, never the password) once the mailbox exists.

    `invited`: the owner chooses the password through an invitation, not from the admin.
    """
    with translation.override(owner_language(mailbox)):
        mail = _compose(
            "welcome",
            _("Welcome to your new mailbox"),
            mailbox,
            [mailbox.username],
            invited=invited,
        )
    send_after_commit(mail, on_failure=_report_failure)


def send_settings_email(mailbox: Mailbox, recipients: list[str]) -> bool:
    """Send the mailbox's client settings to the given addresses; a failure is a warning."""
    with translation.override(owner_language(mailbox)):
        mail = _compose(
            "settings",
            _("Settings for %(address)s") % {"address": address_to_unicode(mailbox.username)},
            mailbox,
            recipients,
        )
    error = send_now(mail)
    if error:
        _report_failure(error)
    return not error


def _report_changed_failure(error: str) -> None:
    # The new password is committed already; a mail server problem must not undo or hide it.
    report(_("Your password was changed, but the confirmation e-mail could not be sent."))


def send_password_changed_email(mailbox: Mailbox) -> None:
    """Tell the mailbox, once committed, that its password was changed (never the password).

    The alternative address is told too: whoever took the password may also read the mailbox.
    It is stored only once confirmed (by its owner's link, or typed by an admin).
    """
    recipients = [mailbox.username]
    other = (mailbox.email_other or "").strip().lower()
    if other and other != mailbox.username:
        recipients.append(other)
    with translation.override(owner_language(mailbox)):
        mail = compose(
            "mailbox_password_changed",
            subject=_("The password of %(address)s was changed")
            % {"address": address_to_unicode(mailbox.username)},
            recipients=recipients,
            context={"address": address_to_unicode(mailbox.username), "mailbox": mailbox},
            about=mailbox.username,
            language=translation.get_language() or "",
        )
    send_after_commit(mail, on_failure=_report_changed_failure)


def send_password_reset_email(
    mailbox: Mailbox, *, recipient: str, link: str, deliver: bool = True
) -> None:
    """Queue a password reset link for the mailbox, sent to `recipient` in the background.

    `deliver=False`: prepare and queue it all the same, and let the sender drop it.
    """
    # Never reported on the page: it must look the same whether or not a mail went out.
    with translation.override(owner_language(mailbox)):
        mail = compose(
            "mailbox_password_reset",
            subject=_("Reset the password of %(address)s")
            % {"address": address_to_unicode(mailbox.username)},
            recipients=[recipient],
            context={
                "address": address_to_unicode(mailbox.username),
                "mailbox": mailbox,
                "link": link,
                "valid_minutes": max(settings.PASSWORD_RESET_TIMEOUT // 60, 1),
            },
            about=mailbox.username,
            language=translation.get_language() or "",
        )
    send_in_background(mail, deliver=deliver)


def _report_owner_change_failure(error: str) -> None:
    report(_("The change was saved, but the confirmation e-mail could not be sent."))


def send_owner_change_email(mailbox: Mailbox, *, what: str, by_admin: bool = False) -> None:
    """Tell the mailbox, once committed, that `what` (forwarding, vacation...) was changed.

    By its owner or, `by_admin`, by an administrator (a page, the API or the shell): a session
    taken over by someone else cannot redirect or answer the mail unnoticed. A forwarding notice
    goes to the alternative address too: the new forwarding may no longer deliver here.
    """
    recipients = [mailbox.username]
    other = mailbox.email_other
    if what == "forwarding" and other and other.lower() != mailbox.username.lower():
        recipients.append(other)
    with translation.override(owner_language(mailbox)):
        subjects = {
            "forwarding": _("The forwarding of %(address)s was changed"),
            "vacation": _("The vacation auto-reply of %(address)s was changed"),
            "email_other": _("The alternative address of %(address)s was changed"),
        }
        labels = {
            "forwarding": _("forwarding"),
            "vacation": _("vacation auto-reply"),
            "email_other": _("alternative address"),
        }
        mail = compose(
            "mailbox_changed",
            subject=subjects[what] % {"address": address_to_unicode(mailbox.username)},
            recipients=recipients,
            context={
                "address": address_to_unicode(mailbox.username),
                "mailbox": mailbox,
                "what": labels[what],
                "by_admin": by_admin,
            },
            about=mailbox.username,
            language=translation.get_language() or "",
        )
    send_after_commit(mail, on_failure=_report_owner_change_failure)
