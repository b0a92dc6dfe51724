"""Never weaker than Postfix Admin: an account with a TOTP secret logs in only with its code.

Secrets are written by SQL exactly as Postfix Admin 4 writes them (plain, unpadded, upper-case
Base32 in `admin.totp_secret` / `mailbox.totp_secret`); codes are computed here by an
independent RFC 6238 implementation (HMAC-SHA-1, 6 digits, 30 s), checked against the RFC's
own test vectors first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import struct
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuthEvent
from pfa.models import Log
from tests.factories import PASSWORD, make_mailbox
from tests.support.urlwalk import all_url_patterns

# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", as Postfix Admin stores it.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode().rstrip("=")
ADMIN_LOGIN = "/accounts/login/"
OWNER_LOGIN = "/me/login/"
CODE_URL = "/2fa/code/"


def rfc6238(secret: str, at: float, *, offset: int = 0) -> str:
    """Return the 6-digit TOTP code at a time (independent of the code under test)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(at // 30) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start : start + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_period() -> float:
    """Wait out the last seconds of a period, so a code computed now is checked in the same one."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()


def set_secret_as_postfixadmin(table: str, username: str, secret: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET totp_secret = %s WHERE username = %s", [secret, username]
        )


def admin_session(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def owner_session(client: Client) -> str | None:
    return client.session.get("vimb_mailbox")


def test_reference_implementation_matches_rfc_6238_vectors():
    # The last six digits of the RFC's eight-digit SHA-1 values.
    assert rfc6238(RFC_SECRET, 59) == "287082"
    assert rfc6238(RFC_SECRET, 1111111109) == "081804"
    assert rfc6238(RFC_SECRET, 1111111111) == "050471"
    assert rfc6238(RFC_SECRET, 1234567890) == "005924"
    assert rfc6238(RFC_SECRET, 2000000000) == "279037"


def test_the_projects_totp_matches_the_rfc_vectors():
    from twofactor import totp

    for at, code in ((59, "287082"), (1111111109, "081804"), (2000000000, "279037")):
        assert totp.code_at(RFC_SECRET, int(at // 30)) == code
        assert totp.matching_step(RFC_SECRET, code, now=at) == int(at // 30)
    # Postfix Admin may store the secret in lower case or with spaces typed by hand.
    assert totp.matching_step(RFC_SECRET.lower(), "287082", now=59) == 1


@pytest.fixture
def held_admin(client, admin_a):
    set_secret_as_postfixadmin("admin", admin_a.pk, RFC_SECRET)
    response = client.post(
        ADMIN_LOGIN, {"username": admin_a.pk, "password": PASSWORD, "next": "/mailboxes/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{CODE_URL}?next=%2Fmailboxes%2F"
    return client


def test_admin_password_alone_starts_no_session(held_admin, admin_a):
    assert admin_session(held_admin) is None
    assert held_admin.get("/domains/")["Location"].startswith(ADMIN_LOGIN)
    page = held_admin.get(CODE_URL)
    assert page.status_code == 200
    assert "Code from your authenticator app" in page.content.decode()
    # No login is recorded yet: only the code finishes it.
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN).exists()


def test_a_held_login_reaches_no_page_an_anonymous_visitor_cannot(held_admin, world):
    anonymous = Client()
    walked = 0
    for name, pattern, params in all_url_patterns():
        if name in ("twofactor:code", "twofactor:enrol") or pattern.callback is None:
            continue
        if any(p not in world for p in params):
            continue
        url = reverse(name, kwargs={p: world[p][0] for p in params}) if name else None
        if url is None:
            continue
        for method in ("get", "post"):
            held_answer = getattr(held_admin, method)(url)
            anonymous_answer = getattr(anonymous, method)(url)
            assert held_answer.status_code == anonymous_answer.status_code, (method, url)
            assert held_answer.get("Location") == anonymous_answer.get("Location"), (method, url)
            assert admin_session(held_admin) is None
            assert owner_session(held_admin) is None
            walked += 1
    assert walked > 40


def test_the_right_code_finishes_the_login(held_admin, admin_a):
    now = fresh_period()
    response = held_admin.post(
        f"{CODE_URL}?next=%2Fmailboxes%2F",
        {"code": rfc6238(RFC_SECRET, now), "next": "/mailboxes/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/mailboxes/"
    assert admin_session(held_admin) == admin_a.pk
    assert held_admin.get("/domains/").status_code == 200
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN, username=admin_a.pk).exists()


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_period_of_clock_skew_is_accepted(held_admin, admin_a, offset):
    now = fresh_period()
    response = held_admin.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now, offset=offset)})
    assert response.status_code == 302
    assert admin_session(held_admin) == admin_a.pk


@pytest.mark.parametrize("offset", [-3, 3])
def test_codes_further_off_are_refused(held_admin, offset):
    now = fresh_period()
    response = held_admin.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now, offset=offset)})
    assert response.status_code == 200
    assert "The code is not correct." in response.content.decode()
    assert admin_session(held_admin) is None


def test_a_code_is_accepted_only_once(held_admin, admin_a):
    now = fresh_period()
    code = rfc6238(RFC_SECRET, now)
    assert held_admin.post(CODE_URL, {"code": code}).status_code == 302
    held_admin.post("/accounts/logout/")
    other = Client()
    other.post(ADMIN_LOGIN, {"username": admin_a.pk, "password": PASSWORD})
    replay = other.post(CODE_URL, {"code": code})
    assert replay.status_code == 200
    assert "The code is not correct." in replay.content.decode()
    assert admin_session(other) is None


def test_wrong_codes_are_logged_and_throttled_like_passwords(held_admin, admin_a, settings, caplog):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    with caplog.at_level(logging.WARNING, logger="vimbadmin.auth"):
        for _ in range(3):
            held_admin.post(CODE_URL, {"code": "000000"})
    failures = [r.getMessage() for r in caplog.records if "auth failure" in r.getMessage()]
    assert (
        failures == [f"vimbadmin auth failure: realm=admin user={admin_a.pk} client=127.0.0.1"] * 3
    )
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.CODE_FAILED)
    assert (event.username, event.count) == (admin_a.pk, 3)
    # Held back now: even the right code is not checked.
    now = fresh_period()
    locked = held_admin.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now)})
    assert "Too many failed attempts" in locked.content.decode()
    assert admin_session(held_admin) is None


def test_a_wrong_password_never_reaches_the_code_page(client, admin_a):
    set_secret_as_postfixadmin("admin", admin_a.pk, RFC_SECRET)
    response = client.post(ADMIN_LOGIN, {"username": admin_a.pk, "password": "wrong"})
    assert response.status_code == 200
    assert client.get(CODE_URL)["Location"] == ADMIN_LOGIN


def test_an_empty_secret_means_no_second_factor(client, admin_a):
    set_secret_as_postfixadmin("admin", admin_a.pk, "")
    response = client.post(ADMIN_LOGIN, {"username": admin_a.pk, "password": PASSWORD})
    assert response.status_code == 302
    assert admin_session(client) == admin_a.pk


def test_a_secret_that_does_not_decode_still_blocks_the_password(client, admin_a):
    # Never weaker: a damaged secret locks the password out rather than letting it through.
    set_secret_as_postfixadmin("admin", admin_a.pk, "not base32!")
    client.post(ADMIN_LOGIN, {"username": admin_a.pk, "password": PASSWORD})
    assert admin_session(client) is None
    assert client.post(CODE_URL, {"code": "123456"}).status_code == 200
    assert admin_session(client) is None


def test_a_held_login_ends_when_the_password_changes(held_admin, admin_a):
    from accounts.models import Admin

    Admin.objects.filter(pk=admin_a.pk).update(password="{PLAIN}changed")
    now = fresh_period()
    response = held_admin.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now)})
    assert response["Location"] == ADMIN_LOGIN
    assert admin_session(held_admin) is None


def test_a_held_login_expires(held_admin, admin_a):
    session = held_admin.session
    session["vimb_2fa_pending"]["since"] -= 301
    session.save()
    now = fresh_period()
    response = held_admin.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now)})
    assert response.status_code == 302
    assert admin_session(held_admin) is None


def test_cancel_forgets_the_held_login(held_admin):
    assert held_admin.post("/2fa/cancel/")["Location"] == ADMIN_LOGIN
    assert held_admin.get(CODE_URL)["Location"] == ADMIN_LOGIN


# --------------------------------------------------------------------------------------------
# Mailbox owners


@pytest.fixture
def owner(domain_a):
    mailbox = make_mailbox(domain_a, "owner")
    set_secret_as_postfixadmin("mailbox", mailbox.pk, RFC_SECRET)
    return mailbox


def test_owner_password_alone_opens_no_page(client, owner):
    response = client.post(OWNER_LOGIN, {"address": owner.pk, "password": PASSWORD})
    assert response["Location"] == CODE_URL
    assert owner_session(client) is None
    assert client.get("/me/")["Location"].startswith(OWNER_LOGIN)
    page = client.get(CODE_URL)
    assert page.status_code == 200
    # The owner's page layout, not the admin's.
    assert "self-service" in page.content.decode()


def test_owner_code_opens_the_owner_pages_only(client, owner):
    client.post(OWNER_LOGIN, {"address": owner.pk, "password": PASSWORD, "next": "/domains/"})
    now = fresh_period()
    response = client.post(CODE_URL, {"code": rfc6238(RFC_SECRET, now), "next": "/domains/"})
    assert response["Location"] == "/me/"
    assert owner_session(client) == owner.pk
    assert admin_session(client) is None
    assert client.get("/me/").status_code == 200


def test_owner_wrong_code_is_a_mailbox_realm_failure(client, owner, caplog):
    client.post(OWNER_LOGIN, {"address": owner.pk, "password": PASSWORD})
    with caplog.at_level(logging.WARNING, logger="vimbadmin.auth"):
        client.post(CODE_URL, {"code": "999999"})
    assert f"vimbadmin auth failure: realm=mailbox user={owner.pk} client=127.0.0.1" in [
        r.getMessage() for r in caplog.records
    ]
    assert not Log.objects.filter(action="edit_mailbox", data__contains="second factor").exists()
