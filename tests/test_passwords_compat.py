"""Passwords cross over with Postfix Admin 3.3 itself, in both directions.

Hashes written by Postfix Admin's own CLI verify here (and are upgraded on login); hashes
written here verify in Postfix Admin's own `Login::login()` / `pacrypt()`.

With VIMBADMIN_PFA_ENCRYPT naming Postfix Admin's `$CONF['encrypt']`, every encrypt value
Postfix Admin 3.3 supports is driven end to end, for admins and mailboxes: an account Postfix
Admin wrote logs in here and then in Postfix Admin; an account re-hashed here before the setting
(the `{ARGON2ID}` that locked admins out) logs in here and then in Postfix Admin; and a password
set here verifies in Postfix Admin.

Without the setting, which `$CONF['encrypt']` lets Postfix Admin 3.3.13 verify the project's
hashes:
* `dovecot:<any scheme>`: `_pacrypt_dovecot()` takes the method from the stored `{SCHEME}`
  prefix and runs `doveadm pw -t`, so `{ARGON2ID}`, `{BLF-CRYPT}` and `{SHA512-CRYPT}` all verify.
* `php_crypt` (any variant): `_pacrypt_php_crypt()` strips the `{SCHEME}` prefix and calls PHP's
  crypt(), so `{BLF-CRYPT}` and `{SHA512-CRYPT}` verify but `{ARGON2ID}` does not (crypt() knows
  no Argon2). An operator who keeps Postfix Admin with `php_crypt` picks one of those two schemes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from itertools import count
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from passlib.hash import bcrypt, des_crypt, md5_crypt, sha256_crypt, sha512_crypt

from accounts.models import Admin
from accounts.services import admin_set_password
from mail import passwords, pfa_encrypt
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_password
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
foreach (array_slice($argv, 2) as $username) {
    echo $login->login($username, $password) ? "VERIFIED" : "REFUSED", "\n";
}
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


def _pfa_login(
    name: str, table: str, username: str, password: str, encrypt: str | Mapping[str, object]
) -> bool:
    """Ask Postfix Admin's own Login::login() whether the password matches the stored hash."""
    return _pfa_logins(name, table, [username], password, encrypt)[0]


def _pfa_logins(
    name: str,
    table: str,
    usernames: list[str],
    password: str,
    encrypt: str | Mapping[str, object],
) -> list[bool]:
    """Log each account in with Postfix Admin's own Login::login(), in one PHP run."""
    engine = _engine()
    conf = pfa._pfa_conf(engine, name, pfa._encrypt_conf(encrypt))
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
                *usernames,
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
    answers = proc.stdout.splitlines()
    assert len(answers) == len(usernames), proc.stdout + proc.stderr
    assert set(answers) <= {"VERIFIED", "REFUSED"}, proc.stdout + proc.stderr
    return [answer == "VERIFIED" for answer in answers]


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


# --------------------------------------------------------------------------------------------
# VIMBADMIN_PFA_ENCRYPT: a login here, then Postfix Admin's own login

# Every mapped encrypt value Postfix Admin 3.3 supports, with the $CONF it runs with.
PFA33_CONF: dict[str, dict[str, object]] = {
    value: {"encrypt": value}
    for value in (
        "md5crypt",
        "system",
        "sha512.b64",
        "php_crypt",
        "php_crypt:MD5",
        "php_crypt:SHA256",
        "php_crypt:SHA512",
        "php_crypt:BLOWFISH",
        "php_crypt:DES",
        "php_crypt:SHA512:10000:{SHA512-CRYPT}",
        "dovecot:SHA512-CRYPT",
        "dovecot:SHA256-CRYPT",
        "dovecot:BLF-CRYPT",
        "dovecot:MD5-CRYPT",
        "dovecot:ARGON2ID",
        "dovecot:ARGON2I",
        "dovecot:SHA512-CRYPT.B64",
        "dovecot:PLAIN-MD5",
        "md5",
        "authlib",
    )
}
PFA33_CONF["authlib:SHA"] = {"encrypt": "authlib", "authlib_default_flavor": "SHA"}
PFA33_CONF["authlib:crypt"] = {"encrypt": "authlib", "authlib_default_flavor": "crypt"}
# ENCRYPT() is MariaDB's; Postfix Admin cannot use mysql_encrypt on the other engines.
if connection.vendor == "mysql":
    PFA33_CONF["mysql_encrypt"] = {"encrypt": "mysql_encrypt"}
# Unsalted or 8-character formats: a login here keeps what is stored.
WEAK = {"md5", "authlib", "authlib:SHA", "authlib:crypt"}
REALMS = ("admin", "mailbox")


def _local_account(realm: str, stored: str) -> str:
    """An account in this project's database holding the given hash; return its login name."""
    if realm == "admin":
        admin = make_admin(_new_name("here"))
        Admin.objects.filter(pk=admin.pk).update(password=stored)
        return admin.pk
    mailbox = make_mailbox(make_domain(f"here{next(_seq)}.example"), "owner")
    Mailbox.objects.filter(pk=mailbox.pk).update(password=stored)
    return mailbox.pk


def _stored_here(realm: str, username: str) -> str:
    model = Admin if realm == "admin" else Mailbox
    return model.objects.get(pk=username).password


def _login_here(realm: str, username: str, password: str) -> None:
    client = Client()
    if realm == "admin":
        response = client.post("/accounts/login/", {"username": username, "password": password})
    else:
        response = client.post("/me/login/", {"address": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


def _pfa_account(name: str, realm: str, encrypt: Mapping[str, object] | None = None) -> str:
    """An account Postfix Admin wrote itself (with the given $CONF); return its name."""
    username = _new_name("pfa" + realm)
    if realm == "admin":
        pfa.create_superadmin_via_pfa(_engine(), name, username, SECRET, encrypt=encrypt)
    else:
        pfa.create_mailbox_via_pfa(_engine(), name, username, SECRET, encrypt=encrypt)
    return username


def _pfa_verifies(name: str, realm: str, stored: str, value: str) -> bool:
    """Store the hash in a Postfix Admin account, then log in with Postfix Admin's own code."""
    username = _pfa_account(name, realm)
    _query(name, f"UPDATE {realm} SET password = %s WHERE username = %s", (stored, username))
    return _pfa_login(name, realm, username, SECRET, PFA33_CONF[value])


@pytest.mark.django_db
@pytest.mark.parametrize("realm", REALMS)
@pytest.mark.parametrize("value", PFA33_CONF)
def test_pfa_written_account_logs_in_here_then_in_pfa(genuine, settings, value, realm):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    conf = PFA33_CONF[value]
    pfa_username = _pfa_account(genuine, realm, conf)
    written = _stored(genuine, realm, pfa_username)
    username = _local_account(realm, written)
    # Kept unless below what is written: Dovecot's own Argon2 memory, its CRYPT (DES), …
    rehash = passwords.needs_rehash(written)

    _login_here(realm, username, SECRET)

    after = _stored_here(realm, username)
    assert passwords.verify_password(SECRET, after)
    if rehash:
        target = pfa_encrypt.configured()
        assert target is not None
        assert target.write.is_written_as(pfa_encrypt.recognise(after)), after
    else:
        assert after == written
    _query(genuine, f"UPDATE {realm} SET password = %s WHERE username = %s", (after, pfa_username))
    assert _pfa_login(genuine, realm, pfa_username, SECRET, conf)
    assert not _pfa_login(genuine, realm, pfa_username, "Wrong-" + SECRET, conf)


@pytest.mark.django_db
@pytest.mark.parametrize("realm", REALMS)
@pytest.mark.parametrize("value", PFA33_CONF)
def test_account_rehashed_before_the_setting_logs_in_to_pfa_again(genuine, settings, value, realm):
    # The report's case: a login here, without the setting, wrote {ARGON2ID}.
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    before = passwords.hash_password(SECRET)
    assert before.startswith("{ARGON2ID}")
    username = _local_account(realm, before)
    settings.VIMBADMIN_PFA_ENCRYPT = value

    _login_here(realm, username, SECRET)

    after = _stored_here(realm, username)
    if value in WEAK:
        # Never re-hashed into an unsalted format at login: Postfix Admin still refuses it
        # (schema_check counts these) until the password is set again.
        assert after == before
        assert not _pfa_verifies(genuine, realm, after, value)
        return
    if value.startswith("dovecot:"):
        # doveadm verifies {ARGON2ID}: the stronger hash stays.
        assert after == before
    else:
        target = pfa_encrypt.configured()
        assert target is not None
        assert target.write.is_written_as(pfa_encrypt.recognise(after))
    assert passwords.verify_password(SECRET, after)
    assert _pfa_verifies(genuine, realm, after, value)


@pytest.mark.django_db
@pytest.mark.parametrize("realm", REALMS)
@pytest.mark.parametrize("value", PFA33_CONF)
def test_password_set_here_verifies_in_pfa(genuine, settings, value, realm):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    username = _local_account(realm, passwords.hash_password("Initial-Pass-1234"))
    if realm == "admin":
        admin_set_password(actor=None, admin=Admin.objects.get(pk=username), password=SECRET)
    else:
        mailbox = Mailbox.objects.get(pk=username)
        mailbox_set_password(actor=None, mailbox=mailbox, password=SECRET)
    stored = _stored_here(realm, username)
    assert _pfa_verifies(genuine, realm, stored, value)


def _matrix_samples() -> dict[str, str]:
    """One stored value of SECRET per format found in Postfix Admin databases."""
    raw = SECRET.encode()
    sha512 = sha512_crypt.using(rounds=5000).hash(raw)
    md5c = md5_crypt.hash(raw)
    bf = bcrypt.using(ident="2y", rounds=5).hash(raw)
    md5_digest = hashlib.md5(raw).digest()  # noqa: S324 - the formats under test
    sha1_digest = hashlib.sha1(raw).digest()  # noqa: S324
    return {
        "{ARGON2ID}": passwords.hash_password(SECRET, scheme="ARGON2ID"),
        "{ARGON2I}": passwords.hash_password(SECRET, scheme="ARGON2I"),
        "{BLF-CRYPT}": "{BLF-CRYPT}" + bf,
        "bare $2y$": bf,
        "{SHA512-CRYPT}": "{SHA512-CRYPT}" + sha512,
        "bare $6$": sha512,
        "{CRYPT} $6$": "{CRYPT}" + sha512,
        "{SHA512-CRYPT.B64}": "{SHA512-CRYPT.B64}" + base64.b64encode(sha512.encode()).decode(),
        "bare $5$": sha256_crypt.using(rounds=5000).hash(raw),
        "{MD5-CRYPT}": "{MD5-CRYPT}" + md5c,
        "bare $1$": md5c,
        "bare DES": des_crypt.hash(raw),
        "{SSHA512}": passwords.hash_password(SECRET, scheme="SSHA512"),
        "hex md5": md5_digest.hex(),
        "{PLAIN-MD5}": "{PLAIN-MD5}" + md5_digest.hex(),
        "{md5raw}": "{md5raw}" + md5_digest.hex(),
        "{md5}": "{md5}" + base64.b64encode(md5_digest).decode(),
        "{SHA}": "{SHA}" + base64.b64encode(sha1_digest).decode(),
        "{crypt} DES": "{crypt}" + des_crypt.hash(raw),
        "clear text": SECRET,
    }


@pytest.fixture(scope="module")
def matrix_accounts(genuine) -> dict[str, str]:
    """A Postfix Admin admin per sample format, holding it; sample name -> username."""
    accounts = {}
    for sample, stored in _matrix_samples().items():
        username = _pfa_account(genuine, "admin")
        _query(genuine, "UPDATE admin SET password = %s WHERE username = %s", (stored, username))
        accounts[sample] = username
    return accounts


@pytest.mark.parametrize("value", [*PFA33_CONF, "cleartext"])
def test_which_hashes_pfa_verifies_is_known_here(genuine, matrix_accounts, value):
    """The rules of "never downgrade" agree with Postfix Admin's own login, format by format."""
    conf = PFA33_CONF.get(value, {"encrypt": value})
    target = pfa_encrypt.parse(value)
    assert target is not None
    answers = _pfa_logins(genuine, "admin", list(matrix_accounts.values()), SECRET, conf)
    expected = {
        sample: target.verifies(pfa_encrypt.recognise(_stored(genuine, "admin", username)))
        for sample, username in matrix_accounts.items()
    }
    assert dict(zip(matrix_accounts, answers, strict=True)) == expected


@pytest.mark.django_db
def test_cleartext_is_never_written(genuine, settings):
    """Postfix Admin's cleartext is accepted, but nothing is ever stored in clear text here."""
    settings.VIMBADMIN_PFA_ENCRYPT = "cleartext"
    conf = {"encrypt": "cleartext"}
    pfa_username = _pfa_account(genuine, "mailbox", conf)
    assert _stored(genuine, "mailbox", pfa_username) == SECRET
    # A stored clear text is not a hash: it does not log in here (the stored value would be
    # a password for every format), and stays as it is.
    username = _local_account("mailbox", SECRET)
    response = Client().post("/me/login/", {"address": username, "password": SECRET})
    assert response.status_code == 200
    assert _stored_here("mailbox", username) == SECRET
    # A password set here is hashed, which Postfix Admin's cleartext cannot verify.
    mailbox_set_password(actor=None, mailbox=Mailbox.objects.get(pk=username), password=SECRET)
    stored = _stored_here("mailbox", username)
    assert re.fullmatch(r"\{SHA512-CRYPT\}\$6\$.+", stored)
    _query(genuine, "UPDATE mailbox SET password = %s WHERE username = %s", (stored, pfa_username))
    assert not _pfa_login(genuine, "mailbox", pfa_username, SECRET, conf)
