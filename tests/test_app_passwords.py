"""App passwords on Postfix Admin 4's mailbox_app_password: made by owners, revoked in scope."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from pfa.models import Log, MailboxAppPassword
from tests.factories import PASSWORD, make_mailbox

PAGE = "/me/app-passwords/"


@pytest.fixture
def owner(domain_a):
    return make_mailbox(domain_a, "owner")


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.post("/me/login/", {"address": owner.pk, "password": PASSWORD})
    return client


def create(client: Client, description: str) -> str:
    response = client.post(PAGE, {"action": "create", "description": description})
    assert response.status_code == 200
    match = re.search(r"data-app-password>([^<]+)<", response.content.decode())
    assert match, "the new app password is shown"
    return match.group(1)


def test_owner_creates_an_app_password_shown_once_and_stored_hashed(owner_client, owner):
    raw = create(owner_client, "Phone")
    assert len(raw) == 24
    row = MailboxAppPassword.objects.get(username=owner.pk)
    assert row.description == "Phone"
    assert row.password_hash == "{SHA512.HEX}" + hashlib.sha512(raw.encode()).hexdigest()
    assert Log.objects.filter(action="add_app_password", data=f"{owner.pk}: Phone").exists()
    page = owner_client.get(PAGE).content.decode()
    assert "Phone" in page
    assert raw not in page


def test_an_app_password_needs_a_name(owner_client, owner):
    response = owner_client.post(PAGE, {"action": "create", "description": "  "})
    assert "This field is required." in response.content.decode()
    assert not MailboxAppPassword.objects.exists()


def test_an_app_password_does_not_open_the_owner_pages(owner_client, owner):
    raw = create(owner_client, "Phone")
    other = Client()
    response = other.post("/me/login/", {"address": owner.pk, "password": raw})
    assert response.status_code == 200
    assert other.session.get("vimb_mailbox") is None


def test_owner_revokes_only_their_own(owner_client, owner, domain_a):
    create(owner_client, "Phone")
    stranger = make_mailbox(domain_a, "stranger")
    foreign = MailboxAppPassword.objects.create(
        username=stranger.pk, description="Laptop", password_hash="{SHA512.HEX}00"
    )
    refused = owner_client.post(PAGE, {"action": "revoke", "id": str(foreign.pk)})
    assert refused.status_code == 404
    assert MailboxAppPassword.objects.filter(pk=foreign.pk).exists()
    mine = MailboxAppPassword.objects.get(username=owner.pk)
    owner_client.post(PAGE, {"action": "revoke", "id": str(mine.pk)})
    assert not MailboxAppPassword.objects.filter(pk=mine.pk).exists()
    assert Log.objects.filter(action="edit_mailbox", data=f"{owner.pk}: app password Phone revoked")


def test_admins_see_and_revoke_app_passwords_in_scope_only(client_a, client_b, owner):
    row = MailboxAppPassword.objects.create(
        username=owner.pk, description="Tablet", password_hash="{SHA512.HEX}00"
    )
    detail = client_a.get(f"/mailboxes/{owner.pk}/").content.decode()
    assert "Tablet" in detail
    url = f"/2fa/app-passwords/{row.pk}/revoke/"
    assert client_b.post(url).status_code == 404
    assert MailboxAppPassword.objects.filter(pk=row.pk).exists()
    response = client_a.post(url, {"next": f"/mailboxes/{owner.pk}/"})
    assert response["Location"] == f"/mailboxes/{owner.pk}/"
    assert not MailboxAppPassword.objects.filter(pk=row.pk).exists()


def test_revoking_an_unknown_app_password_is_404(super_client, db):
    assert super_client.post("/2fa/app-passwords/999999/revoke/").status_code == 404
