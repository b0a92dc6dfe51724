"""Passwords cross over with Postfix Admin 3.3 itself, in both directions.

Hashes written by Postfix Admin's own CLI verify here (and are upgraded on login); hashes
written here verify in Postfix Admin's own `Login::login()` / `pacrypt()`.

Which `$CONF['encrypt']` lets Postfix Admin 3.3.13 verify the project's hashes:
* `dovecot:<any scheme>`: `_pacrypt_dovecot()` takes the method from the stored `{SCHEME}`
  prefix and runs `doveadm pw -t`, so `{ARGON2ID}`, `{BLF-CRYPT}` and `{SHA512-CRYPT}` all verify.
* `php_crypt` (any variant): `_pacrypt_php_crypt()` strips the `{SCHEME}` prefix and calls PHP's
  crypt(), so `{BLF-CRYPT}` and `{SHA512-CRYPT}` verify but `{ARGON2ID}` does not (crypt() knows
  no Argon2). An operator who keeps Postfix Admin with `php_crypt` picks one of those two schemes.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import Admin
from mail import passwords
from mailboxes.models import Mailbox
from tests.factories import make_admin, make_domain, make_mailbox
from tests.support import pfa_genuine as pfa

pytestmark = pytest.mark.genuine_pfa

SECRET = "Pfa-Compat-Test-7788"
_seq = count(1)

# Postfix Admin's own encrypt settings that write the hashes found in the wild.
PFA_WRITERS = {
    "md5crypt": "$1$",
    "php_crypt:SHA512": "$6$",
    "php_crypt:BLOWFISH": "$2y$",
}

# The script runs inside Postfix Admin (common.php, Login class); the password comes on stdin.
LOGIN_PHP = """<?php
require_once '/usr/share/postfixadmin/common.php';
$password = rtrim(stream_get_contents(STDIN), "\\n");
$login = new Login($argv[1]);
echo $login->login($argv[2], $password) ? "VERIFIED" : "REFUSED";
"""


def _engine() -> str:
    return {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[connection.vendor]


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Iterator[str]:
    """One database built by Postfix Admin 3.3's upgrade.php for this module, dropped after."""
    engine = _engine()
    if engine == "sqlite":
        name = str(tmp_path_factory.mktemp("pfa") / "compat.db")
    else:
        name = f"vimb_pwc_{os.getpid()}"
    pfa.build_genuine_pfa_database(engine, name)
    yield name
    pfa.drop_database(engine, name)


def _query(name: str, sql: str, params: tuple = ()) -> list[tuple]:
    engine = _engine()
    conn = pfa.connect(engine, name)
    try:
        cur = conn.cursor()
        cur.execute(sql.replace("%s", "?") if engine == "sqlite" else sql, params)
        return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def _stored(name: str, table: str, username: str) -> str:
    rows = _query(name, f"SELECT password FROM {table} WHERE username = %s", (username,))
    assert len(rows) == 1
    return rows[0][0]


def _pfa_login(name: str, table: str, username: str, password: str, encrypt: str) -> bool:
    """Ask Postfix Admin's own Login::login() whether the password matches the stored hash."""
    engine = _engine()
    conf = pfa._pfa_conf(engine, name, {"encrypt": encrypt})
    with tempfile.TemporaryDirectory(prefix="pfa_login_") as tmp:
        tmpdir = Path(tmp)
        # The shadowing of tests/support/pfa_genuine.py: our dbconfig.inc.php and a prepend file.
        (tmpdir / "dbconfig.inc.php").write_text(
            "<?php\n"
            f"$dbuser = {pfa._php_literal(conf['database_user'])};\n"
            f"$dbpass = {pfa._php_literal(conf['database_password'])};\n"
            f"$dbname = {pfa._php_literal(conf['database_name'])};\n"
            f"$dbserver = {pfa._php_literal(conf['database_host'])};\n"
            f"$dbport = {pfa._php_literal(conf.get('database_port', ''))};\n"
            f"$dbtype = {pfa._php_literal(conf['database_type'])};\n"
            "$basepath = '';\n"
        )
        lines = [
            "<?php",
            "define('POSTFIXADMIN_CLI', 1);",
            "global $CONF;",
            f"require_once {pfa._php_literal(str(pfa.PFA_DIR / 'config.inc.php'))};",
        ]
        lines += [f"$CONF[{pfa._php_literal(k)}] = {pfa._php_literal(v)};" for k, v in conf.items()]
        (tmpdir / "prepend.php").write_text("\n".join(lines) + "\n")
        (tmpdir / "login.php").write_text(LOGIN_PHP)
        proc = subprocess.run(
            [
                pfa.PHP,
                "-d",
                f"include_path={tmpdir}",
                "-d",
                f"auto_prepend_file={tmpdir / 'prepend.php'}",
                "-d",
                "display_errors=stderr",
                str(tmpdir / "login.php"),
                table,
                username,
            ],
            cwd=tmpdir,
            # Never on the command line: the password goes through a pipe.
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout in ("VERIFIED", "REFUSED"), proc.stdout + proc.stderr
    return proc.stdout == "VERIFIED"


def _new_name(prefix: str) -> str:
    return f"{prefix}{next(_seq)}@compat.example"


# --------------------------------------------------------------------------------------------
# Postfix Admin writes, this project reads


@pytest.mark.parametrize(("encrypt", "magic"), PFA_WRITERS.items())
def test_admin_hash_written_by_pfa_verifies_here(genuine, settings, encrypt, magic):
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    username = _new_name("pfaadmin")
    pfa.create_superadmin_via_pfa(_engine(), genuine, username, SECRET, encrypt=encrypt)
    stored = _stored(genuine, "admin", username)
    assert stored.startswith(magic)
    assert passwords.verify_password(SECRET, stored)
    assert not passwords.verify_password(SECRET + "x", stored)
    assert passwords.needs_rehash(stored)


@pytest.mark.parametrize(("encrypt", "magic"), PFA_WRITERS.items())
def test_mailbox_hash_written_by_pfa_verifies_here(genuine, settings, encrypt, magic):
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    address = _new_name("pfabox")
    pfa.create_mailbox_via_pfa(_engine(), genuine, address, SECRET, encrypt=encrypt)
    stored = _stored(genuine, "mailbox", address)
    assert stored.startswith(magic)
    assert passwords.verify_password(SECRET, stored)
    assert not passwords.verify_password("wrong-" + SECRET, stored)
    assert passwords.needs_rehash(stored)


@pytest.mark.django_db
@pytest.mark.parametrize("encrypt", PFA_WRITERS)
def test_pfa_admin_logs_in_here_and_is_upgraded(genuine, client, settings, encrypt):
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    username = _new_name("crossadmin")
    pfa.create_superadmin_via_pfa(_engine(), genuine, username, SECRET, encrypt=encrypt)
    pfa_hash = _stored(genuine, "admin", username)
    admin = make_admin(username)
    Admin.objects.filter(pk=admin.pk).update(password=pfa_hash)
    response = client.post("/accounts/login/", {"username": username, "password": SECRET})
    assert response.status_code == 302
    upgraded = Admin.objects.get(pk=admin.pk).password
    assert upgraded.startswith("{ARGON2ID}$argon2id$")
    assert passwords.verify_password(SECRET, upgraded)
    # And Postfix Admin (dovecot: verifier) still accepts the upgraded hash.
    _query(genuine, "UPDATE admin SET password = %s WHERE username = %s", (upgraded, username))
    assert _pfa_login(genuine, "admin", username, SECRET, "dovecot:ARGON2ID")


# --------------------------------------------------------------------------------------------
# This project writes, Postfix Admin reads


@pytest.mark.parametrize("scheme", ["ARGON2ID", "BLF-CRYPT", "SHA512-CRYPT"])
def test_admin_hash_written_here_verifies_in_pfa(genuine, scheme):
    username = _new_name("ouradmin")
    pfa.create_superadmin_via_pfa(_engine(), genuine, username, "Initial-Pfa-Pass-1")
    ours = passwords.hash_password(SECRET, scheme=scheme)
    assert ours.startswith("{" + scheme + "}")
    _query(genuine, "UPDATE admin SET password = %s WHERE username = %s", (ours, username))
    assert _pfa_login(genuine, "admin", username, SECRET, "dovecot:ARGON2ID")
    assert not _pfa_login(genuine, "admin", username, SECRET + "x", "dovecot:ARGON2ID")
    crypt_based = scheme != "ARGON2ID"
    assert _pfa_login(genuine, "admin", username, SECRET, "php_crypt") is crypt_based


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["ARGON2ID", "BLF-CRYPT", "SHA512-CRYPT"])
def test_mailbox_password_set_here_verifies_in_pfa(genuine, settings, scheme):
    settings.VIMBADMIN_PASSWORD_SCHEME = scheme
    mailbox = make_mailbox(make_domain(f"m{next(_seq)}.example"), "owner", password=SECRET)
    ours = Mailbox.objects.get(pk=mailbox.pk).password
    assert ours.startswith("{" + scheme + "}")
    address = _new_name("ourbox")
    pfa.create_mailbox_via_pfa(_engine(), genuine, address, "Initial-Pfa-Pass-1")
    _query(genuine, "UPDATE mailbox SET password = %s WHERE username = %s", (ours, address))
    assert _pfa_login(genuine, "mailbox", address, SECRET, "dovecot:ARGON2ID")
    assert not _pfa_login(genuine, "mailbox", address, "Wrong-" + SECRET, "dovecot:ARGON2ID")


@pytest.mark.django_db
def test_admin_password_set_through_the_ui_verifies_in_pfa(genuine, super_client, settings):
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    admin = make_admin(_new_name("uiadmin"))
    response = super_client.post(
        f"/accounts/admins/{admin.pk}/password/", {"password": SECRET, "password2": SECRET}
    )
    assert response.status_code == 302
    ours = Admin.objects.get(pk=admin.pk).password
    pfa.create_superadmin_via_pfa(_engine(), genuine, admin.pk, "Initial-Pfa-Pass-1")
    _query(genuine, "UPDATE admin SET password = %s WHERE username = %s", (ours, admin.pk))
    assert _pfa_login(genuine, "admin", admin.pk, SECRET, "dovecot:ARGON2ID")
