"""Vacation through real Postfix: the alias delivers to the mailbox and to the vacation
transport, which runs `manage.py vacation_deliver`; the reply is read from the sender's own
mailbox over IMAP. Forwarding with and without a copy, set on the owner's page rules."""

from __future__ import annotations

import datetime
import imaplib
import secrets
import smtplib
import subprocess
import time
import uuid
from email.message import EmailMessage

import pytest
from django.utils import timezone

from accounts.models import Admin
from domains.services import domain_create
from mailboxes.services import mailbox_create, mailbox_set_forwarding
from mailboxes.vacation import vacation_set
from pfa.models import Vacation, VacationNotification
from tests.support.mailstack import DELIVERY_TIMEOUT, VACATION_DOMAIN, MailStack, _env

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

SUBJECT = "Abwesend \u2013 back on Monday"


@pytest.fixture
def vacation_site(stack: MailStack, settings) -> MailStack:
    settings.VIMBADMIN_VACATION_DOMAIN = VACATION_DOMAIN
    return stack


def mailbox(actor: Admin, domain, local: str):
    password = secrets.token_urlsafe(15)
    box = mailbox_create(
        actor=actor, domain=domain, local_part=local, password=password, name=local.title()
    )
    return box, password


def send(stack: MailStack, *, sender: str, to: str, headers: dict[str, str] | None = None) -> str:
    subject = f"it-{uuid.uuid4().hex}"
    message = EmailMessage()
    message["From"] = sender or "nobody@nowhere.invalid"
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content("Hello.\n")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=[to])
    return subject


def vacation_runs(stack: MailStack) -> int:
    text = stack.postfix_log.read_text(errors="replace") if stack.postfix_log.exists() else ""
    return sum(
        1 for line in text.splitlines() if "relay=vacation" in line and "status=sent" in line
    )


def settle(stack: MailStack, *, runs: int) -> None:
    """Wait until the auto-responder ran `runs` times in all and the queue is empty."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while vacation_runs(stack) < runs:
        assert time.monotonic() < deadline, f"vacation ran {vacation_runs(stack)} times\n" + (
            stack.logs(80)
        )
        time.sleep(0.25)
    while True:
        queue = subprocess.run(
            ["postqueue", "-c", str(stack.postfix_dir), "-p"],
            capture_output=True,
            text=True,
            check=False,
            env=_env(),
        ).stdout
        if "Mail queue is empty" in queue:
            return
        assert time.monotonic() < deadline, queue + stack.logs(80)
        time.sleep(0.25)


def replies(stack: MailStack, username: str, password: str) -> int:
    return sum(1 for s in stack.inbox_subjects(username, password) if "back on Monday" in s)


def reply_headers(stack: MailStack, username: str, password: str) -> str:
    with imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=30) as imap:
        imap.login(username, password)
        imap.select("INBOX", readonly=True)
        _, data = imap.search(None, "HEADER", "Auto-Submitted", "auto-replied")
        (num,) = data[0].split()
        _, parts = imap.fetch(num, "(BODY.PEEK[HEADER])")
        imap.logout()
    assert isinstance(parts[0], tuple)
    return parts[0][1].decode()


def test_vacation_replies_once_per_interval_and_never_to_lists(vacation_site, actor):
    stack = vacation_site
    domain = domain_create(
        actor=actor,
        domain=f"v{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    owner, owner_pw = mailbox(actor, domain, "owner")
    friend, friend_pw = mailbox(actor, domain, "friend")
    now = timezone.now()
    vacation_set(
        actor=owner.username,
        mailbox=owner,
        active=True,
        subject=SUBJECT,
        body="I am away.\n",
        activefrom=now - datetime.timedelta(hours=1),
        activeuntil=now + datetime.timedelta(days=3),
        interval_time=86400,
    )
    runs = vacation_runs(stack)

    # Two messages within the interval: both delivered, one reply.
    first = send(stack, sender=friend.username, to=owner.username)
    second = send(stack, sender=friend.username, to=owner.username)
    settle(stack, runs=runs + 2)
    runs += 2
    assert stack.wait_for(owner.username, owner_pw, first)
    assert stack.wait_for(owner.username, owner_pw, second)
    assert replies(stack, friend.username, friend_pw) == 1
    headers = reply_headers(stack, friend.username, friend_pw)
    # RFC 3834: the null envelope sender, marked auto-replied, from the mailbox by name.
    assert "Return-Path: <>" in headers
    assert f"From: Owner <{owner.username}>" in headers
    assert "In-Reply-To: <" in headers

    # After the interval: one more.
    VacationNotification.objects.filter(on_vacation=owner.username).update(
        notified_at=now - datetime.timedelta(days=2)
    )
    send(stack, sender=friend.username, to=owner.username)
    settle(stack, runs=runs + 1)
    runs += 1
    assert replies(stack, friend.username, friend_pw) == 2

    # A list message, and the null sender: delivered, never answered.
    VacationNotification.objects.all().delete()
    listed = send(
        stack, sender=friend.username, to=owner.username, headers={"List-Id": "<x.lists.test>"}
    )
    bounce = send(stack, sender="", to=owner.username)
    settle(stack, runs=runs + 2)
    runs += 2
    assert stack.wait_for(owner.username, owner_pw, listed)
    assert stack.wait_for(owner.username, owner_pw, bounce)
    assert replies(stack, friend.username, friend_pw) == 2

    # After activeuntil: no reply.
    Vacation.objects.filter(email=owner.username).update(
        activeuntil=now - datetime.timedelta(minutes=1)
    )
    send(stack, sender=friend.username, to=owner.username)
    settle(stack, runs=runs + 1)
    runs += 1
    assert replies(stack, friend.username, friend_pw) == 2

    # Switched off: the alias no longer routes to the responder at all.
    vacation_set(
        actor=owner.username,
        mailbox=owner,
        active=False,
        subject=SUBJECT,
        body="I am away.\n",
        activefrom=now - datetime.timedelta(hours=1),
        activeuntil=now + datetime.timedelta(days=3),
        interval_time=86400,
    )
    last = send(stack, sender=friend.username, to=owner.username)
    assert stack.wait_for(owner.username, owner_pw, last)
    settle(stack, runs=runs)
    assert vacation_runs(stack) == runs
    assert replies(stack, friend.username, friend_pw) == 2


def test_forwarding_with_and_without_a_copy(vacation_site, actor):
    stack = vacation_site
    domain = domain_create(
        actor=actor,
        domain=f"f{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    owner, owner_pw = mailbox(actor, domain, "owner")
    boss, boss_pw = mailbox(actor, domain, "boss")
    mailbox_set_forwarding(
        actor=owner.username, mailbox=owner, targets=[boss.username], keep_copy=True
    )
    both = send(stack, sender="someone@sender.test", to=owner.username)
    assert stack.wait_for(owner.username, owner_pw, both)
    assert stack.wait_for(boss.username, boss_pw, both)
    mailbox_set_forwarding(
        actor=owner.username, mailbox=owner, targets=[boss.username], keep_copy=False
    )
    only = send(stack, sender="someone@sender.test", to=owner.username)
    assert stack.wait_for(boss.username, boss_pw, only)
    assert only not in stack.inbox_subjects(owner.username, owner_pw)


def test_an_admins_forwarding_change_is_noticed_through_real_smtp(vacation_site, actor, settings):
    """The notice leaves through Django's SMTP backend into Postfix: with the copy dropped, the
    mailbox's own notice follows the new forwarding, and the alternative address gets one too."""
    stack = vacation_site
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = stack.smtp_port
    settings.DEFAULT_FROM_EMAIL = "ViMbAdmin <postmaster@sender.test>"
    domain = domain_create(
        actor=actor,
        domain=f"n{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    private, private_pw = mailbox(actor, domain, "private")
    elsewhere, elsewhere_pw = mailbox(actor, domain, "elsewhere")
    owner, _owner_pw = mailbox(actor, domain, "owner")
    owner.email_other = private.username
    owner.save(update_fields=["email_other"])
    subject = f"The forwarding of {owner.username} was changed"
    mailbox_set_forwarding(
        actor=actor, mailbox=owner, targets=[elsewhere.username], keep_copy=False
    )
    assert stack.wait_for(private.username, private_pw, subject)
    assert stack.wait_for(elsewhere.username, elsewhere_pw, subject)
    # Saving the same forwarding again changes nothing and sends nothing.
    mailbox_set_forwarding(
        actor=actor, mailbox=owner, targets=[elsewhere.username], keep_copy=False
    )
    marker = send(stack, sender="someone@sender.test", to=private.username)
    assert stack.wait_for(private.username, private_pw, marker)
    assert stack.inbox_subjects(private.username, private_pw).count(subject) == 1
