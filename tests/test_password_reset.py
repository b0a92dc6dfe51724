"""Forgotten password and own password change for admins."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from accounts.models import Admin, AuthEvent
from accounts.services import admin_set_active, admin_update
from mail import passwords
from pfa.models import Log
from tests.factories import PASSWORD
from tests.support.mailtools import mail_sent

RESET = "/accounts/password-reset/"
DONE = "/accounts/password-reset/sent/"
NEW = "Fresh-Orbit-Lantern-42"
LINK_RE = re.compile(r"https?://[^/\s]+(/accounts/password-reset/[^/\s]+/[^/\s]+/)")


def _request_link(client: Client, address: str, **meta: str):
    # The link is queued on commit for the background sender: commit, then wait for it.
    with mail_sent():
        return client.post(RESET, {"email": address}, **meta)


def _link(message) -> str:
    match = LINK_RE.search(message.body)
    assert match, message.body
    return match.group(1)


def _logged_in(client: Client) -> bool:
    return client.get("/accounts/password/").status_code == 200


def _follow_link(client: Client, link: str):
    # Django swaps the token for a session-held one and redirects to .../set-password/.
    response = client.get(link)
    assert response.status_code == 302
    return response["Location"]


def test_reset_mail_for_known_admin(client, admin_a):
    response = _request_link(client, "Admin@Alpha.example")
    assert response.status_code == 302
    assert response["Location"] == DONE
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@alpha.example"]
    assert message.subject == "Your ViMbAdmin password"
    assert "expires in 60 minutes" in message.body
    assert PASSWORD not in message.body
    html = message.alternatives[0][0]
    assert _link(message) in html
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.RESET_REQUESTED)
    assert event.username == "admin@alpha.example"


def test_reset_mail_goes_to_email_other_when_set(client, admin_a, superadmin):
    admin_update(actor=superadmin, admin=admin_a, email_other="private@elsewhere.example")
    _request_link(client, "admin@alpha.example")
    assert [m.to for m in mail.outbox] == [["private@elsewhere.example"]]


def test_same_answer_for_unknown_and_inactive_accounts(client, admin_a, superadmin):
    inactive = Admin.objects.create(username="gone@alpha.example", active=False)
    admin_set_active(actor=superadmin, admin=inactive, active=False)
    pages = []
    for address in ("admin@alpha.example", "nobody@alpha.example", "gone@alpha.example"):
        response = _request_link(client, address)
        assert response.status_code == 302
        assert response["Location"] == DONE
        # The footer's language switcher carries a CSRF token, masked anew for every page.
        page = client.get(response["Location"]).content
        pages.append(re.sub(rb'(csrfmiddlewaretoken" value=")\w+', rb"\1", page))
    assert pages[0] == pages[1] == pages[2]
    assert b"If the address belongs to an active admin" in pages[0]
    assert [m.to for m in mail.outbox] == [["admin@alpha.example"]]


def test_malformed_address_gets_a_message(client, db):
    response = _request_link(client, "not-an-address")
    assert response.status_code == 200
    assert "is not a valid e-mail address" in response.content.decode()
    assert not mail.outbox


def test_reset_requests_are_throttled_silently(client, admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    answers = [_request_link(client, "admin@alpha.example") for _ in range(4)]
    assert {(r.status_code, r["Location"]) for r in answers} == {(302, DONE)}
    assert len(mail.outbox) == 2
    # One counted row per account, address and hour (L11), not one row per request.
    requested = AuthEvent.objects.filter(kind=AuthEvent.Kind.RESET_REQUESTED)
    assert sum(requested.values_list("count", flat=True)) == 2


def test_reset_requests_throttled_per_client_address(client, admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        _request_link(client, f"probe{n}@alpha.example", REMOTE_ADDR="203.0.113.9")
    _request_link(client, "admin@alpha.example", REMOTE_ADDR="203.0.113.9")
    assert not mail.outbox
    _request_link(client, "admin@alpha.example", REMOTE_ADDR="203.0.113.10")
    assert len(mail.outbox) == 1


def test_reset_sets_password_ends_other_sessions_and_is_single_use(client, admin_a):
    other = Client()
    other.force_login(admin_a)
    assert _logged_in(other)
    _request_link(client, "admin@alpha.example")
    link = _link(mail.outbox[0])
    form_url = _follow_link(client, link)
    page = client.get(form_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Choose a new password" in html
    assert "js-generate-password" in html
    assert "Suggested strong password:" in html
    response = client.post(form_url, {"password": NEW, "password2": NEW})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/complete/"
    assert client.get(response["Location"]).status_code == 200

    admin = Admin.objects.get(pk=admin_a.pk)
    assert passwords.verify_password(NEW, admin.password)
    assert not passwords.verify_password(PASSWORD, admin.password)
    assert not _logged_in(other)
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.RESET_DONE, username=admin.pk).exists()
    assert Log.objects.filter(action="edit_password", data="admin@alpha.example").exists()

    # The same link again: a clear page, nothing changed.
    again = Client()
    response = again.get(link, follow=True)
    assert response.status_code == 200
    assert "The password reset link has expired or has already been used" in (
        response.content.decode()
    )
    assert Admin.objects.get(pk=admin_a.pk).password == admin.password

    # And the new password logs in.
    login = Client().post("/accounts/login/", {"username": admin.pk, "password": NEW})
    assert login.status_code == 302


def test_expired_link_changes_nothing(client, admin_a, settings):
    _request_link(client, "admin@alpha.example")
    link = _link(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1
    before = Admin.objects.get(pk=admin_a.pk).password
    response = client.get(link, follow=True)
    assert "The password reset link has expired or has already been used" in (
        response.content.decode()
    )
    # Posting straight to the form URL does not work either.
    uid_token = link.rstrip("/").split("/")[-2:]
    target = f"/accounts/password-reset/{uid_token[0]}/set-password/"
    response = client.post(target, {"password": NEW, "password2": NEW})
    assert response.status_code == 200
    assert Admin.objects.get(pk=admin_a.pk).password == before


def test_garbage_link_is_a_clear_page(client, db):
    response = client.get("/accounts/password-reset/Zm9v/abc-def/")
    assert response.status_code == 200
    assert "This link is not valid" in response.content.decode()


def test_reset_rejects_weak_and_mismatched_passwords(client, admin_a):
    _request_link(client, "admin@alpha.example")
    form_url = _follow_link(client, _link(mail.outbox[0]))
    before = Admin.objects.get(pk=admin_a.pk).password
    response = client.post(form_url, {"password": "short", "password2": "short"})
    assert "This password is too short. It must contain at least 12 characters." in (
        response.content.decode()
    )
    response = client.post(form_url, {"password": NEW, "password2": NEW + "x"})
    assert "The two passwords do not match." in response.content.decode()
    response = client.post(form_url, {"password": "password1234", "password2": "password1234"})
    assert "This password is too common." in response.content.decode()
    assert Admin.objects.get(pk=admin_a.pk).password == before


def test_reset_timeout_setting_defaults_to_one_hour():
    from django.conf import settings

    assert settings.PASSWORD_RESET_TIMEOUT == 3600


# --------------------------------------------------------------------------------------------
# Own password change


def test_password_change_keeps_this_session_and_ends_others(client_a, admin_a):
    other = Client()
    other.force_login(admin_a)
    page = client_a.get("/accounts/password/")
    assert page.status_code == 200
    assert "Suggested strong password:" in page.content.decode()
    response = client_a.post(
        "/accounts/password/", {"old_password": PASSWORD, "password": NEW, "password2": NEW}
    )
    assert response.status_code == 302
    assert passwords.verify_password(NEW, Admin.objects.get(pk=admin_a.pk).password)
    assert "Your password has been changed." in client_a.get(response["Location"]).content.decode()
    assert _logged_in(client_a)
    assert not _logged_in(other)
    log = Log.objects.get(action="edit_password")
    assert log.username.startswith("admin@alpha.example")
    assert log.data == "admin@alpha.example"


def test_password_change_needs_the_current_password(client_a, admin_a):
    before = Admin.objects.get(pk=admin_a.pk).password
    response = client_a.post(
        "/accounts/password/", {"old_password": "wrong", "password": NEW, "password2": NEW}
    )
    assert response.status_code == 200
    assert "Your current password is wrong." in response.content.decode()
    assert Admin.objects.get(pk=admin_a.pk).password == before
    assert not Log.objects.filter(action="edit_password").exists()


def test_password_change_applies_policy(client_a, admin_a):
    before = Admin.objects.get(pk=admin_a.pk).password
    for weak, text in [
        ("short-1", "This password is too short."),
        ("admin@alpha.example", "The password is too similar to the"),
        ("123456789012", "This password is entirely numeric."),
    ]:
        response = client_a.post(
            "/accounts/password/", {"old_password": PASSWORD, "password": weak, "password2": weak}
        )
        assert text in response.content.decode(), weak
    assert Admin.objects.get(pk=admin_a.pk).password == before


def test_password_change_min_length_is_configurable(client_a, admin_a, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 30},
        }
    ]
    response = client_a.post(
        "/accounts/password/", {"old_password": PASSWORD, "password": NEW, "password2": NEW}
    )
    assert "at least 30 characters" in response.content.decode()


def test_password_change_needs_login(client, db):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


SUGGESTION_RE = re.compile(r'class="[^"]*js-generated-password[^"]*"[^>]*>([^<]+)<')


def test_suggestion_is_strong_and_fresh(client_a):
    first = SUGGESTION_RE.search(client_a.get("/accounts/password/").content.decode()).group(1)
    second = SUGGESTION_RE.search(client_a.get("/accounts/password/").content.decode()).group(1)
    # At least as strong as `openssl rand -base64 12` (96 bits): 16 of 64 symbols.
    assert len(first) >= 16
    assert first != second
