"""One login flow for admins and mailbox owners: same answers, same lockout text, any login name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Admin, AuthEvent
from mail import passwords
from tests.factories import PASSWORD, make_mailbox

ADMIN_LOGIN = "/accounts/login/"
OWNER_LOGIN = "/me/login/"
WRONG = "The e-mail address or the password is not correct."
ROOT = Path(__file__).resolve().parent.parent


def admin_login(client: Client, username: str, password: str, **meta: str):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password}, **meta)


def owner_login(client: Client, address: str, password: str, **meta: str):
    return client.post(OWNER_LOGIN, {"address": address, "password": password}, **meta)


@pytest.fixture
def owner(domain_a):
    return make_mailbox(domain_a, "owner", email_other="olive@elsewhere.example")


def test_both_realms_give_the_same_answer_to_a_wrong_password(admin_a, owner):
    admin_page = admin_login(Client(), admin_a.pk, "not-the-password-1").content.decode()
    owner_page = owner_login(Client(), owner.username, "not-the-password-1").content.decode()
    assert WRONG in admin_page
    assert WRONG in owner_page


@pytest.mark.parametrize(("lockout", "minutes"), [(90, "2 minutes"), (600, "10 minutes")])
def test_both_realms_round_the_lockout_minutes_the_same_way(
    admin_a, owner, settings, lockout, minutes
):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = lockout
    pages = []
    for post, login in ((admin_login, admin_a.pk), (owner_login, owner.username)):
        client = Client()
        for _ in range(2):
            post(client, login, "not-the-password-1")
        pages.append(post(client, login, PASSWORD).content.decode())
    for page in pages:
        assert f"Too many failed attempts; try again in {minutes}." in page


def test_a_wait_under_a_minute_reads_one_minute(admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 1
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = 20
    client = Client()
    admin_login(client, admin_a.pk, "not-the-password-1")
    page = admin_login(client, admin_a.pk, PASSWORD).content.decode()
    assert "Too many failed attempts; try again in 1 minute." in page


def test_only_one_function_reads_the_client_address():
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in (
            "accounts",
            "aliases",
            "auditlog",
            "core",
            "domains",
            "mail",
            "mailboxes",
            "mailserver",
            "pfa",
            "selfservice",
            "vimbadmin",
        )
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "REMOTE_ADDR" in line
    ]
    assert readers == [f"core/context.py:{_remote_addr_line()}"]


def _remote_addr_line() -> int:
    lines = (ROOT / "core" / "context.py").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if "REMOTE_ADDR" in line)


def test_the_client_address_is_recorded_the_same_way_in_both_realms(admin_a, owner):
    admin_login(Client(), admin_a.pk, PASSWORD, REMOTE_ADDR="192.0.2.44")
    owner_login(Client(), owner.username, PASSWORD, REMOTE_ADDR="192.0.2.44")
    rows = AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN).order_by("realm")
    assert [(r.realm, r.username, r.client_address) for r in rows] == [
        ("admin", "admin@alpha.example", "192.0.2.44"),
        ("mailbox", "owner@alpha.example", "192.0.2.44"),
    ]


@pytest.mark.parametrize("login", ["ops@corp.local", "x@h.home.arpa"])
def test_an_adopted_admin_with_a_special_use_domain_logs_in(db, login):
    # Postfix Admin itself accepts such names; an adopted `admin` table may hold them.
    Admin.objects.create(
        username=login, password=passwords.hash_password(PASSWORD), superadmin=True, active=True
    )
    client = Client()
    response = admin_login(client, login.upper(), PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == login
    assert client.get("/accounts/password/").status_code == 200


def test_an_adopted_admin_row_written_by_sql_logs_in(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO admin (username, password, superadmin, created, modified, active,"
            " phone, email_other, token, token_validity)"
            " VALUES (%s, %s, %s, %s, %s, %s, '', '', '', %s)",
            [
                "ops@corp.local",
                passwords.hash_password(PASSWORD, scheme="SHA512-CRYPT"),
                True,
                "2024-01-01 00:00:00",
                "2024-01-01 00:00:00",
                True,
                "2000-01-01 00:00:00",
            ],
        )
    response = admin_login(Client(), "ops@corp.local", PASSWORD)
    assert response.status_code == 302


def test_a_login_that_is_not_an_address_is_an_unknown_account(db):
    for typed in ("not an address", "@@", "x" * 255):
        response = admin_login(Client(), typed, PASSWORD)
        assert response.status_code == 200
        assert WRONG in response.content.decode()


def test_unknown_accounts_spend_a_hash_and_known_ones_a_verify(admin_a, monkeypatch):
    calls: list[str] = []
    real_hash, real_verify = passwords.hash_password, passwords.verify_password
    monkeypatch.setattr(
        passwords, "hash_password", lambda *a, **k: calls.append("hash") or real_hash(*a, **k)
    )
    monkeypatch.setattr(
        passwords, "verify_password", lambda *a, **k: calls.append("verify") or real_verify(*a, **k)
    )
    admin_login(Client(), "ghost@alpha.example", PASSWORD)
    admin_login(Client(), admin_a.pk, "not-the-password-1")
    assert calls == ["hash", "verify"]


def test_another_spelling_that_a_collation_matches_does_not_log_in(admin_a):
    # MariaDB's collations match "ádmin" and a full-width "admin" (U+FF41) to "admin";
    # PostgreSQL's do not. Either way only the stored spelling logs in.
    for variant in ("ádmin@alpha.example", "\uff41dmin@alpha.example"):
        response = admin_login(Client(), variant, PASSWORD)
        assert response.status_code == 200, variant
        assert WRONG in response.content.decode()


def test_the_admin_backend_checks_no_password_itself(admin_a):
    from django.contrib.auth import authenticate

    assert authenticate(None, username=admin_a.pk, password=PASSWORD) is None


def test_owner_and_admin_login_pages_carry_no_address_check_in_the_form():
    from accounts.forms import LoginForm
    from selfservice.forms import MailboxLoginForm

    for form in (
        LoginForm({"username": "ops@corp.local", "password": "x"}),
        MailboxLoginForm({"address": "ops@corp.local", "password": "x"}),
    ):
        assert form.is_valid(), form.errors
