"""After `import_vimbadmin`, the real Dovecot and Postfix, configured from `mailconfig` with the
options the import printed, serve every imported mailbox from its old maildir: IMAP logins with
the old passwords list the old messages, new mail lands in the same maildir, and the alias
domain delivers."""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.support import vimbadmin3 as v3
from tests.support.mailstack import (
    VMAIL_USER,
    require_stack,
    running_stack,
)
from tests.support.pfa_genuine import drop_database
from tests.support.tools import require_tool

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

SCHEMES = "dovecot:BLF-CRYPT,md5,plain"


def _require_stack() -> str:
    require_stack({"postgresql": "pgsql", "mysql": "mysql"}.get(connection.vendor))
    require_tool("doveadm")
    return connection.vendor


def _old_message(maildir: Path, subject: str) -> None:
    """Put a message into a maildir's INBOX as Dovecot had delivered it under ViMbAdmin."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    body = f"From: old@sender.test\nSubject: {subject}\n\nDelivered before the move.\n"
    (maildir / "new" / f"1546300800.M1P1.old-{secrets.token_hex(4)}").write_text(body)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


def _mailconfig_options(output: str) -> dict[str, object]:
    """Turn the `mailconfig dovecot ...` line the import printed into call_command options."""
    line = next(line for line in output.splitlines() if "manage.py mailconfig dovecot" in line)
    args = shlex.split(line.split("mailconfig dovecot", 1)[1])
    options: dict[str, object] = {}
    while args:
        flag = args.pop(0)
        if flag == "--mailbox-locations":
            options["mailbox_locations"] = True
        else:
            options[flag[2:].replace("-", "_")] = args.pop(0)
    return options


def test_imported_mailboxes_keep_their_passwords_and_mail(pfa_cleanup, settings):
    engine = _require_stack()
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    base = Path(tempfile.mkdtemp(prefix="vimb-v3-", dir="/tmp"))
    base.chmod(0o755)
    old_root = base / "srv" / "vmail"
    domain = f"old{secrets.token_hex(4)}.example"
    alias_domain = f"alias{secrets.token_hex(4)}.example"
    plan = {
        "anna": ("anna-Secret-1", "dovecot:BLF-CRYPT"),
        "bert": ("bert-Secret-2", "crypt:sha512"),
        "carl": ("carl-Secret-3", "crypt:md5"),
        "dora": ("dora-Secret-4", "md5"),
        "emil": ("emil-Secret-5", "plain"),
    }
    homes = {local: old_root / domain / local for local in plan}
    maildirs = {local: home / "mail" for local, home in homes.items()}
    # One mailbox lives off the template, at a location of its own.
    homes["emil"] = base / "homes" / "emil"
    maildirs["emil"] = base / "special" / "emil"
    mailboxes = [
        v3.VMailbox(
            local,
            password,
            scheme=scheme,
            homedir=str(homes[local]),
            maildir=f"maildir:{maildirs[local]}:LAYOUT=fs",
        )
        for local, (password, scheme) in plan.items()
    ]
    old_subjects = {local: f"old-{local}-{secrets.token_hex(4)}" for local in plan}
    for local, maildir in maildirs.items():
        homes[local].mkdir(parents=True, exist_ok=True)
        _old_message(maildir, old_subjects[local])
    vmail = pwd.getpwnam(VMAIL_USER)
    _chown_tree(base, vmail.pw_uid, vmail.pw_gid)
    base.chmod(0o755)

    name = f"{os.environ.get('DATABASE_TEST_NAME', 'vimb')}_v3it_{os.getpid()}"
    conn = v3.create_database(engine, name)
    try:
        v3.fill(
            conn,
            engine,
            [v3.VDomain(domain, mailboxes=mailboxes), v3.VDomain(alias_domain)],
            alias_domains=[(alias_domain, domain)],
        )
    finally:
        conn.close()
    try:
        out = StringIO()
        call_command(
            "import_vimbadmin",
            "--source",
            v3.source_url(engine, name),
            "--apply",
            "--password-scheme",
            SCHEMES,
            stdout=out,
            stderr=StringIO(),
        )
        options = _mailconfig_options(out.getvalue())
        assert options == {
            "mail_root": str(old_root),
            "mail_location": "maildir:~/mail:LAYOUT=fs",
            "uid": "2000",
            "gid": "2000",
            "mailbox_locations": True,
        }
        mail_root = Path(str(options.pop("mail_root")))
        # The stack's mail belongs to its own unprivileged user (the old maildirs were chowned).
        del options["uid"], options["gid"]
        with running_stack(mailconfig=options, own_mail_root=mail_root) as stack:
            for local, (password, _scheme) in plan.items():
                address = f"{local}@{domain}"
                assert stack.can_login(address, password), (address, stack.logs())
                assert not stack.can_login(address, password + "x")
                assert old_subjects[local] in stack.inbox_subjects(address, password)
            for local, (password, _scheme) in plan.items():
                address = f"{local}@{domain}"
                subject = stack.send([address])
                assert stack.wait_for(address, password, subject), stack.logs()
                # Delivered into the old maildir, next to the old message.
                stored = [
                    p.read_text(errors="replace")
                    for sub in ("new", "cur")
                    for p in (maildirs[local] / sub).iterdir()
                ]
                assert any(subject in text for text in stored)
                assert any(old_subjects[local] in text for text in stored)
            subject = stack.send([f"anna@{alias_domain}"])
            assert stack.wait_for(f"anna@{domain}", plan["anna"][0], subject), stack.logs()
    finally:
        drop_database(engine, name)
        shutil.rmtree(base, ignore_errors=True)
