"""The last password change of a mailbox: kept by every path that sets a password, shown to the
owner and the admin, and "not known" where this project did not set the current password."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from api.services import api_token_create
from domains.services import domain_purge
from mail import passwords
from mailboxes.models import Mailbox, PasswordChange
from mailboxes.services import mailbox_purge, mailbox_rehash_password
from mailboxes.tokens import encode_uid, mailbox_reset_token
from tests.factories import PASSWORD, make_domain, make_mailbox, owner_client_for
from tests.support.commands import run_json

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-New-Secret-2042"
LONG_AGO = datetime.datetime(2020, 3, 4, 5, 6, tzinfo=datetime.UTC)


@pytest.fixture
def owner(domain_a) -> Mailbox:
    box = make_mailbox(domain_a, "owner")
    # As if set long ago: each path below must move it to now.
    PasswordChange.objects.filter(username=box.username).update(changed=LONG_AGO)
    return box


def shown(client: Client, url: str) -> str:
    text = client.get(url).content.decode()
    found = re.search(r'id="password-changed">(.*?)</dd>', text, re.S)
    assert found, "no last password change on the page"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def assert_changed_now(mailbox: Mailbox, started: datetime.datetime) -> None:
    mailbox.refresh_from_db()
    row = PasswordChange.objects.get(username=mailbox.username)
    assert row.changed >= started - datetime.timedelta(seconds=1)
    assert row.hash_digest != ""
    assert passwords.verify_password(NEW_PASSWORD, mailbox.password)


def test_creation_records_the_date_and_both_pages_show_it(client_a, domain_a):
    started = timezone.now()
    box = make_mailbox(domain_a, "fresh")
    row = PasswordChange.objects.get(username=box.username)
    assert row.changed >= started - datetime.timedelta(seconds=1)
    assert shown(client_a, f"/mailboxes/{box.username}/") not in ("", "not known")
    assert shown(owner_client_for(box), "/me/") not in ("", "not known")


def test_the_owners_own_page_records_it(owner):
    client = owner_client_for(owner)
    assert "2020" in shown(client, "/me/")
    started = timezone.now()
    response = client.post(
        "/me/password/",
        {
            "current_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert_changed_now(owner, started)
    assert "2020" not in shown(client, "/me/")


def test_the_admin_page_records_it(client_a, owner):
    started = timezone.now()
    response = client_a.post(
        f"/mailboxes/{owner.username}/password/",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_changed_now(owner, started)
    assert "2020" not in shown(client_a, f"/mailboxes/{owner.username}/")


def test_a_reset_link_records_it(owner):
    client = Client()
    token = mailbox_reset_token.make_token(owner)
    uid = encode_uid(owner)
    started = timezone.now()
    response = client.get(f"/me/password-reset/{uid}/{token}/", follow=True)
    assert response.status_code == 200
    response = client.post(
        f"/me/password-reset/{uid}/set-password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_changed_now(owner, started)


def test_the_api_records_it(admin_a, owner):
    _token, key = api_token_create(
        actor=None, admin=admin_a, name="t", expires=timezone.now() + datetime.timedelta(days=1)
    )
    started = timezone.now()
    response = Client().patch(
        f"/api/v1/mailboxes/{owner.username}/",
        {"password": NEW_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    assert_changed_now(owner, started)


def test_the_command_line_records_it(owner, monkeypatch):
    monkeypatch.setenv("VIMBADMIN_MAILBOX_PASSWORD", NEW_PASSWORD)
    started = timezone.now()
    run_json("mailbox", "update", owner.username, "--password", "--no-input")
    assert_changed_now(owner, started)


def test_a_csv_import_records_it(owner, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(f"username,password\n{owner.username},{NEW_PASSWORD}\n")
    started = timezone.now()
    call_command("import_csv", "mailboxes", str(source), "--apply", stdout=io.StringIO())
    assert_changed_now(owner, started)


def test_a_password_set_elsewhere_is_not_known(client_a, owner, domain_a):
    # Another tool (Postfix Admin, doveadm, SQL) wrote a new hash: the kept date is not its date.
    Mailbox.objects.filter(pk=owner.pk).update(password=passwords.hash_password(NEW_PASSWORD))
    assert shown(client_a, f"/mailboxes/{owner.username}/") == "not known"
    assert shown(owner_client_for(owner, NEW_PASSWORD), "/me/") == "not known"
    # A mailbox Postfix Admin created has no row at all.
    Mailbox.objects.create(
        username="pfa@alpha.example",
        password=passwords.hash_password(PASSWORD),
        local_part="pfa",
        domain=domain_a,
        maildir="alpha.example/pfa/",
    )
    assert shown(client_a, "/mailboxes/pfa@alpha.example/") == "not known"


def test_a_rehash_at_login_keeps_the_date(owner):
    mailbox_rehash_password(mailbox=owner, raw_password=PASSWORD)
    assert "2020" in shown(owner_client_for(owner), "/me/")


def test_purges_delete_the_rows(owner, domain_a):
    mailbox_purge(actor=None, mailbox=owner)
    assert not PasswordChange.objects.filter(username=owner.username).exists()
    other = make_domain("gamma.example")
    make_mailbox(other, "x")
    make_mailbox(domain_a, "stays")
    domain_purge(actor=None, domain=other)
    assert not PasswordChange.objects.filter(username="x@gamma.example").exists()
    assert PasswordChange.objects.filter(username="stays@alpha.example").exists()
