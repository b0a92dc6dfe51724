"""App passwords on Postfix Admin 4's mailbox_app_password: made by owners, revoked in scope."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from pfa.models import Log, MailboxAppPassword
from tests.factories import make_mailbox, owner_client_for
from twofactor.models import AppPasswordInfo

PAGE = "/me/app-passwords/"


@pytest.fixture
def owner(domain_a):
    return make_mailbox(domain_a, "owner")


@pytest.fixture
def owner_client(owner) -> Client:
    return owner_client_for(owner)


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


# --- When each was made -----------------------------------------------------------------------


def created_cells(page: str) -> dict[str, str]:
    """Return {app or device: what its Created cell shows} of the owner's page."""
    rows = re.findall(r"<tr><td>([^<]*)</td><td data-created>(.*?)</td>", page)
    return {name: re.sub(r"<[^>]+>", "", cell) for name, cell in rows}


def test_the_owner_sees_when_each_was_made_and_a_dash_for_postfix_admins(owner_client, owner):
    made = timezone.now()
    create(owner_client, "Phone")
    # Postfix Admin's own page writes only its columns: no date is known.
    MailboxAppPassword.objects.create(
        username=owner.pk, description="Laptop", password_hash="{SHA512.HEX}00"
    )
    info = AppPasswordInfo.objects.get()
    assert info.username == owner.pk
    assert abs((info.created - made).total_seconds()) < 60
    cells = created_cells(owner_client.get(PAGE).content.decode())
    assert cells["Laptop"] == "—"
    assert cells["Phone"] == date_format(timezone.localtime(info.created), "DATETIME_FORMAT")


def test_revoking_removes_the_date_too(owner_client, owner):
    create(owner_client, "Phone")
    row = MailboxAppPassword.objects.get(username=owner.pk)
    owner_client.post(PAGE, {"action": "revoke", "id": str(row.pk)})
    assert not AppPasswordInfo.objects.exists()


def test_rows_postfix_admin_deleted_or_reused_never_show_a_wrong_date(
    owner_client, owner, domain_a
):
    create(owner_client, "Phone")
    row = MailboxAppPassword.objects.get(username=owner.pk)
    # Postfix Admin deletes the row; the project's row stays behind without harm.
    MailboxAppPassword.objects.filter(pk=row.pk).delete()
    assert owner_client.get(PAGE).status_code == 200
    # The id comes back for another mailbox's app password written by Postfix Admin.
    other = make_mailbox(domain_a, "other")
    MailboxAppPassword.objects.create(
        pk=row.pk, username=other.pk, description="Tablet", password_hash="{SHA512.HEX}00"
    )
    other_page = owner_client_for(other).get(PAGE).content.decode()
    assert created_cells(other_page) == {"Tablet": "—"}


def test_admins_see_the_date_on_the_mailbox_page(client_a, owner_client, owner):
    create(owner_client, "Phone")
    MailboxAppPassword.objects.create(
        username=owner.pk, description="Laptop", password_hash="{SHA512.HEX}00"
    )
    detail = client_a.get(f"/mailboxes/{owner.pk}/").content.decode()
    shown = dict(re.findall(r"<span>([^<]*)</span> <span[^>]*data-created>([^<]*)</span>", detail))
    created = timezone.localtime(AppPasswordInfo.objects.get().created)
    assert shown == {"Phone": f"created {date_format(created, 'DATETIME_FORMAT')}", "Laptop": "—"}
