"""A reset request costs the same for every address: known, unknown, inactive or refused.

Timing is not asserted (the machine is shared); the work is. With the mail server down (a port
nobody listens on) or silent (accepts the connection, never answers), each request through the
page runs the same SQL statements in the same order, gets the same answer, and hands one mail to
the background sender, which sends the real link and drops the stand-ins. The requests run
outside a test transaction so that, as in production, the hand-over happens inside the request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Admin
from accounts.services import admin_set_active
from mail.email import wait_for_background
from mailboxes.services import mailbox_set_active
from tests.factories import make_admin, make_domain, make_mailbox
from tests.support.mailtools import SilentSMTPServer, closed_port

EMAIL_TIMEOUT = 30


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


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
_LISTS = re.compile(r"IN \((?:\?, )*\?\)")


def statement_shape(sql: str) -> str:
    """The statement without its values, so the same query for another address compares equal."""
    return _LISTS.sub("IN (…)", _LITERALS.sub("?", sql))


def post_and_capture(url: str, data: dict[str, str], client_address: str):
    # A new client address each time: the throttle's per-address counters start the same way.
    client = Client(REMOTE_ADDR=client_address)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    return response, [statement_shape(query["sql"]) for query in queries.captured_queries]


def admin_accounts() -> tuple[str, dict[str, str]]:
    alpha = make_domain("alpha.example")
    beta = make_domain("beta.example")
    make_admin("adm@alpha.example", domains=[alpha])
    make_admin("root@ops.example", superadmin=True)
    sleeper = make_admin("sleeper@alpha.example")
    admin_set_active(actor=None, admin=sleeper, active=False)
    # Two admins of one domain: each could reroute the other's mail, so neither gets a link.
    make_admin("one@beta.example", domains=[beta])
    make_admin("two@beta.example", domains=[beta])
    return "adm@alpha.example", {
        "unknown": "ghost@alpha.example",
        "unknown elsewhere": "nobody@nowhere.example",
        "inactive": "sleeper@alpha.example",
        "super admin (mail reset off)": "root@ops.example",
        "refused by the policy": "one@beta.example",
    }


def mailbox_accounts() -> tuple[str, dict[str, str]]:
    alpha = make_domain("alpha.example")
    beta = make_domain("beta.example")
    make_admin("adm@alpha.example", domains=[alpha])
    make_admin("adm@beta.example", domains=[beta])
    make_mailbox(alpha, "olive", email_other="olive@home.example")
    make_mailbox(alpha, "plain")
    sleeper = make_mailbox(alpha, "sleeper", email_other="sleeper@home.example")
    mailbox_set_active(actor=None, mailbox=sleeper, active=False)
    # Beta's admin could reroute this alternative address: the policy refuses it.
    make_mailbox(alpha, "risky", email_other="risky@beta.example")
    return "olive@alpha.example", {
        "unknown": "ghost@alpha.example",
        "unknown elsewhere": "nobody@nowhere.example",
        "no alternative address": "plain@alpha.example",
        "inactive": "sleeper@alpha.example",
        "refused by the policy": "risky@alpha.example",
    }


REALMS = {
    "admin": ("/accounts/password-reset/", "email", admin_accounts),
    "mailbox": ("/me/password-reset/", "address", mailbox_accounts),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
@pytest.mark.parametrize("kind", ["closed", "silent"])
@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_reset_requests_do_the_same_work_for_known_and_unknown_accounts(
    realm, kind, settings, caplog
):
    url, field, accounts = REALMS[realm]
    known, others = accounts()
    mail_kind = f"{realm}_password_reset"
    with (
        caplog.at_level(logging.DEBUG, logger="vimbadmin.mail"),
        failing_smtp(settings, kind),
    ):
        # One request first, so that nothing a process does once shows in the comparison.
        post_and_capture(url, {field: "warm@up.example"}, "192.0.2.1")
        assert wait_for_background(EMAIL_TIMEOUT)
        caplog.clear()

        response, reference = post_and_capture(url, {field: known}, "192.0.2.10")
        assert response.status_code == 302
        answer = response["Location"]
        assert reference, "the request ran no queries at all"
        for number, (case, address) in enumerate(others.items(), start=11):
            response, statements = post_and_capture(url, {field: address}, f"192.0.2.{number}")
            assert response.status_code == 302, case
            assert response["Location"] == answer, case
            assert len(statements) == len(reference), (case, statements, reference)
            assert statements == reference, case
    # Every request handed one mail to the background sender: the real link was tried (and
    # failed, the server being down), each stand-in was dropped, none to an address typed.
    assert caplog.text.count(f"sending {mail_kind} e-mail for {known} failed") == 1
    assert caplog.text.count(f"stand-in {mail_kind} e-mail dropped") == len(others)
    mail_log = "\n".join(r.getMessage() for r in caplog.records if r.name == "vimbadmin.mail")
    for case in ("unknown", "unknown elsewhere"):
        assert others[case] not in mail_log, case


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
def test_the_known_link_still_works_after_the_change(settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    known, _others = admin_accounts()
    for address in ("ghost@alpha.example", known, "sleeper@alpha.example"):
        Client().post("/accounts/password-reset/", {"email": address})
    assert wait_for_background(EMAIL_TIMEOUT)
    assert [message.to for message in mailoutbox] == [[known]]
    link = re.search(r"http://testserver(/\S+)", mailoutbox[0].body)
    assert link
    client = Client()
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    assert 'name="password2"' in form.content.decode()
    assert Admin.objects.get(pk=known).active
