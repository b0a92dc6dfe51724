"""The vacation auto-responder: decide whether a message gets a reply, and write the reply.

Postfix hands each message for `local#domain@<vacation domain>` to `manage.py vacation_deliver`
(a `pipe` transport); the mailbox's own copy is delivered through the other destinations of
the same alias, so nothing here can affect it. The rules are those of a careful vacation(1)
and RFC 3834: at most one reply per sender and interval (`vacation_notification`), only while
the vacation row is active and inside its window and the alias still routes to it, never to
the null sender, mailer daemons, no-reply senders, the mailbox itself, mailing lists, bulk or
automatic mail.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage as DjangoEmailMessage
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from aliases.models import Alias
from mailboxes.models import Mailbox
from pfa.goto import parse_goto
from pfa.models import Vacation, VacationNotification

logger = logging.getLogger("vimbadmin.vacation")

# sysexits.h: Postfix keeps the message and tries again later.
EX_TEMPFAIL = 75
# Only the header is read for the decision; the rest is drained so Postfix sees it taken.
HEADER_BYTES = 256 * 1024

# Local parts that belong to programs, not people (compared case-insensitively).
_MACHINE_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|listserv|majordomo|mailman|owner-.*|.*-owner|.*-request"
    r"|.*-bounces?(\+.*)?|bounces?(\+.*)?|no-?reply.*|do-?not-?reply.*|noreply.*)$"
)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# Headers that only mailing lists and list-like senders add.
_LIST_HEADERS = (
    "list-id",
    "list-post",
    "list-unsubscribe",
    "list-help",
    "list-subscribe",
    "list-owner",
    "list-archive",
    "mailing-list",
    "x-mailing-list",
    "x-list",
)


@dataclass(frozen=True)
class Decision:
    """Whether to reply, and why not (one word, for the log line)."""

    reply: bool
    reason: str = ""


def mailbox_of_target(recipient: str) -> str:
    """Return the mailbox address of a vacation target `local#domain@<vacation domain>`."""
    local, at, _domain = recipient.strip().lower().rpartition("@")
    user, hash_sign, domain = local.rpartition("#")
    if not at or not hash_sign or not user or not domain:
        return ""
    return f"{user}@{domain}"


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return str(value).strip() if value is not None else ""


def message_problem(message: Message, *, sender: str, mailbox: str) -> str:
    """Return why this message must not be answered, or '' when it may be."""
    sender = sender.strip().lower()
    if not sender or sender in ("<>", "mailer-daemon"):
        return "null-sender"
    local, at, _domain = sender.rpartition("@")
    if not at or _MACHINE_SENDER.match(local):
        return "machine-sender"
    if sender == mailbox.lower():
        return "own-address"
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto-submitted"
    if _header(message, "Precedence").lower() in _BULK_PRECEDENCE:
        return "bulk"
    if any(message.get(name) is not None for name in _LIST_HEADERS):
        return "list"
    suppress = _header(message, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return "suppressed"
    return ""


def addressed_to(message: Message, addresses: set[str]) -> bool:
    """Tell whether one of `addresses` is in the To or Cc of the message."""
    found = getaddresses([str(v) for v in (message.get_all("To", []) + message.get_all("Cc", []))])
    return any(addr.strip().lower() in addresses for _name, addr in found)


def vacation_in_force(mailbox: str, now: datetime.datetime) -> Vacation | None:
    """Return the mailbox's vacation row when a reply may go out now, else None."""
    row = Vacation.objects.filter(email=mailbox, active=True).first()
    if row is None:
        return None
    if row.activefrom is not None and now < row.activefrom:
        return None
    if row.activeuntil is not None and now > row.activeuntil:
        return None
    owner = Mailbox.objects.filter(username=mailbox, active=True).first()
    if owner is None:
        return None
    alias = Alias.objects.filter(address=mailbox, active=True).first()
    # Switched off in the alias (e.g. by Postfix Admin): the row alone does not answer.
    if alias is None or not parse_goto(mailbox, alias.goto).vacation:
        return None
    return row


def claim_notification(row: Vacation, sender: str, now: datetime.datetime) -> bool:
    """Record that `sender` is answered now; False when it was answered within the interval.

    interval_time 0 means once for the whole absence, as in Postfix Admin.
    """
    key = {"on_vacation": row.email, "notified": sender[:255]}
    with transaction.atomic():
        seen = VacationNotification.objects.select_for_update().filter(**key).first()
        if seen is not None:
            if row.interval_time <= 0:
                return False
            if now - seen.notified_at < datetime.timedelta(seconds=row.interval_time):
                return False
            VacationNotification.objects.filter(**key).update(notified_at=now)
            return True
        try:
            with transaction.atomic():
                VacationNotification.objects.create(**key, notified_at=now)
        except IntegrityError:
            # Another delivery answered this sender a moment ago.
            return False
    return True


def build_reply(
    *,
    mailbox: str,
    name: str,
    subject: str,
    body: str,
    to: str,
    original: Message | None = None,
    now: datetime.datetime | None = None,
) -> EmailMessage:
    """Write the RFC 3834 reply: from the mailbox, to the sender, marked auto-replied."""
    reply = EmailMessage()
    local, _at, domain = mailbox.partition("@")
    reply["From"] = Address(display_name=name or "", username=local, domain=domain)
    reply["To"] = to
    reply["Subject"] = subject
    reply["Date"] = format_datetime(now or timezone.now())
    reply["Message-ID"] = make_msgid(domain=domain or None)
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"
    reply["Precedence"] = "bulk"
    if original is not None:
        original_id = _header(original, "Message-ID")
        if original_id and "\n" not in original_id:
            reply["In-Reply-To"] = original_id
            references = " ".join(_header(original, "References").split())
            reply["References"] = f"{references} {original_id}".strip()[-4000:]
    reply.set_content(body if body.endswith("\n") else body + "\n", charset="utf-8")
    return reply


def send_reply(reply: EmailMessage, *, to: str) -> None:
    """Send the reply with the null envelope sender (RFC 3834), so it never bounces back.

    With the SMTP backend the message goes to EMAIL_HOST as it is; other backends (console,
    file, locmem in tests) get it as a Django message.
    """
    backend = get_connection()
    if isinstance(backend, SMTPBackend):
        backend.open()
        assert backend.connection is not None  # open() raises when it cannot connect
        try:
            backend.connection.sendmail("", [to], reply.as_bytes(policy=policy.SMTP))
        finally:
            backend.close()
        return
    body = reply.get_body(("plain",))
    message = DjangoEmailMessage(
        subject=str(reply["Subject"]),
        body=body.get_content() if body is not None else "",
        from_email=str(reply["From"]),
        to=[to],
        headers={
            name: str(reply[name])
            for name in ("Auto-Submitted", "In-Reply-To", "References", "Message-ID", "Date")
            if reply[name] is not None
        },
        connection=backend,
    )
    message.send()


def deliver(data: bytes, *, sender: str, recipients: list[str]) -> int:
    """Answer one message handed over by Postfix; return the exit status for Postfix.

    0 also when nothing is sent (a list, an unknown target, a malformed message); EX_TEMPFAIL
    when the database or the mail server cannot be reached, so Postfix retries.
    """
    try:
        message = BytesHeaderParser(policy=policy.compat32).parsebytes(data[:HEADER_BYTES])
    except Exception:  # any parser failure: never crash, never reply
        logger.warning("vacation: unreadable message from %s, not answered", sender)
        return 0
    status = 0
    for recipient in recipients:
        try:
            outcome = answer(message, sender=sender, recipient=recipient)
        except DatabaseError as exc:
            logger.error("vacation: database unavailable (%s); Postfix will retry", exc)
            return EX_TEMPFAIL
        except OSError as exc:
            logger.error("vacation: could not send the reply (%s); Postfix will retry", exc)
            status = EX_TEMPFAIL
            continue
        except Exception:
            logger.exception("vacation: message from %s to %s not answered", sender, recipient)
            continue
        logger.info("vacation: %s -> %s: %s", sender or "<>", recipient, outcome)
    return status


def answer(message: Message, *, sender: str, recipient: str) -> str:
    """Reply to one message for one vacation target if the rules allow; say what happened."""
    mailbox = mailbox_of_target(recipient)
    if not mailbox:
        return "not a vacation address"
    problem = message_problem(message, sender=sender, mailbox=mailbox)
    if problem:
        return f"not answered ({problem})"
    only_direct = getattr(settings, "VIMBADMIN_VACATION_ONLY_DIRECT", False)
    if only_direct and not addressed_to(message, {mailbox}):
        return "not answered (not in To or Cc)"
    now = timezone.now()
    row = vacation_in_force(mailbox, now)
    if row is None:
        return "not answered (no vacation in force)"
    owner = Mailbox.objects.get(username=mailbox)
    with transaction.atomic():
        # The claim commits only with a sent reply: a failed send is retried and answered.
        if not claim_notification(row, sender.strip().lower(), now):
            return "not answered (already answered within the interval)"
        reply = build_reply(
            mailbox=mailbox,
            name=owner.name,
            subject=row.subject,
            body=row.body,
            to=sender,
            original=message,
            now=now,
        )
        send_reply(reply, to=sender)
    return "answered"
