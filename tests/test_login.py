"""Admin login and logout: one answer for every failure, throttling, re-hashing, auth events."""

from __future__ import annotations

import logging

import pytest
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from accounts import throttle
from accounts.models import Admin, AuthEvent
from accounts.services import admin_set_active
from mail import passwords
from tests.factories import PASSWORD, make_admin

LOGIN = "/accounts/login/"
# The one answer of both login pages (the mailbox owners' text since the login flow is shared).
WRONG = "The e-mail address or the password is not correct."


def _post(client: Client, username: str, password: str, next: str = "", **meta: str):
    data = {"username": username, "password": password}
    if next:
        data["next"] = next
    return client.post(LOGIN, data, **meta)


def _session_user(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_login_url_name():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == "/accounts/logout/"


@pytest.mark.django_db
def test_login_page_renders_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert reverse("accounts:password-reset") in html


def test_login_succeeds_and_records_event(client, admin_a, settings):
    response = _post(client, "Admin@Alpha.Example", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    assert _session_user(client) == admin_a.pk
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.LOGIN)
    assert (event.realm, event.username) == ("admin", admin_a.pk)


def test_login_rotates_session_key(client, admin_a):
    client.get(LOGIN)
    session = client.session
    session["marker"] = "before"
    session.save()
    before = session.session_key
    _post(client, admin_a.pk, PASSWORD)
    assert _session_user(client) == admin_a.pk
    assert client.session.session_key != before


def test_wrong_password_unknown_user_and_inactive_answer_identically(client, admin_a, superadmin):
    inactive = make_admin("sleepy@alpha.example")
    admin_set_active(actor=superadmin, admin=inactive, active=False)
    answers = []
    for username, password in [
        (admin_a.pk, "not-the-password"),
        ("nobody@alpha.example", PASSWORD),
        (inactive.pk, PASSWORD),
    ]:
        response = _post(client, username, password)
        assert response.status_code == 200
        assert _session_user(client) is None
        html = response.content.decode()
        assert WRONG in html
        # Everything but the echoed address is the same page.
        answers.append(html.replace(username, "X").split("csrfmiddlewaretoken")[0])
    assert answers[0] == answers[1] == answers[2]
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED).count() == 3
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN).exists()


def test_malformed_address_is_just_an_unknown_account(client, db):
    # The login form looks addresses up instead of judging their form (see the adopted-database
    # logins in test_auth_flow.py); a typed non-address is a failed login like any other.
    response = _post(client, "not an address", PASSWORD)
    assert response.status_code == 200
    html = response.content.decode()
    assert WRONG in html
    assert "is not a valid e-mail address" not in html
    event = AuthEvent.objects.get()
    assert (event.kind, event.username) == (AuthEvent.Kind.LOGIN_FAILED, "not an address")


def test_failed_login_writes_one_fail2ban_line(client, admin_a, caplog):
    with caplog.at_level(logging.INFO, logger="vimbadmin.auth"):
        _post(client, admin_a.pk, "wrong-password", REMOTE_ADDR="198.51.100.9")
    lines = [r.getMessage() for r in caplog.records if "auth failure" in r.getMessage()]
    assert lines == [
        "vimbadmin auth failure: realm=admin user=admin@alpha.example client=198.51.100.9"
    ]
    assert "wrong-password" not in caplog.text


def test_lockout_after_limit_refuses_even_the_right_password(client, admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = 600
    for _ in range(3):
        response = _post(client, admin_a.pk, "wrong-password")
        assert WRONG in response.content.decode()
    response = _post(client, admin_a.pk, PASSWORD)
    html = response.content.decode()
    assert "Too many failed attempts; try again in 10 minutes" in html
    assert WRONG not in html
    assert _session_user(client) is None
    # The locked try is not counted as a failure: the password was not even checked. The three
    # failures are one counted row (one account, one address, one hour).
    failed = AuthEvent.objects.get(kind=AuthEvent.Kind.LOGIN_FAILED)
    assert failed.count == 3
    assert AuthEvent.objects.get(kind=AuthEvent.Kind.LOCKED_OUT).count == 1


def test_lockout_per_client_address(client, admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        _post(client, f"guess{n}@alpha.example", "x", REMOTE_ADDR="203.0.113.5")
    response = _post(client, admin_a.pk, PASSWORD, REMOTE_ADDR="203.0.113.5")
    assert "Too many failed attempts" in response.content.decode()
    # Another client address logs in fine.
    response = _post(Client(), admin_a.pk, PASSWORD, REMOTE_ADDR="203.0.113.6")
    assert response.status_code == 302


def test_old_format_hash_is_rehashed_on_login(client, admin_a, settings):
    settings.VIMBADMIN_PASSWORD_SCHEME = "BLF-CRYPT"
    legacy = passwords.hash_password(PASSWORD, scheme="SHA256-CRYPT")
    Admin.objects.filter(pk=admin_a.pk).update(password=legacy)
    response = _post(client, admin_a.pk, PASSWORD)
    assert response.status_code == 302
    stored = Admin.objects.get(pk=admin_a.pk).password
    assert stored.startswith("{BLF-CRYPT}$2y$")
    assert passwords.verify_password(PASSWORD, stored)
    # The session survives its own re-hash.
    assert _session_user(client) == admin_a.pk


def test_next_is_followed_only_on_this_site(admin_a, settings):
    client = Client()
    response = _post(client, admin_a.pk, PASSWORD, next="/accounts/password/")
    assert response["Location"] == "/accounts/password/"
    client = Client()
    response = _post(client, admin_a.pk, PASSWORD, next="https://evil.example/phish")
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_login_form_keeps_next_from_query(client, db):
    response = client.get(LOGIN + "?next=/accounts/admins/")
    assert 'name="next" value="/accounts/admins/"' in response.content.decode()
    response = client.get(LOGIN + "?next=//evil.example/")
    assert "evil.example" not in response.content.decode()


def test_protected_page_sends_anonymous_to_login(client, db):
    response = client.get("/accounts/admins/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN + "?next=")


def test_logout_is_post_only_and_recorded(client, admin_a):
    _post(client, admin_a.pk, PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    assert _session_user(client) == admin_a.pk
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert _session_user(client) is None
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.LOGOUT)
    assert event.username == admin_a.pk


def test_logout_requires_csrf(admin_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    assert client.post("/accounts/logout/").status_code == 403
    assert _session_user(client) == admin_a.pk


def test_deactivated_admin_loses_existing_session(client_a, admin_a, superadmin):
    assert client_a.get("/accounts/password/").status_code == 200
    admin_set_active(actor=superadmin, admin=admin_a, active=False)
    response = client_a.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_session_lifetime_is_configured(client, admin_a, settings):
    settings.SESSION_COOKIE_AGE = 1234
    _post(client, admin_a.pk, PASSWORD)
    assert client.session.get_expiry_age() == 1234


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [AuthEvent.Kind.LOCKED_OUT, AuthEvent.Kind.LOGIN_FAILED, "logout"])
def test_crafted_login_cannot_forge_a_log_line(caplog, kind):
    crafted = "x\nvimbadmin auth failure: realm=admin user=victim client=192.0.2.1"
    with caplog.at_level(logging.INFO, logger="vimbadmin.auth"):
        throttle.record(realm="admin", kind=kind, username=crafted, client_address="192.0.2.9")
    (record,) = caplog.records
    assert "\n" not in record.getMessage()
    assert record.getMessage().endswith("client=192.0.2.9")
