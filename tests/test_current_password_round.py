"""Every form that re-asks the current password reports all its errors after one submit.

The admin's own password page, the owner's /me/password and the removal of one's own second
factor (admin and owner) check the current password in the same round as every other field,
once per request, through the login's throttle: a wrong one is counted and logged, and while
held back nothing is verified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Admin, AuthEvent
from mail import passwords
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import PASSWORD, make_mailbox
from tests.support.pages import input_value, page
from tests.support.totp import fresh_period, rfc6238
from twofactor import services as twofactor_services
from twofactor import totp
from twofactor.models import RecoveryCode

WRONG_CURRENT = "Your current password is wrong."
LOCKED = "Too many failed attempts; try again in 15 minutes."
TOO_SHORT = "This password is too short. It must contain at least 12 characters."
DIFFER = "The two passwords do not match."
REQUIRED = "This field is required."
WRONG_CODE = "The code is not correct."
RULE = "Your password must contain at least 12 characters."
NEW = "kQ7-vTr9-Xw2p-Lm4z-Hc8d"


def failures(realm: str, username: str) -> int:
    rows = AuthEvent.objects.filter(
        kind=AuthEvent.Kind.LOGIN_FAILED, realm=realm, username=username
    )
    return sum(rows.values_list("count", flat=True))


@pytest.fixture
def limits(settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = 900
    settings.VIMBADMIN_LOGIN_SLOWDOWN_SECONDS = 30
    return settings


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """Record every password verification (the real one still runs)."""
    seen: list[str] = []
    real_verify = passwords.verify_password

    def verify_password(raw: str, stored: str) -> bool:
        seen.append(raw)
        return real_verify(raw, stored)

    monkeypatch.setattr(passwords, "verify_password", verify_password)
    return seen


# --------------------------------------------------------------------------------------------
# The two own-password pages


@dataclass(frozen=True)
class PasswordPage:
    """One own-password page: where it is, whose it is, what its fields are called."""

    url: str
    realm: str
    username: str
    client: Client
    current: str
    new1: str
    new2: str

    def post(self, current: str, new1: str, new2: str | None = None):
        data = {self.current: current, self.new1: new1, self.new2: new1 if new2 is None else new2}
        return self.client.post(self.url, data)

    def stored(self) -> str:
        model = Admin if self.realm == "admin" else Mailbox
        return model.objects.get(pk=self.username).password


@pytest.fixture(params=["admin", "owner"])
def password_page(request, domain_a, limits) -> PasswordPage:
    if request.param == "admin":
        admin = request.getfixturevalue("admin_a")
        client = request.getfixturevalue("client_a")
        return PasswordPage(
            "/accounts/password/",
            "admin",
            admin.pk,
            client,
            "old_password",
            "password",
            "password2",
        )
    owner = make_mailbox(domain_a, "owner", name="Olive Owner")
    client = Client()
    assert client.post("/me/login/", {"address": owner.pk, "password": PASSWORD}).status_code == 302
    return PasswordPage(
        "/me/password/",
        "mailbox",
        owner.pk,
        client,
        "current_password",
        "new_password1",
        "new_password2",
    )


@pytest.mark.parametrize(
    ("new1", "new2", "new_error", "field"),
    [("short-1", None, TOO_SHORT, "new1"), (NEW, NEW + "x", DIFFER, "new2")],
    ids=["too-short", "mismatched"],
)
def test_a_wrong_current_and_a_refused_new_password_are_reported_together(
    password_page, checks, caplog, new1, new2, new_error, field
):
    before = password_page.stored()
    with caplog.at_level(logging.INFO, logger="vimbadmin.auth"):
        response = password_page.post("Wrong-Current-Pass-1", new1, new2)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors[password_page.current] == [WRONG_CURRENT]
    assert new_error in " ".join(errors[getattr(password_page, field)])
    text = page(response)
    assert WRONG_CURRENT in text
    assert new_error in text
    # The rules of the new password stay shown; neither typed password comes back.
    assert RULE in text
    assert input_value(response, password_page.current) is None
    assert input_value(response, password_page.new1) is None
    # Checked once, counted and logged once, and nothing changed.
    assert checks == ["Wrong-Current-Pass-1"]
    assert failures(password_page.realm, password_page.username) == 1
    lines = [r.getMessage() for r in caplog.records if "auth failure" in r.getMessage()]
    assert lines == [
        f"vimbadmin auth failure: realm={password_page.realm} user={password_page.username} "
        "client=127.0.0.1"
    ]
    assert password_page.stored() == before
    assert not Log.objects.filter(action="edit_password").exists()


def test_a_right_current_password_shows_only_the_new_passwords_errors(password_page, checks):
    before = password_page.stored()
    response = password_page.post(PASSWORD, "short-1")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert password_page.current not in errors
    assert TOO_SHORT in " ".join(errors[password_page.new1])
    assert WRONG_CURRENT not in page(response)
    assert input_value(response, password_page.current) is None
    assert checks == [PASSWORD]
    assert failures(password_page.realm, password_page.username) == 0
    assert password_page.stored() == before
    assert not Log.objects.filter(action="edit_password").exists()


def test_a_wrong_current_password_keeps_an_accepted_new_one(password_page):
    response = password_page.post("Wrong-Current-Pass-1", NEW)
    assert response.context["form"].errors == {password_page.current: [WRONG_CURRENT]}
    # A generated password the user may not have noted yet stays; the current one does not.
    assert input_value(response, password_page.new1) == NEW
    assert input_value(response, password_page.new2) == NEW
    assert input_value(response, password_page.current) is None


def test_a_held_back_user_gets_the_lockout_and_no_check(password_page, checks):
    before = password_page.stored()
    for n in range(3):
        assert WRONG_CURRENT in page(password_page.post(f"Wrong-Current-Pass-{n}", "short-1"))
    checks.clear()
    # Held back: the right password is not even checked, the new one's errors still show.
    response = password_page.post(PASSWORD, "short-1")
    errors = response.context["form"].errors
    assert LOCKED in " ".join(errors[password_page.current])
    assert TOO_SHORT in " ".join(errors[password_page.new1])
    assert WRONG_CURRENT not in page(response)
    response = password_page.post(PASSWORD, NEW)
    assert response.status_code == 200
    assert response.context["form"].errors == {password_page.current: [LOCKED]}
    assert checks == []
    assert failures(password_page.realm, password_page.username) == 3
    assert password_page.stored() == before


def test_a_right_current_and_a_valid_new_password_change_it_in_one_submit(password_page, checks):
    response = password_page.post(PASSWORD, NEW)
    assert response.status_code == 302
    assert checks[0] == PASSWORD
    assert passwords.verify_password(NEW, password_page.stored())
    assert failures(password_page.realm, password_page.username) == 0


# --------------------------------------------------------------------------------------------
# Removing one's own second factor


@dataclass(frozen=True)
class FactorPage:
    """One own second-factor page, for an account with a second factor set up."""

    url: str
    realm: str
    username: str
    client: Client
    secret: str
    recovery_codes: list[str]

    def remove(self, password: str, code: str):
        return self.client.post(self.url, {"action": "disable", "password": password, "code": code})

    def stored_secret(self) -> str | None:
        with connection.cursor() as cursor:
            table = "admin" if self.realm == "admin" else "mailbox"
            cursor.execute(f"SELECT totp_secret FROM {table} WHERE username = %s", [self.username])
            return cursor.fetchone()[0]

    def recovery_codes_left(self) -> int:
        unused = RecoveryCode.objects.filter(realm=self.realm, username=self.username)
        return unused.filter(used__isnull=True).count()


@pytest.fixture(params=["admin", "owner"])
def factor_page(request, domain_a, limits) -> FactorPage:
    secret = totp.new_secret()
    # The previous period's code, so the current one stays free for the test.
    code = rfc6238(secret, fresh_period(), offset=-1)
    if request.param == "admin":
        admin = request.getfixturevalue("admin_a")
        client = request.getfixturevalue("client_a")
        codes = twofactor_services.totp_enrol(actor=admin, account=admin, secret=secret, code=code)
        return FactorPage("/2fa/", "admin", admin.pk, client, secret, codes)
    owner = make_mailbox(domain_a, "owner")
    client = Client()
    assert client.post("/me/login/", {"address": owner.pk, "password": PASSWORD}).status_code == 302
    codes = twofactor_services.totp_enrol(
        actor=owner.username, account=owner, secret=secret, code=code
    )
    return FactorPage("/me/two-factor/", "mailbox", owner.pk, client, secret, codes)


def test_a_wrong_password_and_a_missing_code_are_reported_together(factor_page, checks):
    response = factor_page.remove("Wrong-Current-Pass-1", "")
    assert response.status_code == 200
    errors = response.context["disable_form"].errors
    assert errors == {"password": [WRONG_CURRENT], "code": [REQUIRED]}
    text = page(response)
    assert WRONG_CURRENT in text
    assert REQUIRED in text
    assert input_value(response, "password") is None
    assert checks == ["Wrong-Current-Pass-1"]
    assert failures(factor_page.realm, factor_page.username) == 1
    assert factor_page.stored_secret() == factor_page.secret


def test_a_right_password_and_a_missing_code_show_only_the_code_error(factor_page, checks):
    response = factor_page.remove(PASSWORD, "")
    assert response.context["disable_form"].errors == {"code": [REQUIRED]}
    assert WRONG_CURRENT not in page(response)
    assert checks == [PASSWORD]
    assert failures(factor_page.realm, factor_page.username) == 0
    assert factor_page.stored_secret() == factor_page.secret


def test_a_code_beside_a_wrong_password_is_not_used_up(factor_page):
    recovery = factor_page.recovery_codes[0]
    response = factor_page.remove("Wrong-Current-Pass-1", recovery)
    assert response.context["disable_form"].errors == {"password": [WRONG_CURRENT]}
    assert WRONG_CODE not in page(response)
    assert factor_page.recovery_codes_left() == len(factor_page.recovery_codes)
    # The same recovery code, with the right password, still removes the second factor.
    response = factor_page.remove(PASSWORD, recovery)
    assert response.status_code == 302
    assert factor_page.stored_secret() is None


def test_a_held_back_user_cannot_remove_the_factor_and_nothing_is_checked(factor_page, checks):
    for n in range(3):
        assert WRONG_CURRENT in page(factor_page.remove(f"Wrong-Current-Pass-{n}", ""))
    checks.clear()
    code = rfc6238(factor_page.secret, fresh_period())
    response = factor_page.remove(PASSWORD, code)
    assert response.status_code == 200
    assert response.context["disable_form"].errors == {"password": [LOCKED]}
    assert checks == []
    assert failures(factor_page.realm, factor_page.username) == 3
    assert factor_page.stored_secret() == factor_page.secret
    assert factor_page.recovery_codes_left() == len(factor_page.recovery_codes)
