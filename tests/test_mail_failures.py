"""A mail server that refuses or never answers: no 500, no hint about accounts, no pinned worker.

Real SMTP servers on loopback, started by the test: a port nobody listens on, and a server that
accepts the connection and never says a word. The reset tests run outside a test transaction, so
that, as in production, the link is handed over on commit inside the request itself.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client

from mail.email import wait_for_background
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_admin, make_domain, make_mailbox
from tests.support.mailtools import SilentSMTPServer, closed_port

# Far above the bound below: an answer that waited for the mail server would show at once.
EMAIL_TIMEOUT = 30
# Generous for a loaded machine, well below EMAIL_TIMEOUT.
ANSWER_BOUND = 8.0


def page(response) -> str:
    return html.unescape(response.content.decode())


@contextmanager
def failing_smtp(settings, kind: str) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_TIMEOUT = EMAIL_TIMEOUT
    if kind == "closed":
        settings.EMAIL_PORT = closed_port()
        yield
    else:
        with SilentSMTPServer() as server:
            settings.EMAIL_PORT = server.port
            yield
    # The silent server is gone: whatever the sender thread still holds fails at once.
    assert wait_for_background(EMAIL_TIMEOUT)


def timed_post(client: Client, url: str, data: dict[str, str]):
    started = time.monotonic()
    response = client.post(url, data)
    return response, time.monotonic() - started


RESETS = {
    "admin": ("/accounts/password-reset/", "email", "adm@alpha.example", "ghost@alpha.example"),
    "mailbox": ("/me/password-reset/", "address", "olive@alpha.example", "ghost@alpha.example"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
@pytest.mark.parametrize("kind", ["closed", "silent"])
@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_reset_answers_the_same_at_once_whatever_the_mail_server_does(
    realm, kind, settings, caplog
):
    domain = make_domain("alpha.example")
    make_admin("adm@alpha.example", domains=[domain])
    make_mailbox(domain, "olive", email_other="olive@home.example")
    url, field, known, unknown = RESETS[realm]
    with (
        caplog.at_level(logging.WARNING, logger="vimbadmin.mail"),
        failing_smtp(settings, kind),
    ):
        answers = {}
        for address in (known, unknown):
            client = Client()
            response, seconds = timed_post(client, url, {field: address})
            assert response.status_code == 302, address
            assert seconds < ANSWER_BOUND, f"{address} waited {seconds:.1f} s for the mail server"
            # The footer's language switcher carries a CSRF token, masked anew for every page.
            shown = re.sub(
                r'(csrfmiddlewaretoken" value=")\w+', r"\1", page(client.get(response["Location"]))
            )
            answers[address] = (response["Location"], shown)
        assert answers[known] == answers[unknown]
    kind_of_mail = f"{realm}_password_reset"
    assert f"sending {kind_of_mail} e-mail for {known} failed" in caplog.text
    assert unknown not in caplog.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
def test_welcome_mail_to_a_silent_server_saves_the_mailbox_and_warns(settings):
    domain = make_domain("alpha.example")
    admin = make_admin("adm@alpha.example", domains=[domain])
    client = Client()
    client.force_login(admin)
    with SilentSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        # The admin waits for this answer; the timeout is what they wait at most.
        settings.EMAIL_TIMEOUT = 2
        response = client.post(
            "/mailboxes/new/",
            {
                "domain": "alpha.example",
                "local_part": "alice",
                "name": "Alice",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "quota": "100",
                "email_other": "",
                "send_welcome": "on",
            },
            follow=True,
        )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/mailboxes/alice@alpha.example/"
    text = page(response)
    assert "Mailbox alice@alpha.example created." in text
    assert "The change was saved, but the e-mail could not be sent:" in text
    assert "timed out" in text
    assert Mailbox.objects.filter(pk="alice@alpha.example", active=True).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
def test_owner_password_change_with_a_silent_server_is_kept_and_warned(settings):
    domain = make_domain("alpha.example")
    make_mailbox(domain, "olive")
    client = Client()
    login = client.post("/me/login/", {"address": "olive@alpha.example", "password": PASSWORD})
    assert login.status_code == 302
    new = "Purple-Otter-Lantern-42"
    with SilentSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_TIMEOUT = 2
        response = client.post(
            "/me/password/",
            {"current_password": PASSWORD, "new_password1": new, "new_password2": new},
            follow=True,
        )
    text = page(response)
    assert "Your password has been changed." in text
    assert "Your password was changed, but the confirmation e-mail could not be sent." in text
    assert (
        Client()
        .post("/me/login/", {"address": "olive@alpha.example", "password": new})["Location"]
        .startswith("/me/")
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
def test_a_broken_template_override_keeps_the_mailbox_and_warns(settings, tmp_path, caplog):
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "welcome.txt").write_text("Hi {% url 'no-such-page' %}")
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    domain = make_domain("alpha.example")
    admin = make_admin("adm@alpha.example", domains=[domain])
    client = Client()
    client.force_login(admin)
    with caplog.at_level(logging.WARNING, logger="vimbadmin.mail"):
        response = client.post(
            "/mailboxes/new/",
            {
                "domain": "alpha.example",
                "local_part": "alice",
                "name": "",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "quota": "100",
                "send_welcome": "on",
            },
            follow=True,
        )
    assert response.status_code == 200
    text = page(response)
    assert "Mailbox alice@alpha.example created." in text
    assert "The change was saved, but the e-mail could not be sent:" in text
    # The operator finds the cause, with its traceback, in the log.
    assert "sending welcome e-mail for alice@alpha.example failed" in caplog.text
    assert "NoReverseMatch" in caplog.text
    assert Mailbox.objects.filter(pk="alice@alpha.example").exists()
