"""Unicode wherever a person reads a domain (first-hour review, F14 and F24's search)."""

from __future__ import annotations

import html

import pytest
from django.core import mail

from accounts.services import admin_assign_domain
from mail.names import text_to_unicode
from mailboxes.emails import send_settings_email
from tests.factories import make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db


def page(response) -> str:
    return html.unescape(response.content.decode())


def test_text_to_unicode_turns_every_punycode_domain():
    assert (
        text_to_unicode("verkauf@xn--bcher-kva.example -> anna@xn--bcher-kva.example,x@y.org")
        == "verkauf@bücher.example -> anna@bücher.example,x@y.org"
    )
    assert text_to_unicode("plain text") == "plain text"
    assert text_to_unicode("broken xn--") == "broken xn--"


def test_log_data_and_recent_changes_read_in_unicode(super_client):
    books = make_domain("bücher.example")
    make_mailbox(books, "anna")
    make_alias(books, "verkauf", ["anna@xn--bcher-kva.example"])
    text = page(super_client.get("/log/"))
    # The log page shows Postfix Admin's "a -> b" with an arrow, as it shows edit rows.
    assert "verkauf@bücher.example \u2192 anna@bücher.example" in text
    assert "xn--bcher-kva" not in text.split("<tbody", 1)[1]
    detail = page(super_client.get("/domains/xn--bcher-kva.example/"))
    # Recent changes: labels as on the log page, data in Unicode.
    assert "Create alias" in detail
    assert "create_alias" not in detail
    assert "verkauf@bücher.example -> anna@bücher.example" in detail


def test_mails_name_the_address_and_hosts_in_unicode(settings, django_capture_on_commit_callbacks):
    settings.VIMBADMIN_SETTINGS_IMAP = "imap.%d:993:SSL/TLS"
    settings.VIMBADMIN_SETTINGS_POP3 = ""
    settings.VIMBADMIN_SETTINGS_SMTP = ""
    books = make_domain("bücher.example")
    anna = make_mailbox(books, "anna")
    with django_capture_on_commit_callbacks(execute=True):
        send_settings_email(anna, [anna.username])
    message = mail.outbox[-1]
    assert message.subject == "Settings for anna@bücher.example"
    assert message.to == ["anna@xn--bcher-kva.example"]  # what SMTP carries
    assert "Settings for the mailbox anna@bücher.example" in message.body
    assert "IMAP: imap.bücher.example (imap.xn--bcher-kva.example)" in message.body
    # The login name is the stored one (what Dovecot compares), its Unicode form beside it.
    assert "User name: anna@xn--bcher-kva.example (anna@bücher.example)" in message.body


def test_a_single_umlaut_finds_the_addresses_of_buecher(client_a, domain_a, super_client):
    books = make_domain("bücher.example")
    make_mailbox(books, "anna")
    make_mailbox(domain_a, "bert")
    make_alias(books, "verkauf", ["x@elsewhere.example"])
    text = page(super_client.get("/mailboxes/", {"q": "ü"}))
    assert "anna@bücher.example" in text
    assert "bert@alpha.example" not in text
    text = page(super_client.get("/aliases/", {"q": "ü"}))
    assert "verkauf@bücher.example" in text
    text = page(super_client.get("/domains/", {"q": "ü"}))
    assert "bücher.example" in text
    assert "alpha.example" not in text.split("<tbody", 1)[1]
    # Scoped: the admin of alpha does not see bücher's addresses through the wider match.
    text = page(client_a.get("/mailboxes/", {"q": "ü"}))
    assert "anna@bücher.example" not in text


def test_a_domain_admin_finds_their_own_idn_addresses_by_a_piece(client_a, admin_a):
    books = make_domain("bücher.example")
    admin_assign_domain(actor=None, admin=admin_a, domain=books)
    make_mailbox(books, "anna")
    assert "anna@bücher.example" in page(client_a.get("/mailboxes/", {"q": "bü"}))


# F15: one date and time format, in the user's time zone; one wording on both logins ----------


def test_dates_share_one_format_in_the_browsers_time_zone(super_client, domain_a):
    import datetime
    import re

    from domains.models import Domain
    from mailboxes.models import Mailbox

    when = datetime.datetime(2026, 12, 5, 23, 30, tzinfo=datetime.UTC)
    Domain.objects.filter(pk=domain_a.pk).update(created=when, modified=when)
    mailbox = make_mailbox(domain_a, "anna")
    Mailbox.objects.filter(pk=mailbox.pk).update(created=when, modified=when)
    super_client.cookies["vimb_tz"] = "Europe/Berlin"
    stamp = "2026-12-06 00:30"
    for url in (
        "/domains/",
        "/domains/alpha.example/",
        "/mailboxes/",
        "/mailboxes/anna@alpha.example/",
    ):
        text = page(super_client.get(url))
        assert stamp in text, url
        assert "Times in Europe/Berlin" in text
    # An unknown zone is ignored: the server's (UTC in the tests).
    super_client.cookies["vimb_tz"] = "Mars/Olympus"
    text = page(super_client.get("/domains/alpha.example/"))
    assert "2026-12-05 23:30" in text
    assert re.search(r"Times in UTC", text)


def test_both_logins_say_forgot_your_password(client, settings):
    settings.VIMBADMIN_SELF_SERVICE_PASSWORD_RESET = True
    assert "Forgot your password?" in page(client.get("/accounts/login/"))
    assert "Forgot your password?" in page(client.get("/me/login/"))
