"""Interop with Postfix Admin's own auto-responder: a vacation written here drives Debian's
postfixadmin vacation.pl (its test mode composes the reply without sending it), and both
responders honour each other's vacation_notification rows."""

from __future__ import annotations

import contextlib
import datetime
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from domains.services import domain_create
from mailboxes.autoreply import deliver
from mailboxes.services import mailbox_create
from mailboxes.vacation import vacation_set
from pfa.models import VacationNotification
from tests.support.tools import missing, require_tool

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

VACATION_DOMAIN = "autoreply.example.org"
SENDER = "friend@elsewhere.example"


@contextlib.contextmanager
def mx_server() -> Iterator[str]:
    """Answer every MX query with mx.<name>, on port 53 of a free loopback address.

    vacation.pl looks up the MX of the mailbox's domain before anything else (even in its
    test mode); this machine has no DNS of its own to ask.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(20):
        a, b, c = (random.randint(2, 254) for _ in range(3))
        address = f"127.{a}.{b}.{c}"
        try:
            sock.bind((address, 53))
            break
        except OSError:
            continue
    else:
        raise RuntimeError("no free loopback address for the test DNS server")
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            (ident,) = struct.unpack("!H", query[:2])
            end = 12
            labels = []
            while query[end]:
                labels.append(query[end + 1 : end + 1 + query[end]])
                end += 1 + query[end]
            question = query[12 : end + 5]
            qtype = struct.unpack("!H", query[end + 1 : end + 3])[0]
            answers = b""
            if qtype == 15:
                exchange = (
                    b"".join(bytes([len(part)]) + part for part in [b"mx", *labels]) + b"\x00"
                )
                rdata = struct.pack("!H", 10) + exchange
                answers = struct.pack("!HHHIH", 0xC00C, 15, 1, 60, len(rdata)) + rdata
            header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if answers else 0, 0, 0)
            sock.sendto(header + question + answers, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield address
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def vacation_pl(tmp_path: Path) -> Path:
    """Copy vacation.pl beside a vacation.conf naming this run's test database."""
    source = Path(require_tool("vacation.pl"))
    db = django_settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine not in ("postgresql", "mysql"):
        pytest.skip("vacation.pl reads PostgreSQL or MySQL/MariaDB only")
    check = subprocess.run(["perl", "-c", str(source)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        missing("vacation.pl", f"vacation.pl cannot load its Perl modules: {check.stderr[:300]}")
    script = tmp_path / "vacation.pl"
    shutil.copy(source, script)
    host = db.get("HOST") or "127.0.0.1"
    if db.get("PORT"):
        host += f";port={db['PORT']}"

    def perl(value: object) -> str:
        return "'" + str(value or "").replace("\\\\", "\\\\\\\\").replace("'", "\\\\'") + "'"

    (tmp_path / "vacation.conf").write_text(
        "\n".join(
            [
                f"our $db_type = {perl('Pg' if engine == 'postgresql' else 'mysql')};",
                f"our $db_host = {perl(host)};",
                f"our $db_username = {perl(db.get('USER'))};",
                f"our $db_password = {perl(db.get('PASSWORD'))};",
                f"our $db_name = {perl(db['NAME'])};",
                f"our $vacation_domain = {perl(VACATION_DOMAIN)};",
                "our $log_level = 2;",
                "1;",
                "",
            ]
        )
    )
    return script


def run_pl(script: Path, message: bytes, recipient: str, nameserver: str) -> str:
    result = subprocess.run(
        ["perl", str(script), "-t", "yes", "-f", SENDER, "--", recipient],
        input=message,
        capture_output=True,
        cwd=script.parent,
        timeout=60,
        check=False,
        env={**os.environ, "LANG": "C.UTF-8", "RES_NAMESERVERS": nameserver},
    )
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0, output
    return output


def message(message_id: str) -> bytes:
    return (
        f"From: Friend <{SENDER}>\nTo: owner@{{domain}}\nSubject: Hi\n"
        f"Message-ID: <{message_id}@elsewhere.example>\n\nHello.\n"
    ).encode()


def test_a_vacation_written_here_drives_postfix_admins_vacation_pl(pfa_cleanup, tmp_path, settings):
    settings.VIMBADMIN_VACATION_DOMAIN = VACATION_DOMAIN
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    script = vacation_pl(tmp_path)
    domain = domain_create(
        actor=None,
        domain="pfa-vacation.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    owner = mailbox_create(
        actor=None, domain=domain, local_part="owner", password="x" * 16, check_policy=False
    )
    now = timezone.now()
    vacation_set(
        actor=None,
        mailbox=owner,
        active=True,
        subject="Out of office",
        body="Back on Monday.",
        activefrom=now - datetime.timedelta(hours=1),
        activeuntil=now + datetime.timedelta(days=2),
        interval_time=86400,
    )
    # The mailbox is told that its auto-reply changed (issue 17); the outbox then holds replies.
    assert [m.to for m in mail.outbox] == [[owner.username]]
    assert "vacation auto-reply" in mail.outbox[0].subject
    mail.outbox.clear()
    target = f"owner#{domain.domain}@{VACATION_DOMAIN}"
    text = message("m1").replace(b"{domain}", domain.domain.encode())

    with mx_server() as nameserver:
        output = run_pl(script, text, target, nameserver)
    assert f"** TEST MODE ** : Vacation response sent to {SENDER} from {owner.username}" in output
    assert "Out of office" in output
    assert VacationNotification.objects.filter(on_vacation=owner.username, notified=SENDER).exists()

    # Postfix Admin's responder answered: ours honours its row within the interval...
    assert deliver(text, sender=SENDER, recipients=[target]) == 0
    assert mail.outbox == []
    # ...and once the interval is over ours answers, and then vacation.pl holds back.
    VacationNotification.objects.update(notified_at=now - datetime.timedelta(days=2))
    assert deliver(text, sender=SENDER, recipients=[target]) == 0
    assert len(mail.outbox) == 1
    with mx_server() as nameserver:
        again = run_pl(script, text, target, nameserver)
    assert "TEST MODE" not in again.replace("Test mode enabled", "")
    assert "Notification interval not elapsed" in again
