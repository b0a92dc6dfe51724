"""Passwords over 1,024 characters are a field error on every form and never reach a hasher."""

from __future__ import annotations

import html
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Admin, AuthEvent
from accounts.services import admin_create
from mail import passwords
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_create
from tests.factories import PASSWORD, make_mailbox
from tests.support.mailtools import mail_sent

LONG = "L" * 5000
TOO_LONG = "Aa1-" * 256 + "x"  # 1,025 characters
TOO_LONG_ERROR = "Ensure this value has at most 1024 characters"
# 1,024 characters of four UTF-8 bytes each: 4,096 bytes, the most a hash library accepts.
LONGEST = "\U0001d11e" * 1024


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def hashes(monkeypatch) -> list[int]:
    """Record the length of every password that reaches a hash or a check."""
    seen: list[int] = []
    real_hash, real_verify = passwords.hash_password, passwords.verify_password

    def hash_password(raw: str, **kwargs: object) -> str:
        seen.append(len(raw))
        return real_hash(raw, **kwargs)

    def verify_password(raw: str, stored: str) -> bool:
        seen.append(len(raw))
        return real_verify(raw, stored)

    monkeypatch.setattr(passwords, "hash_password", hash_password)
    monkeypatch.setattr(passwords, "verify_password", verify_password)
    return seen


@pytest.mark.parametrize("login", ["ghost@alpha.example", "admin@alpha.example"])
def test_admin_login_with_a_huge_password_is_a_field_error(admin_a, hashes, login):
    response = Client().post("/accounts/login/", {"username": login, "password": LONG})
    assert response.status_code == 200
    assert f"{TOO_LONG_ERROR} (it has 5000)." in text(response)
    assert hashes == []
    assert not AuthEvent.objects.exists()


@pytest.mark.parametrize("login", ["ghost@alpha.example", "owner@alpha.example"])
def test_owner_login_with_a_huge_password_is_a_field_error(domain_a, hashes, login):
    make_mailbox(domain_a, "owner")
    hashes.clear()
    response = Client().post("/me/login/", {"address": login, "password": LONG})
    assert response.status_code == 200
    assert TOO_LONG_ERROR in text(response)
    assert hashes == []


def test_admin_forms_refuse_a_password_over_the_limit(super_client, client_a, admin_a, hashes):
    cases = [
        (
            super_client,
            "/accounts/admins/new/",
            {"username": "new@alpha.example", "password": LONG, "password2": LONG},
        ),
        (
            super_client,
            "/accounts/admins/admin@alpha.example/password/",
            {"password": TOO_LONG, "password2": TOO_LONG},
        ),
        (
            client_a,
            "/accounts/password/",
            {"old_password": PASSWORD, "password": TOO_LONG, "password2": TOO_LONG},
        ),
        (
            client_a,
            "/accounts/password/",
            {"old_password": LONG, "password": "Fresh-Orbit-1", "password2": "Fresh-Orbit-1"},
        ),
    ]
    before = Admin.objects.get(pk=admin_a.pk).password
    for client, url, data in cases:
        response = client.post(url, data)
        assert response.status_code == 200, url
        assert TOO_LONG_ERROR in text(response), url
    assert [n for n in hashes if n > 1024] == []
    assert not Admin.objects.filter(pk="new@alpha.example").exists()
    assert Admin.objects.get(pk=admin_a.pk).password == before


def test_mailbox_forms_refuse_a_password_over_the_limit(client_a, domain_a, hashes):
    make_mailbox(domain_a, "bob")
    hashes.clear()
    create = {
        "domain": "alpha.example",
        "local_part": "alice",
        "name": "",
        "password": TOO_LONG,
        "password_confirm": TOO_LONG,
        "quota": "500",
        "email_other": "",
    }
    for url, data in [
        ("/mailboxes/new/", create),
        ("/mailboxes/bob@alpha.example/password/", {"password": LONG, "password_confirm": LONG}),
    ]:
        response = client_a.post(url, data)
        assert response.status_code == 200, url
        assert TOO_LONG_ERROR in text(response), url
    assert hashes == []
    assert not Mailbox.objects.filter(pk="alice@alpha.example").exists()


def test_owner_forms_refuse_a_password_over_the_limit(domain_a, hashes):
    owner = make_mailbox(domain_a, "owner", email_other="olive@elsewhere.example")
    before = owner.password
    client = Client()
    assert client.post("/me/login/", {"address": owner.pk, "password": PASSWORD}).status_code == 302
    hashes.clear()
    for data in (
        {"current_password": PASSWORD, "new_password1": TOO_LONG, "new_password2": TOO_LONG},
        {"current_password": LONG, "new_password1": "Fresh-Orbit-1", "new_password2": "x"},
    ):
        response = client.post("/me/password/", data)
        assert TOO_LONG_ERROR in text(response)
    # The right current password of the first submit is checked in the same round as the
    # refused new one (once); the one over the limit is never checked.
    assert hashes == [len(PASSWORD)]
    assert Mailbox.objects.get(pk=owner.pk).password == before


def _reset_form(client: Client, url: str, data: dict[str, str], pattern: str) -> str:
    with mail_sent():
        client.post(url, data)
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    landing = client.get(match.group(1))
    assert landing.status_code == 302
    return landing["Location"]


def test_reset_confirm_forms_refuse_a_password_over_the_limit(admin_a, domain_a):
    owner = make_mailbox(domain_a, "owner", email_other="olive@elsewhere.example")
    client = Client()
    admin_form = _reset_form(
        client,
        "/accounts/password-reset/",
        {"email": admin_a.pk},
        r"https?://[^/\s]+(/accounts/password-reset/[^/\s]+/[^/\s]+/)",
    )
    response = client.post(admin_form, {"password": TOO_LONG, "password2": TOO_LONG})
    assert TOO_LONG_ERROR in text(response)
    owner_form = _reset_form(
        client,
        "/me/password-reset/",
        {"address": owner.pk},
        r"https?://[^/\s]+(/me/password-reset/[^/\s]+/[^/\s]+/)",
    )
    response = client.post(owner_form, {"new_password1": TOO_LONG, "new_password2": TOO_LONG})
    assert TOO_LONG_ERROR in text(response)
    assert Admin.objects.get(pk=admin_a.pk).password == admin_a.password
    assert Mailbox.objects.get(pk=owner.pk).password == owner.password


def test_the_longest_password_is_accepted_and_logs_in(super_client, db):
    response = super_client.post(
        "/accounts/admins/new/",
        {"username": "long@alpha.example", "password": LONGEST, "password2": LONGEST},
    )
    assert response.status_code == 302
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "long@alpha.example", "password": LONGEST}
    )
    assert response.status_code == 302


def test_services_refuse_a_password_over_the_limit(domain_a):
    # Commands and other callers of the services get the same answer as the forms.
    with pytest.raises(ValidationError, match="at most 1024 characters"):
        admin_create(actor=None, username="cli@alpha.example", password=LONG)
    with pytest.raises(ValidationError, match="at most 1024 characters"):
        mailbox_create(actor=None, domain=domain_a, local_part="cli", password=LONG)
    assert not Admin.objects.filter(pk="cli@alpha.example").exists()
    assert not Mailbox.objects.filter(pk="cli@alpha.example").exists()
