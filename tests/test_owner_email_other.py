"""The owner's alternative address: stored only after the link mailed to it is followed."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import PASSWORD, make_mailbox
from tests.support.mailtools import mail_sent

URL = "/me/alternative-address/"
BASE = "https://mail-admin.example.org"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.VIMBADMIN_BASE_URL = BASE


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(domain_a, "owner", email_other="old@elsewhere.example")


def login(mailbox: Mailbox) -> Client:
    client = Client()
    response = client.post(
        reverse("selfservice:login"), {"address": mailbox.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def reload(mailbox: Mailbox) -> Mailbox:
    return Mailbox.objects.get(pk=mailbox.pk)


def request_link(client: Client, address: str) -> str:
    with mail_sent():
        response = client.post(URL, {"address": address})
    assert response.status_code == 302, response.content
    sent = mail.outbox[-1]
    body = str(sent.body)
    assert sent.to == [address.lower()]
    match = re.search(rf"{BASE}(/me/alternative-address/confirm/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_new_address_is_used_only_after_the_link(owner):
    client = login(owner)
    assert URL in client.get("/me/").text
    path = request_link(client, "New@Elsewhere.example")
    # Nothing changes until the link is followed.
    assert reload(owner).email_other == "old@elsewhere.example"
    # Anyone holding the link sees what it does, and confirms with a POST (not a mere GET,
    # which link scanners in mail filters make).
    stranger = Client()
    page = stranger.get(path)
    assert "new@elsewhere.example" in page.text
    assert reload(owner).email_other == "old@elsewhere.example"
    with mail_sent():
        done = stranger.post(path)
    assert "confirmed and saved" in done.text
    assert reload(owner).email_other == "new@elsewhere.example"
    row = Log.objects.filter(action="edit_mailbox").latest("id")
    assert row.username.startswith("owner@alpha.example (")
    # The mailbox is told.
    assert mail.outbox[-1].to == ["owner@alpha.example"]
    assert "alternative address" in mail.outbox[-1].subject
    # The link works once: the stored address is no longer the one it replaces.
    again = stranger.post(path)
    assert "invalid, used or has expired" in again.text


def test_an_older_link_cannot_undo_a_later_change(owner):
    client = login(owner)
    first = request_link(client, "first@elsewhere.example")
    second = request_link(client, "second@elsewhere.example")
    Client().post(second)
    assert reload(owner).email_other == "second@elsewhere.example"
    Client().post(first)
    assert reload(owner).email_other == "second@elsewhere.example"


def test_tampered_or_expired_links_do_nothing(owner, settings):
    client = login(owner)
    path = request_link(client, "new@elsewhere.example")
    tampered = path.replace("confirm/", "confirm/x")
    assert "invalid" in Client().post(tampered).text
    from mailboxes import alternative

    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert "invalid" in Client().post(path).text
    assert reload(owner).email_other == "old@elsewhere.example"
    assert alternative.VALID_FOR.days == 2


@pytest.mark.parametrize(
    ("address", "message"),
    [("owner@alpha.example", "other than this mailbox"), ("not-an-address", "not a valid")],
)
def test_bad_addresses_are_field_errors(owner, address, message):
    client = login(owner)
    response = client.post(URL, {"address": address})
    assert response.status_code == 200
    assert message in response.text
    assert mail.outbox == []


def test_owner_removes_the_address_without_a_link(owner):
    client = login(owner)
    with mail_sent():
        client.post(URL, {"remove": "1"})
    assert reload(owner).email_other == ""


def test_requests_are_throttled(owner, settings):
    client = login(owner)
    for _ in range(30):
        response = client.post(URL, {"address": "new@elsewhere.example"})
        if response.status_code == 200:
            break
    assert "Too many requests" in response.text
