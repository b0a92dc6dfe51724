"""Finding the owner's pages: the landing page at /, the links between the two logins, and
the owner page's full address in the welcome and settings mails."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from mailboxes.emails import send_settings_email
from tests.factories import PASSWORD, make_mailbox
from tests.support.mailtools import mail_sent

BASE = "https://mail-admin.example.org"


def test_landing_offers_both_logins_when_logged_out(db):
    response = Client().get("/")
    assert response.status_code == 200
    assert 'href="/me/login/"' in response.text
    assert 'href="/accounts/login/"' in response.text


def test_landing_sends_admins_and_owners_to_their_start_page(client_a, domain_a):
    assert client_a.get("/")["Location"] == reverse("domains:domain-list")
    owner = make_mailbox(domain_a, "owner")
    client = Client()
    client.post(reverse("selfservice:login"), {"address": owner.username, "password": PASSWORD})
    assert client.get("/")["Location"] == reverse("selfservice:overview")


def test_admin_login_links_to_the_owner_login_and_back(db):
    admin_login = Client().get(reverse("accounts:login"))
    assert "Your own mailbox?" in admin_login.text
    assert 'href="/me/login/"' in admin_login.text
    owner_login = Client().get(reverse("selfservice:login"))
    assert 'href="/accounts/login/"' in owner_login.text


def test_welcome_and_settings_mails_name_the_owner_page(domain_a, settings):
    settings.VIMBADMIN_BASE_URL = BASE
    with mail_sent():
        owner = make_mailbox(domain_a, "owner", send_welcome=True)
    (welcome,) = mail.outbox
    assert f"{BASE}/me/" in welcome.body
    assert f'href="{BASE}/me/"' in welcome.alternatives[0][0]
    send_settings_email(owner, [owner.username])
    assert f"{BASE}/me/" in mail.outbox[1].body


def test_without_a_base_url_the_mails_leave_the_link_out(domain_a, settings):
    settings.VIMBADMIN_BASE_URL = ""
    with mail_sent():
        make_mailbox(domain_a, "owner", send_welcome=True)
    (welcome,) = mail.outbox
    assert "/me/" not in welcome.body
