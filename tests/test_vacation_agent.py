"""The auto-responder (`manage.py vacation_deliver`): who gets a reply, how often, what it
looks like, and how it fails. The mail-stack test drives it through real Postfix."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
from email import message_from_string
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from mailboxes.autoreply import EX_TEMPFAIL, deliver, mailbox_of_target
from mailboxes.vacation import vacation_set
from pfa.models import Vacation, VacationNotification
from tests.factories import make_mailbox
from tests.support.mailtools import closed_port

TARGET = "owner#alpha.example@autoreply.example.org"
SENDER = "friend@elsewhere.example"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _vacation_domain(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def owner(domain_a):
    mailbox = make_mailbox(domain_a, "owner", name="Zoë Owner")
    now = timezone.now()
    vacation_set(
        actor=None,
        mailbox=mailbox,
        active=True,
        subject="Abwesend \u2013 zurück am Montag",
        body="Ich bin nicht da.\n",
        activefrom=now - datetime.timedelta(days=1),
        activeuntil=now + datetime.timedelta(days=1),
        interval_time=86400,
    )
    return mailbox


def raw(*, sender: str = SENDER, extra: str = "", message_id: str = "<m1@elsewhere.example>"):
    return (
        f"From: Friend <{sender}>\nTo: owner@alpha.example\nSubject: Hello\n"
        f"Message-ID: {message_id}\nReferences: <m0@elsewhere.example>\n{extra}\nHi!\n"
    ).encode()


def run(data: bytes, sender: str = SENDER) -> int:
    return deliver(data, sender=sender, recipients=[TARGET])


def test_mailbox_of_target():
    assert mailbox_of_target(TARGET) == "owner@alpha.example"
    assert mailbox_of_target("Owner#Alpha.Example@autoreply.example.org") == "owner@alpha.example"
    assert mailbox_of_target("owner@alpha.example") == ""


def test_one_reply_per_interval_with_rfc3834_headers(owner):
    assert run(raw()) == 0
    (reply,) = mail.outbox
    assert reply.to == [SENDER]
    parsed = message_from_string(reply.message().as_string())
    assert str(make_header(decode_header(parsed["Subject"]))) == "Abwesend \u2013 zurück am Montag"
    assert "Zo" in str(make_header(decode_header(parsed["From"])))
    assert "owner@alpha.example" in parsed["From"]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["In-Reply-To"] == "<m1@elsewhere.example>"
    assert parsed["References"] == "<m0@elsewhere.example> <m1@elsewhere.example>"
    assert "Ich bin nicht da." in reply.body
    # A second message within the interval gets no second reply.
    assert run(raw(message_id="<m2@elsewhere.example>")) == 0
    assert len(mail.outbox) == 1
    # After the interval, one more.
    VacationNotification.objects.filter(on_vacation="owner@alpha.example").update(
        notified_at=timezone.now() - datetime.timedelta(days=2)
    )
    run(raw(message_id="<m3@elsewhere.example>"))
    assert len(mail.outbox) == 2


def test_interval_zero_replies_once_for_the_whole_absence(owner):
    Vacation.objects.filter(email=owner.username).update(interval_time=0)
    run(raw())
    VacationNotification.objects.update(notified_at=timezone.now() - datetime.timedelta(days=300))
    run(raw())
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        ("", ""),
        ("MAILER-DAEMON@mx.elsewhere.example", ""),
        ("noreply@shop.example", ""),
        ("no-reply@shop.example", ""),
        ("news-bounces@lists.example", ""),
        ("owner@alpha.example", ""),
        (SENDER, "List-Id: <friends.lists.example>"),
        (SENDER, "List-Unsubscribe: <mailto:leave@lists.example>"),
        (SENDER, "Precedence: bulk"),
        (SENDER, "Precedence: junk"),
        (SENDER, "Auto-Submitted: auto-replied"),
        (SENDER, "Auto-Submitted: auto-generated"),
        (SENDER, "X-Auto-Response-Suppress: OOF"),
    ],
)
def test_never_replies_to_lists_bulk_automatic_or_machine_senders(owner, sender, extra):
    assert run(raw(sender=sender, extra=extra), sender=sender) == 0
    assert mail.outbox == []
    assert not VacationNotification.objects.exists()


def test_auto_submitted_no_is_answered(owner):
    run(raw(extra="Auto-Submitted: no"))
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"activefrom": timezone.now() + datetime.timedelta(days=1)},
        {"activeuntil": timezone.now() - datetime.timedelta(minutes=1)},
    ],
)
def test_no_reply_outside_the_window_or_when_off(owner, change):
    Vacation.objects.filter(email=owner.username).update(**change)
    run(raw())
    assert mail.outbox == []


def test_no_reply_when_the_alias_no_longer_routes_to_vacation(owner):
    from aliases.models import Alias

    Alias.objects.filter(pk=owner.username).update(goto=owner.username)
    run(raw())
    assert mail.outbox == []


def test_only_direct_mail_when_asked(owner, settings):
    settings.VIMBADMIN_VACATION_ONLY_DIRECT = True
    bcc = raw().replace(b"To: owner@alpha.example", b"To: team@alpha.example")
    run(bcc)
    assert mail.outbox == []
    run(raw())
    assert len(mail.outbox) == 1


def test_malformed_mail_never_crashes(owner):
    assert run(b"\xff\xfe\x00garbage without headers\n\n\x00") == 0
    assert run(b"") == 0
    assert deliver(raw(), sender=SENDER, recipients=["not-a-target"]) == 0


def test_the_command_reads_the_message_on_stdin(owner, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw())))
    call_command("vacation_deliver", "-f", SENDER, "--", TARGET)
    assert len(mail.outbox) == 1


def test_database_outage_is_a_temporary_failure():
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://root@127.0.0.1:{closed_port()}/vimb_gone",
        "VIMBADMIN_VACATION_DOMAIN": "autoreply.example.org",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "vacation_deliver", "-f", SENDER, TARGET],
        input=raw(),
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == EX_TEMPFAIL, result.stderr.decode()
    assert b"Postfix will retry" in result.stderr


# -- mailconfig postfix: the transport, the master.cf service, the launcher -----------------


def test_mailconfig_postfix_adds_the_vacation_transport_and_service(tmp_path, settings):
    from mailserver.configs import POSTFIX_FILES

    settings.VIMBADMIN_VACATION_DOMAIN = ""
    settings.DATABASES = {
        **settings.DATABASES,
        "mailcfg": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "mail",
            "USER": "vimb",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        },
    }
    plain = tmp_path / "plain"
    call_command(
        "mailconfig", "postfix", database="mailcfg", output=str(plain), stdout=io.StringIO()
    )
    assert sorted(p.name for p in plain.iterdir()) == sorted(POSTFIX_FILES)
    assert "vacation" not in (plain / "main.cf.snippet").read_text()

    out = tmp_path / "vac"
    call_command(
        "mailconfig",
        "postfix",
        database="mailcfg",
        output=str(out),
        vacation_domain="AutoReply.example.org",
        vacation_user="vimbvac",
        vacation_env_file="/etc/vimbadmin/vacation.env",
        stdout=io.StringIO(),
    )
    main_cf = (out / "main.cf.snippet").read_text()
    assert "transport_maps = inline:{ autoreply.example.org=vacation: }," in main_cf
    assert "vacation_destination_recipient_limit = 1" in main_cf
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON vacation_notification" in main_cf
    master = (out / "master.cf.vacation").read_text()
    assert "pipe\n  flags=q user=vimbvac argv=" in master
    assert f"argv={out}/vacation-deliver --sender=${{sender}} -- ${{recipient}}" in master
    launcher = out / "vacation-deliver"
    assert launcher.stat().st_mode & 0o777 == 0o750
    text = launcher.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert ". /etc/vimbadmin/vacation.env\n" in text
    assert f'{ROOT / "manage.py"} vacation_deliver "$@"' in text


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("vacation_domain", "bad domain", "plain lower-case domain"),
        ("vacation_user", "root", "refuses to run as root"),
        ("vacation_env_file", "relative.env", "absolute paths"),
    ],
)
def test_mailconfig_refuses_bad_vacation_options(settings, option, value, message):
    from django.core.management.base import CommandError

    settings.DATABASES = {
        **settings.DATABASES,
        "mailcfg": {"ENGINE": "django.db.backends.postgresql", "NAME": "mail", "USER": "v"},
    }
    kwargs = {"vacation_domain": "autoreply.example.org", option: value}
    with pytest.raises(CommandError, match=message):
        call_command("mailconfig", "postfix", database="mailcfg", stdout=io.StringIO(), **kwargs)
