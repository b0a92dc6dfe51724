"""Welcome and settings e-mails: sent after commit, settings filled in, never a password.

Passwords are never mailed (there is no setting for it): the templates get no password in their
context, so an operator's override of a template cannot leak one either.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from django.core import mail

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox
from tests.support.mailtools import closed_port


def page(response) -> str:
    return html.unescape(response.content.decode())


def create_data(**overrides: str) -> dict[str, str]:
    data = {
        "domain": "alpha.example",
        "local_part": "alice",
        "name": "Alice",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": "100",
        "email_other": "",
        "send_welcome": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def server_settings(settings):
    settings.VIMBADMIN_SETTINGS_IMAP = "%u.imap.%d:993:SSL/TLS"
    settings.VIMBADMIN_SETTINGS_POP3 = ""
    settings.VIMBADMIN_SETTINGS_SMTP = "smtp.%d:587:STARTTLS"
    settings.VIMBADMIN_SETTINGS_WEBMAIL = "https://webmail.example/?user=%m"
    return settings


def mail_text(message) -> str:
    return message.body + "\n" + "\n".join(content for content, _type in message.alternatives)


@pytest.mark.django_db
def test_welcome_email_is_sent_after_commit_with_filled_in_settings(
    client_a, domain_a, server_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_a.post("/mailboxes/new/", create_data())
    assert response.status_code == 302
    # Nothing goes out before the transaction commits.
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@alpha.example"]
    assert message.subject == "Welcome to your new mailbox"
    text = mail_text(message)
    assert "IMAP: alice.imap.alpha.example, port 993, SSL/TLS" in message.body
    assert "SMTP: smtp.alpha.example, port 587, STARTTLS" in message.body
    assert "POP3" not in message.body  # switched off
    assert "https://webmail.example/?user=alice@alpha.example" in text
    assert "alice.imap.alpha.example" in message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert PASSWORD not in text
    assert "never sent by e-mail" in message.body


@pytest.mark.django_db
def test_no_welcome_email_unless_asked_or_when_creation_fails(
    client_a, domain_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post("/mailboxes/new/", create_data(send_welcome=""))
    assert Mailbox.objects.filter(pk="alice@alpha.example").exists()
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_a.post("/mailboxes/new/", create_data())  # duplicate
    assert response.status_code == 200
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
def test_failing_smtp_server_keeps_the_mailbox_and_warns_the_admin(client_a, domain_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 5
    response = client_a.post("/mailboxes/new/", create_data(), follow=True)
    assert response.redirect_chain[-1][0] == "/mailboxes/alice@alpha.example/"
    text = page(response)
    assert "Mailbox alice@alpha.example created." in text
    assert "The change was saved, but the e-mail could not be sent" in text
    mailbox = Mailbox.objects.get(pk="alice@alpha.example")
    assert mailbox.active


@pytest.mark.django_db
def test_settings_email_to_mailbox_alternative_and_typed_addresses(client_a, domain_a, settings):
    settings.VIMBADMIN_SETTINGS_IMAP = "imap.%d:993:SSL/TLS"
    make_mailbox(domain_a, "bob", email_other="bob@home.example")
    url = "/mailboxes/bob@alpha.example/send-settings/"
    response = client_a.get("/mailboxes/bob@alpha.example/")
    assert "To its alternative address (bob@home.example)" in page(response)

    response = client_a.post(
        url,
        {
            "to_mailbox": "on",
            "to_other": "on",
            "extra": "Boss@X.example, b@bücher.example\nboss@x.example",
        },
        follow=True,
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [
        "bob@alpha.example",
        "bob@home.example",
        "boss@x.example",
        "b@xn--bcher-kva.example",
    ]
    assert message.subject == "Settings for bob@alpha.example"
    assert "IMAP: imap.alpha.example, port 993, SSL/TLS" in message.body
    assert PASSWORD not in mail_text(message)
    text = page(response)
    assert "The settings were sent to bob@alpha.example, bob@home.example" in text
    assert "b@bücher.example" in text

    mail.outbox.clear()
    client_a.post(url, {"extra": "only@x.example"})
    assert mail.outbox[0].to == ["only@x.example"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose at least one recipient."),
        ({"extra": "not an address"}, "is not a valid e-mail address"),
        ({"to_mailbox": "on", "extra": "ok@x.example, @@"}, "is not a valid e-mail address"),
        ({"extra": ",".join(f"u{i}@x.example" for i in range(30))}, "at most 20 addresses"),
    ],
)
def test_bad_settings_email_input_is_shown_and_sends_nothing(client_a, domain_a, data, message):
    make_mailbox(domain_a, "bob")
    response = client_a.post("/mailboxes/bob@alpha.example/send-settings/", data)
    assert response.status_code == 200
    assert message in page(response)
    assert mail.outbox == []


@pytest.mark.django_db
def test_settings_email_failure_is_reported_not_raised(client_a, domain_a, settings):
    make_mailbox(domain_a, "bob")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    response = client_a.post(
        "/mailboxes/bob@alpha.example/send-settings/", {"to_mailbox": "on"}, follow=True
    )
    assert response.status_code == 200
    text = page(response)
    assert "the e-mail could not be sent" in text
    assert "The settings were sent" not in text


@pytest.fixture
def override_dir(settings, tmp_path) -> Iterator[None]:
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "welcome.txt").write_text(
        "Hi {{ mailbox.name }}, our own words. {% for s in servers %}{{ s.host }} {% endfor %}"
    )
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    yield


@pytest.mark.django_db
def test_operator_can_override_the_templates(
    client_a, domain_a, override_dir, settings, django_capture_on_commit_callbacks
):
    settings.VIMBADMIN_SETTINGS_IMAP = "imap.%d:993:SSL/TLS"
    settings.VIMBADMIN_SETTINGS_POP3 = ""
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post("/mailboxes/new/", create_data())
    assert mail.outbox[0].body == "Hi Alice, our own words. imap.alpha.example smtp.alpha.example "
    # The HTML part still comes from the shipped template.
    assert "alice@alpha.example" in mail.outbox[0].alternatives[0][0]
