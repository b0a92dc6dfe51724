"""VIMBADMIN_PFA_ENCRYPT: what is written beside Postfix Admin, and what a login re-hashes.

The genuine Postfix Admin logins after a login here are in tests/test_passwords_compat.py; this
module covers the mapping, the start-up check, "never downgrade", "none" and schema_check.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from passlib.hash import bcrypt, des_crypt, md5_crypt, sha256_crypt, sha512_crypt

from accounts.models import Admin
from mail import passwords, pfa_encrypt
from mailboxes.models import Mailbox
from pfa.management.commands.schema_check import _hash_formats
from tests.factories import make_admin, make_domain, make_mailbox

SECRET = "Side-By-Side-4711"

B64 = r"[A-Za-z0-9+/]+=*"
SALT = r"[./0-9A-Za-z]+"
# What each encrypt value writes, laid out as Postfix Admin 3.3 (or 4, for the scheme names)
# stores it.
WRITTEN = {
    "md5crypt": rf"\$1\${SALT}\${SALT}",
    "php_crypt": rf"\$6\${SALT}\${SALT}",
    "php_crypt:SHA512": rf"\$6\${SALT}\${SALT}",
    "php_crypt:SHA256": rf"\$5\${SALT}\${SALT}",
    "php_crypt:MD5": rf"\$1\${SALT}\${SALT}",
    "php_crypt:BLOWFISH": rf"\$2y\$10\${SALT}",
    "php_crypt:BLOWFISH:12": rf"\$2y\$12\${SALT}",
    "php_crypt:SHA512:10000": rf"\$6\$rounds=10000\${SALT}\${SALT}",
    "php_crypt:SHA512::{SHA512-CRYPT}": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
    "php_crypt:DES": rf"\$6\${SALT}\${SALT}",
    "system": rf"\$6\${SALT}\${SALT}",
    "mysql_encrypt": rf"\$6\${SALT}\${SALT}",
    "sha512.b64": rf"\{{SHA512-CRYPT\.B64\}}{B64}",
    "sha512crypt.b64": rf"\{{SHA512-CRYPT\.B64\}}{B64}",
    "dovecot:SHA512-CRYPT": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
    "dovecot:SHA256-CRYPT": rf"\{{SHA256-CRYPT\}}\$5\${SALT}\${SALT}",
    "dovecot:BLF-CRYPT": rf"\{{BLF-CRYPT\}}\$2y\$10\${SALT}",
    "dovecot:MD5-CRYPT": rf"\{{MD5-CRYPT\}}\$1\${SALT}\${SALT}",
    "dovecot:ARGON2ID": r"\{ARGON2ID\}\$argon2id\$v=19\$m=65536,t=4,p=1\$.+",
    "dovecot:ARGON2I": r"\{ARGON2I\}\$argon2i\$v=19\$m=65536,t=4,p=1\$.+",
    "dovecot:SHA512-CRYPT.B64": rf"\{{SHA512-CRYPT\.B64\}}{B64}",
    # doveadm verifies whatever {SCHEME} is stored: the project's own scheme, not DES/MD5.
    "dovecot:CRYPT": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
    "dovecot:PLAIN-MD5": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
    "SHA512-CRYPT": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
    "ARGON2ID": r"\{ARGON2ID\}\$argon2id\$.+",
    "MD5-CRYPT": rf"\{{MD5-CRYPT\}}\$1\${SALT}\${SALT}",
    "CRYPT": rf"\{{CRYPT\}}\$2y\$10\${SALT}",
    "md5": r"[0-9a-f]{32}",
    "authlib": r"\{md5raw\}[0-9a-f]{32}",
    "authlib:md5": rf"\{{md5\}}{B64}",
    "authlib:SHA": rf"\{{SHA\}}{B64}",
    "authlib:crypt": rf"\{{crypt\}}{SALT}",
    # Never clear text: the project's own scheme.
    "cleartext": rf"\{{SHA512-CRYPT\}}\$6\${SALT}\${SALT}",
}


@pytest.fixture(scope="module")
def samples() -> dict[str, str]:
    """One stored value per format found in Postfix Admin databases, for the same password."""
    raw = SECRET.encode()
    hex_md5 = hashlib.md5(raw).hexdigest()  # noqa: S324 - the format under test
    sha512 = sha512_crypt.using(rounds=5000).hash(raw)
    md5c = md5_crypt.hash(raw)
    bf10 = bcrypt.using(ident="2y", rounds=10).hash(raw)
    found = {
        "argon2id": passwords.hash_password(SECRET, scheme="ARGON2ID"),
        "argon2i": passwords.hash_password(SECRET, scheme="ARGON2I"),
        "blf-crypt": "{BLF-CRYPT}" + bf10,
        "bare bcrypt": bf10,
        "bare bcrypt cost 5": bcrypt.using(ident="2y", rounds=5).hash(raw),
        "sha512-crypt": "{SHA512-CRYPT}" + sha512,
        "bare sha512": sha512,
        "bare sha512 1000 rounds": sha512_crypt.using(rounds=1000).hash(raw),
        "sha512-crypt.b64": "{SHA512-CRYPT.B64}" + base64.b64encode(sha512.encode()).decode(),
        "bare sha256": sha256_crypt.using(rounds=5000).hash(raw),
        "md5-crypt": "{MD5-CRYPT}" + md5c,
        "bare md5crypt": md5c,
        "bare des": des_crypt.hash(raw),
        "hex md5": hex_md5,
        "authlib md5raw": "{md5raw}" + hex_md5,
        "ssha512": passwords.hash_password(SECRET, scheme="SSHA512"),
    }
    for stored in found.values():
        assert passwords.verify_password(SECRET, stored), stored
    return found


# --------------------------------------------------------------------------------------------
# What each value writes


@pytest.mark.parametrize(("value", "layout"), WRITTEN.items())
def test_each_value_writes_the_layout_postfix_admin_stores(settings, value, layout):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    stored = passwords.hash_password(SECRET)
    assert re.fullmatch(layout, stored), stored
    assert passwords.verify_password(SECRET, stored)
    # (DES reads only 8 characters: the wrong password differs at the start.)
    assert not passwords.verify_password("Wrong-" + SECRET, stored)
    # What is written is never re-hashed at the next login.
    assert not passwords.needs_rehash(stored)
    target = pfa_encrypt.configured()
    assert target is not None
    # And the Postfix Admin of that value verifies it (the genuine check is in
    # test_passwords_compat.py), except with clear text, which is never written.
    assert target.verifies(pfa_encrypt.recognise(stored)) is (value != "cleartext")


def test_the_project_schemes_are_the_hashers_own():
    # mail/ cannot import the hasher above it, so it names the same list.
    assert pfa_encrypt.OWN_SCHEMES == passwords.WRITABLE_SCHEMES


def test_sha512_b64_holds_a_sha512_crypt_string(settings):
    settings.VIMBADMIN_PFA_ENCRYPT = "sha512.b64"
    stored = passwords.hash_password(SECRET)
    inner = base64.b64decode(stored.removeprefix("{SHA512-CRYPT.B64}")).decode()
    assert sha512_crypt.verify(SECRET, inner)


# PHP's crypt("test123", "$6$Ab+9xY/+QrT0zZ+w") and the same with "$5$": Postfix Admin's
# sha512.b64 salts come from base64, so "+" appears in about one hash in five.
PLUS_SALT_SHA512 = (
    "$6$Ab+9xY/+QrT0zZ+w$1lZFVsbSH0/YPR1Ch7r3./MtyIxec/6MpKNWA04LyoeXQyqC3xm2TMLrVGbyHYYyNY0rgEJrR0"
    "yvDqObFm3sn/"
)
PLUS_SALT_SHA256 = "$5$Ab+9xY/+QrT0zZ+w$aqlfGUcm51y5caaOGKk5lYuFIC3WB48USQsMU35ST/D"


@pytest.mark.parametrize(
    "stored",
    [
        PLUS_SALT_SHA512,
        PLUS_SALT_SHA256,
        "{SHA512-CRYPT.B64}" + base64.b64encode(PLUS_SALT_SHA512.encode()).decode(),
    ],
)
def test_sha_crypt_salts_with_plus_verify_like_php(settings, stored):
    assert passwords.verify_password("test123", stored)
    assert not passwords.verify_password("test124", stored)
    settings.VIMBADMIN_PFA_ENCRYPT = "sha512.b64"
    assert passwords.needs_rehash(stored) is not stored.startswith("{SHA512-CRYPT.B64}")


@pytest.mark.parametrize(
    "value",
    [
        "foo",
        "md5-crypt-ish",
        "php_crypt:SHA3",
        "php_crypt:BLOWFISH:3",
        "php_crypt:SHA512:500",
        "php_crypt:SHA512:5000:SHA512-CRYPT",
        "php_crypt:SHA512:5000:{sha512}",
        "php_crypt:A:B:C:D",
        "dovecot:",
        "dovecot:DIGEST-MD5",
        "dovecot:SHA512 CRYPT",
        "authlib:sha256",
    ],
)
def test_values_not_understood_are_refused_at_start(settings, value):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    errors = [m for m in run_checks() if m.id == "mail.E010"]
    assert len(errors) == 1
    assert errors[0].msg.startswith("VIMBADMIN_PFA_ENCRYPT: ")
    assert repr(value.strip()) in errors[0].msg or repr(value.split(":")[-1]) in errors[0].msg
    # And at run time, with the same clear message rather than a wrong hash.
    with pytest.raises(ImproperlyConfigured, match="VIMBADMIN_PFA_ENCRYPT"):
        passwords.hash_password(SECRET)


def test_a_good_value_passes_the_check_silently(settings):
    settings.VIMBADMIN_PFA_ENCRYPT = "md5crypt"
    assert not [m for m in run_checks() if m.id.startswith("mail.") and m.id[5] in "EW"]


@pytest.mark.parametrize(
    ("value", "check_id", "text"),
    [
        ("md5", "mail.W010", "bare <hex MD5 digest>, an unsalted digest"),
        ("authlib", "mail.W010", "{md5raw}<hex MD5 digest>, an unsalted digest"),
        ("authlib:crypt", "mail.W010", "{crypt}<DES crypt>, DES, which reads 8 characters"),
        ("cleartext", "mail.W011", "this project never does"),
    ],
)
def test_weak_values_are_accepted_with_a_warning_saying_what_happens(
    settings, value, check_id, text
):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    warnings = [m for m in run_checks() if m.id == check_id]
    assert len(warnings) == 1
    assert text in warnings[0].msg
    assert "php_crypt:SHA512" in warnings[0].hint


def test_mysql_encrypt_needs_mariadb(settings):
    settings.VIMBADMIN_PFA_ENCRYPT = "mysql_encrypt"
    warned = [m.id for m in run_checks() if m.id == "mail.W012"]
    is_mysql = settings.DATABASES["default"]["ENGINE"].endswith("mysql")
    assert warned == ([] if is_mysql else ["mail.W012"])


# --------------------------------------------------------------------------------------------
# Re-hash at login: only into what Postfix Admin verifies, never downgrading


VALUES = [v for v in WRITTEN if v != "cleartext"]


@pytest.mark.parametrize("value", VALUES)
def test_needs_rehash_never_downgrades(settings, samples, value):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    target = pfa_encrypt.configured()
    assert target is not None
    for name, stored in samples.items():
        found = pfa_encrypt.recognise(stored)
        rehash = passwords.needs_rehash(stored)
        if not target.rehash_on_login:
            assert not rehash, (value, name)
            continue
        if not target.verifies(found):
            # Postfix Admin refuses it now: the login rewrites it in what Postfix Admin reads.
            assert rehash, (value, name)
            continue
        if found.strength > target.write.strength:
            assert not rehash, (value, name)
        elif found.strength < target.write.strength:
            assert rehash, (value, name)


@pytest.mark.parametrize(
    ("value", "sample", "rehash"),
    [
        # Stronger hashes Postfix Admin also verifies stay.
        ("php_crypt:SHA512", "blf-crypt", False),
        ("php_crypt:SHA512", "bare bcrypt", False),
        ("php_crypt", "sha512-crypt", False),
        ("dovecot:SHA512-CRYPT", "argon2id", False),
        ("dovecot:SHA512-CRYPT", "blf-crypt", False),
        ("dovecot:MD5-CRYPT", "argon2i", False),
        ("dovecot:ARGON2ID", "argon2i", False),
        ("md5crypt", "bare md5crypt", False),
        ("dovecot:MD5-CRYPT", "bare md5crypt", False),
        ("sha512.b64", "sha512-crypt.b64", False),
        # Weaker ones PFA verifies are upgraded into its format.
        ("php_crypt:SHA512", "bare md5crypt", True),
        ("php_crypt:BLOWFISH", "bare sha512", True),
        ("sha512.b64", "md5-crypt", True),
        ("dovecot:ARGON2ID", "sha512-crypt", True),
        ("system", "bare des", True),
        # Below the cost of the format written (php_crypt's difficulty included).
        ("php_crypt:SHA512", "bare sha512 1000 rounds", True),
        ("php_crypt:BLOWFISH", "bare bcrypt cost 5", True),
        ("php_crypt:BLOWFISH:12", "bare bcrypt", True),
        ("php_crypt:SHA512:10000", "bare sha512", True),
        # Postfix Admin cannot verify it at all: rewritten in its own format.
        ("md5crypt", "argon2id", True),
        ("md5crypt", "md5-crypt", True),
        ("md5crypt", "bare sha512", True),
        ("php_crypt:SHA512", "argon2id", True),
        ("php_crypt:SHA512", "sha512-crypt.b64", True),
        ("sha512.b64", "bare sha512", True),
        ("dovecot:SHA512-CRYPT", "bare sha512", True),
        # Weak values never re-hash at login, whatever is stored.
        ("md5", "argon2id", False),
        ("md5", "bare md5crypt", False),
        ("authlib", "sha512-crypt", False),
        ("cleartext", "argon2id", False),
        ("cleartext", "bare md5crypt", False),
    ],
)
def test_needs_rehash_cases(settings, samples, value, sample, rehash):
    settings.VIMBADMIN_PFA_ENCRYPT = value
    assert passwords.needs_rehash(samples[sample]) is rehash


def test_none_keeps_the_behaviour_without_postfix_admin(settings, samples):
    for scheme in ("SHA512-CRYPT", "ARGON2ID", "BLF-CRYPT"):
        settings.VIMBADMIN_PASSWORD_SCHEME = scheme
        for none in ("none", "NONE", " none ", ""):
            settings.VIMBADMIN_PFA_ENCRYPT = none
            written = passwords.hash_password(SECRET)
            assert written.startswith("{" + scheme + "}")
            for stored in samples.values():
                assert passwords.needs_rehash(stored) is passwords.needs_rehash(
                    stored, scheme=scheme
                )
    # Without the setting at all, too.
    del settings.VIMBADMIN_PFA_ENCRYPT
    assert passwords.hash_password(SECRET).startswith("{BLF-CRYPT}")


@pytest.mark.django_db
def test_admin_login_rewrites_a_hash_postfix_admin_cannot_read(settings, client, samples):
    settings.VIMBADMIN_PFA_ENCRYPT = "md5crypt"
    admin = make_admin("side@admins.example")
    Admin.objects.filter(pk=admin.pk).update(password=samples["argon2id"])
    response = client.post(
        "/accounts/login/", {"username": "side@admins.example", "password": SECRET}
    )
    assert response.status_code == 302
    stored = Admin.objects.get(pk=admin.pk).password
    assert re.fullmatch(WRITTEN["md5crypt"], stored)
    assert md5_crypt.verify(SECRET, stored)


@pytest.mark.django_db
def test_mailbox_login_keeps_a_stronger_hash_postfix_admin_reads(settings, client, samples):
    settings.VIMBADMIN_PFA_ENCRYPT = "php_crypt:SHA512"
    mailbox = make_mailbox(make_domain("side.example"), "owner")
    Mailbox.objects.filter(pk=mailbox.pk).update(password=samples["blf-crypt"])
    response = client.post("/me/login/", {"address": mailbox.pk, "password": SECRET})
    assert response.status_code == 302
    assert Mailbox.objects.get(pk=mailbox.pk).password == samples["blf-crypt"]
    # A weaker one is upgraded into what Postfix Admin writes.
    Mailbox.objects.filter(pk=mailbox.pk).update(password=samples["bare md5crypt"])
    client.post("/me/logout/")
    client.cookies.clear()
    response = client.post("/me/login/", {"address": mailbox.pk, "password": SECRET})
    assert response.status_code == 302
    stored = Mailbox.objects.get(pk=mailbox.pk).password
    assert re.fullmatch(WRITTEN["php_crypt:SHA512"], stored)
    assert sha512_crypt.verify(SECRET, stored)


@pytest.mark.django_db
def test_new_passwords_are_written_for_postfix_admin(settings):
    settings.VIMBADMIN_PFA_ENCRYPT = "php_crypt:BLOWFISH"
    mailbox = make_mailbox(make_domain("new.example"), "owner", password=SECRET)
    assert re.fullmatch(WRITTEN["php_crypt:BLOWFISH"], mailbox.password)
    admin = make_admin("new@admins.example", password=SECRET)
    assert re.fullmatch(WRITTEN["php_crypt:BLOWFISH"], Admin.objects.get(pk=admin.pk).password)


# --------------------------------------------------------------------------------------------
# schema_check


def _schema_check() -> str:
    out = io.StringIO()
    call_command("schema_check", stdout=out)
    return out.getvalue()


@pytest.fixture
def pfa_written(db, samples) -> None:
    """Two admins and three mailboxes as Postfix Admin (md5crypt) wrote them, one re-hashed."""
    domain = make_domain("hashes.example")
    for name in ("one", "two"):
        admin = make_admin(f"{name}@admins.example")
        Admin.objects.filter(pk=admin.pk).update(password=samples["bare md5crypt"])
    for name in ("a", "b"):
        mailbox = make_mailbox(domain, name)
        Mailbox.objects.filter(pk=mailbox.pk).update(password=samples["bare md5crypt"])
    mailbox = make_mailbox(domain, "c")
    Mailbox.objects.filter(pk=mailbox.pk).update(password=samples["argon2id"])


def test_schema_check_counts_formats_and_recommends_the_setting(settings, pfa_written):
    settings.VIMBADMIN_PFA_ENCRYPT = "none"
    report = _schema_check()
    assert "Password hashes:\n" in report
    assert "  admin: $1$ without prefix (MD5-CRYPT): 2\n" in report
    assert "  mailbox: $1$ without prefix (MD5-CRYPT): 2, {ARGON2ID}: 1\n" in report
    assert "Recommended VIMBADMIN_PFA_ENCRYPT: md5crypt (" in report
    assert (
        "Warning: 4 passwords are in formats only Postfix Admin writes ($1$ without prefix "
        "(MD5-CRYPT)). If Postfix Admin still runs on this database, set "
        "VIMBADMIN_PFA_ENCRYPT=md5crypt" in report
    )


def test_schema_check_names_what_postfix_admin_cannot_verify(settings, pfa_written):
    settings.VIMBADMIN_PFA_ENCRYPT = "md5crypt"
    report = _schema_check()
    assert "VIMBADMIN_PFA_ENCRYPT=md5crypt: new passwords are written as bare $1$…." in report
    assert (
        "Warning: Postfix Admin (md5crypt) cannot verify 1 passwords ({ARGON2ID}); each is "
        "re-hashed as bare $1$… at that user's next login here." in report
    )
    assert "no stored password is written as" not in report
    assert "formats only Postfix Admin writes" not in report


def test_schema_check_warns_when_the_setting_writes_a_format_not_present(settings, pfa_written):
    settings.VIMBADMIN_PFA_ENCRYPT = "php_crypt:BLOWFISH"
    report = _schema_check()
    assert (
        "Warning: no stored password is written as bare $2y$…: make sure php_crypt:BLOWFISH is "
        "Postfix Admin's $CONF['encrypt']." in report
    )
    assert "Recommended VIMBADMIN_PFA_ENCRYPT: md5crypt" in report


def test_schema_check_says_what_weak_values_leave_unverified(settings, pfa_written):
    settings.VIMBADMIN_PFA_ENCRYPT = "md5"
    report = _schema_check()
    assert (
        "Postfix Admin (md5) cannot verify 5 passwords ($1$ without prefix (MD5-CRYPT), "
        "{ARGON2ID}); those users can log in to it again only after a password change." in report
    )


def test_schema_check_reports_a_bad_value_without_failing(settings, pfa_written):
    settings.VIMBADMIN_PFA_ENCRYPT = "php_crypt:SHA3"
    report = _schema_check()
    assert "Warning: VIMBADMIN_PFA_ENCRYPT: 'php_crypt:SHA3': Postfix Admin's php_crypt" in report


def test_schema_check_reads_the_column_in_chunks(pfa_written):
    for chunk in (1, 2, 3, 100):
        found = _hash_formats(connection, "mailbox", chunk=chunk)
        assert {f.label: n for f, n in found.items()} == {
            "$1$ without prefix (MD5-CRYPT)": 2,
            "{ARGON2ID}": 1,
        }
