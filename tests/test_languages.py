"""Which language a person reads: Accept-Language, the footer's switcher remembered per admin and
per mailbox owner, and mails in the recipient's language (their choice, else the domain's,
else the site's)."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.languages import ADMIN, MAILBOX, language_preference, language_preference_set
from accounts.models import LanguagePreference
from accounts.services import admin_purge
from domains.models import DomainSettings
from domains.services import domain_purge
from mailboxes.emails import send_password_changed_email, send_welcome_email
from mailboxes.services import mailbox_purge
from tests.factories import PASSWORD, make_admin, make_mailbox

pytestmark = pytest.mark.django_db

GERMAN_LOGIN = "Bei Ihrem Postfach anmelden"
ENGLISH_LOGIN = "Log in to your mailbox"


@pytest.fixture(autouse=True)
def _language_back_to_the_default():
    """A request leaves its language active in the thread; later tests must not inherit it."""
    yield
    translation.deactivate()


def text(response) -> str:
    return html.unescape(response.content.decode())


def owner_login(client: Client, address: str) -> None:
    response = client.post("/me/login/", {"address": address, "password": PASSWORD})
    assert response.status_code == 302


def switch(client: Client, language: str, next_url: str = "/me/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_accept_language_picks_the_language(db):
    german = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5").get("/me/login/")
    assert GERMAN_LOGIN in text(german)
    assert '<html lang="de">' in text(german)
    assert german["Content-Language"] == "de"
    # A language that is not shipped falls back to the site's.
    other = Client(HTTP_ACCEPT_LANGUAGE="ja").get("/me/login/")
    assert ENGLISH_LOGIN in text(other)


def test_the_footer_switcher_is_a_form_without_script(db):
    page = text(Client().get("/me/login/"))
    assert f'<form method="post" action="{reverse("set_language")}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<option value="de" lang="de">Deutsch</option>' in page
    assert '<option value="pt-br" lang="pt-br">Português Brasileiro</option>' in page
    assert "onchange" not in page
    # A switch by a visitor sets the cookie and goes back; nothing is stored for nobody.
    client = Client()
    response = switch(client, "de", "/me/login/")
    assert response.status_code == 302
    assert response["Location"] == "/me/login/"
    assert GERMAN_LOGIN in text(client.get("/me/login/"))
    assert not LanguagePreference.objects.exists()


def test_switching_is_a_post(db):
    assert Client().get(reverse("set_language") + "?language=de").status_code == 405


def test_owner_choice_is_stored_and_follows_them_to_another_browser(domain_a):
    owner = make_mailbox(domain_a, "olive")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    owner_login(client, owner.username)
    switch(client, "de")
    assert language_preference(MAILBOX, "olive@alpha.example") == "de"
    assert "Mein Postfach" in text(client.get("/me/"))

    # Another browser asking for English: German from the login on.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert ENGLISH_LOGIN in text(other.get("/me/login/"))
    owner_login(other, owner.username)
    assert "Mein Postfach" in text(other.get("/me/"))
    assert "Passwort ändern" in text(other.get("/me/password/"))


def test_admin_choice_is_stored_and_applied_at_login(admin_a, domain_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_a)
    switch(client, "de", "/domains/")
    assert language_preference(ADMIN, "admin@alpha.example") == "de"
    assert "Domains" in text(client.get("/domains/"))
    assert "Abmelden" in text(client.get("/domains/"))

    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = other.post(
        "/accounts/login/", {"username": "admin@alpha.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "Abmelden" in text(other.get("/domains/"))
    # Another admin in another browser is not affected.
    admin_b = make_admin("other@alpha.example", domains=[domain_a])
    third = Client(HTTP_ACCEPT_LANGUAGE="en")
    third.force_login(admin_b)
    assert "Log out" in text(third.get("/domains/"))


def test_a_stored_choice_beats_the_browser_and_english_can_be_chosen(domain_a):
    owner = make_mailbox(domain_a, "olive")
    language_preference_set(realm=MAILBOX, username=owner.username, language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    assert GERMAN_LOGIN in text(client.get("/me/login/"))
    owner_login(client, owner.username)
    assert "My mailbox" in text(client.get("/me/"))


def test_an_unknown_language_is_not_stored(domain_a):
    owner = make_mailbox(domain_a, "olive")
    client = Client()
    owner_login(client, owner.username)
    response = switch(client, "xx")
    assert response.status_code == 302
    assert not LanguagePreference.objects.exists()
    assert language_preference_set(realm=MAILBOX, username=owner.username, language="de-AT") == (
        "de"
    )


def test_the_domain_form_sets_the_language_of_mails(super_client, domain_a):
    url = reverse("domains:domain-edit", args=["alpha.example"])
    page = text(super_client.get(url))
    assert "Language of mails" in page
    assert '<option value="" selected>The site&#x27;s default (English)</option>' in (
        super_client.get(url).content.decode()
    )
    data = {
        "description": "",
        "mailboxes": "0",
        "aliases": "0",
        "maxquota": "0",
        "quota": "0",
        "default_mailbox_quota": "0",
        "transport": "virtual",
        "active": "on",
        "language": "de",
    }
    assert super_client.post(url, data).status_code == 302
    assert DomainSettings.objects.get(domain_id="alpha.example").language == "de"
    assert '<option value="de" selected>' in super_client.get(url).content.decode()

    refused = super_client.post(url, {**data, "language": "xx", "description": "Changed"})
    assert refused.status_code == 200
    assert "Select a valid choice" in text(refused)
    domain_a.refresh_from_db()
    assert domain_a.description == ""
    assert DomainSettings.objects.get(domain_id="alpha.example").language == "de"


def test_domain_admins_cannot_edit_the_domain_language(client_a, domain_a):
    url = reverse("domains:domain-edit", args=["alpha.example"])
    assert client_a.get(url).status_code in (403, 404)
    client_a.post(url, {"language": "de"})
    assert DomainSettings.objects.get(domain_id="alpha.example").language == ""


def _welcome(mailbox, capture) -> str:
    mail.outbox.clear()
    with capture(execute=True):
        send_welcome_email(mailbox)
    [message] = mail.outbox
    return str(message.subject)


def test_mails_follow_the_owner_then_the_domain_then_the_site(
    domain_a, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    owner = make_mailbox(domain_a, "olive")
    # The site's default.
    assert _welcome(owner, capture) == "Welcome to your new mailbox"
    settings.LANGUAGE_CODE = "de"
    assert _welcome(owner, capture) == "Willkommen in Ihrem neuen Postfach"
    settings.LANGUAGE_CODE = "en"
    # The domain's language of mails.
    DomainSettings.objects.filter(domain_id="alpha.example").update(language="de")
    assert _welcome(owner, capture) == "Willkommen in Ihrem neuen Postfach"
    # The owner's own choice wins over the domain's.
    language_preference_set(realm=MAILBOX, username=owner.username, language="en")
    assert _welcome(owner, capture) == "Welcome to your new mailbox"


def test_a_mail_is_written_in_the_recipients_language_whatever_the_page(
    domain_a, django_capture_on_commit_callbacks
):
    """An admin reading English changes a German owner's password: the mail is German."""
    owner = make_mailbox(domain_a, "olive")
    language_preference_set(realm=MAILBOX, username=owner.username, language="de")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_password_changed_email(owner)
    [message] = mail.outbox
    assert message.subject == "Das Passwort von olive@alpha.example wurde geändert"
    assert "wurde soeben geändert" in message.body
    assert message.extra_headers["Content-Language"] == "de"


def test_a_purge_forgets_the_choice(superadmin, domain_a, domain_b):
    owner = make_mailbox(domain_a, "olive")
    other = make_mailbox(domain_b, "otto")
    admin = make_admin("boss@beta.example", domains=[domain_b])
    for realm, username in (
        (MAILBOX, owner.username),
        (MAILBOX, other.username),
        (ADMIN, admin.pk),
    ):
        language_preference_set(realm=realm, username=username, language="de")
    mailbox_purge(actor=superadmin, mailbox=owner)
    assert language_preference(MAILBOX, "olive@alpha.example") == ""
    admin_purge(actor=superadmin, admin=admin)
    assert language_preference(ADMIN, "boss@beta.example") == ""
    domain_purge(actor=superadmin, domain=domain_b)
    assert not LanguagePreference.objects.exists()
