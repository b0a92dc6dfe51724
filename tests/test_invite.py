"""Invitations: a new mailbox or admin gets a one-time link to choose its password.

The link is a password reset link (single use, expiring, throttled like one); until it is used,
the account has a password nobody knows.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Admin
from mail import passwords
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_password
from tests.factories import PASSWORD, make_domain, make_mailbox
from tests.support.mailtools import mail_sent

pytestmark = pytest.mark.django_db

NEW = "Chosen-By-The-Owner-42"
LINK_RE = re.compile(r"https?://[^/\s]+(/(?:me|accounts)/password-reset/[^/\s]+/[^/\s]+/)")


def _link(message) -> str:
    match = LINK_RE.search(message.body)
    assert match, message.body
    return match.group(1)


def _owner_can_log_in(address: str, password: str) -> bool:
    response = Client().post("/me/login/", {"address": address, "password": password})
    return response.status_code == 302


def _invite_mailbox(client: Client, **extra: str):
    data = {
        "domain": "alpha.example",
        "local_part": "newbie",
        "name": "New Bie",
        "invite": "on",
        "password": "",
        "password_confirm": "",
        "quota": "",
        "email_other": "newbie@home.example",
        "send_welcome": "on",
        **extra,
    }
    with mail_sent():
        return client.post("/mailboxes/new/", data)


def test_invited_mailbox_chooses_its_password_through_the_link(client_a, domain_a):
    response = _invite_mailbox(client_a)
    assert response.status_code == 302, response.content.decode()[:3000]
    mailbox = Mailbox.objects.get(pk="newbie@alpha.example")
    page = client_a.get(response["Location"], follow=True).content.decode()
    assert "A link to choose the password was mailed to newbie@home.example." in page

    invite = next(m for m in mail.outbox if m.to == ["newbie@home.example"])
    assert "Choose the password of your new mailbox newbie@alpha.example" in invite.subject
    assert "/me/" in invite.body  # the owner page is named
    welcome = next(m for m in mail.outbox if m.to == ["newbie@alpha.example"])
    assert "Choose your password with the link sent to your alternative address" in welcome.body
    assert PASSWORD not in invite.body + welcome.body

    # Nobody knows the password yet: not the admin's empty field, nothing typed.
    assert not _owner_can_log_in(mailbox.username, "")
    assert mailbox.password.startswith("{")

    owner = Client()
    landing = owner.get(_link(invite))
    assert landing.status_code == 302
    response = owner.post(landing["Location"], {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert _owner_can_log_in(mailbox.username, NEW)

    # The link works once.
    again = Client().get(_link(invite), follow=True).content.decode()
    assert "invalid" in again or "expired" in again
    assert passwords.verify_password(NEW, Mailbox.objects.get(pk=mailbox.pk).password)


def test_an_invitation_needs_an_alternative_address(client_a, domain_a):
    response = _invite_mailbox(client_a, email_other="")
    assert response.status_code == 200
    form = response.context["form"]
    assert "An invitation goes to the alternative address: enter one." in str(form.errors)
    assert not Mailbox.objects.filter(pk="newbie@alpha.example").exists()
    assert mail.outbox == []


def test_without_invite_a_password_is_still_required(client_a, domain_a):
    response = _invite_mailbox(client_a, invite="")
    assert response.status_code == 200
    assert "This field is required." in str(response.context["form"].errors["password"])
    assert not Mailbox.objects.filter(pk="newbie@alpha.example").exists()


def test_no_invitation_to_an_address_another_admin_can_redirect(client_a, domain_a, admin_b):
    # beta.example's admin could read the link: the reset policy refuses, nothing is created.
    response = _invite_mailbox(client_a, email_other="inbox@beta.example")
    assert response.status_code == 200
    assert "admin@beta.example" in str(response.context["form"].errors["email_other"])
    assert not Mailbox.objects.filter(pk="newbie@alpha.example").exists()
    assert mail.outbox == []


def test_invited_admin_sets_password_and_logs_in(super_client, domain_a):
    data = {
        "username": "helper@elsewhere.example",
        "invite": "on",
        "password": "",
        "password2": "",
        "domains": [domain_a.pk],
        "email_other": "",
    }
    with mail_sent():
        response = super_client.post("/accounts/admins/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    (invite,) = mail.outbox
    assert invite.to == ["helper@elsewhere.example"]
    assert "/accounts/login/" in invite.body
    admin = Admin.objects.get(pk="helper@elsewhere.example")
    client = Client()
    landing = client.get(_link(invite))
    assert landing.status_code == 302
    response = client.post(landing["Location"], {"password": NEW, "password2": NEW})
    assert response.status_code == 302
    assert passwords.verify_password(NEW, Admin.objects.get(pk=admin.pk).password)
    login = Client().post("/accounts/login/", {"username": admin.pk, "password": NEW})
    assert login.status_code == 302


def test_no_mailed_invitation_for_a_super_admin_by_default(super_client, db):
    data = {
        "username": "boss@elsewhere.example",
        "invite": "on",
        "superadmin": "on",
        "email_other": "",
    }
    with mail_sent():
        response = super_client.post("/accounts/admins/new/", data)
    assert response.status_code == 200
    assert "VIMBADMIN_SUPERADMIN_MAIL_RESET" in str(response.context["form"].errors)
    assert not Admin.objects.filter(pk="boss@elsewhere.example").exists()
    assert mail.outbox == []


def test_password_changed_notice_also_goes_to_the_alternative_address(db):
    domain = make_domain("gamma.example")
    mailbox = make_mailbox(domain, "carol", email_other="carol@home.example")
    with mail_sent():
        mailbox_set_password(actor=mailbox.username, mailbox=mailbox, password=NEW)
    (notice,) = mail.outbox
    assert sorted(notice.to) == ["carol@gamma.example", "carol@home.example"]
    plain = make_mailbox(domain, "dave")
    mail.outbox.clear()
    with mail_sent():
        mailbox_set_password(actor=plain.username, mailbox=plain, password=NEW)
    (notice,) = mail.outbox
    assert notice.to == ["dave@gamma.example"]


def test_invite_through_the_api_and_the_cli(admin_a, domain_a, settings):
    import datetime

    from django.utils import timezone

    from api.services import api_token_create
    from tests.support.commands import refused, run_json

    _token, key = api_token_create(
        actor=None, admin=admin_a, name="t", expires=timezone.now() + datetime.timedelta(days=1)
    )
    api = Client(REMOTE_ADDR="203.0.113.7")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    body = {"domain": "alpha.example", "local_part": "viaapi", "email_other": "x@home.example"}
    missing = api.post("/api/v1/mailboxes/", body, content_type="application/json", **headers)
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"]["password"][0]["code"] == "required"
    with mail_sent():
        created = api.post(
            "/api/v1/mailboxes/",
            {**body, "invite": True},
            content_type="application/json",
            **headers,
        )
    assert created.status_code == 201, created.content
    assert [m.to for m in mail.outbox] == [["x@home.example"]]
    assert "/me/password-reset/" in mail.outbox[0].body

    mail.outbox.clear()
    with mail_sent():
        shown = run_json(
            "mailbox", "add", "viacli@alpha.example", "--invite", "--email-other", "y@home.example"
        )
    assert shown["username"] == "viacli@alpha.example"
    assert "password" not in shown
    assert [m.to for m in mail.outbox] == [["y@home.example"]]
    mail.outbox.clear()
    with mail_sent():
        run_json("admin", "add", "helper@home.example", "--invite", "--domain", "alpha.example")
    assert [m.to for m in mail.outbox] == [["helper@home.example"]]
    assert "/accounts/password-reset/" in mail.outbox[0].body

    settings.VIMBADMIN_BASE_URL = ""
    error = refused(
        "mailbox", "add", "nolink@alpha.example", "--invite", "--email-other", "z@h.example"
    )
    assert "VIMBADMIN_BASE_URL" in str(error)
    assert not Mailbox.objects.filter(pk="nolink@alpha.example").exists()
