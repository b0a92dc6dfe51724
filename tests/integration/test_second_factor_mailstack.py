"""Real Dovecot (and Postfix's SMTP AUTH through it) honour app passwords and TOTP secrets.

The stack's Dovecot runs `mailconfig dovecot --second-factor`. For a mailbox with a TOTP secret
(written by SQL as Postfix Admin 4 writes it) the main password is refused, except from a TOTP
exception address or network; app passwords made on the owner's page log in from anywhere until
revoked.
Clients connect from 127.0.0.1 or from 127.0.0.2 (both loopback) to tell exception addresses
apart.
"""

from __future__ import annotations

import re
import secrets

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Admin
from domains.models import Domain
from domains.services import domain_create
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_create
from pfa.models import MailboxAppPassword, TotpExceptionAddress
from tests.support.mailstack import MailStack
from twofactor.services import totp_exception_add

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
HERE, ELSEWHERE = "127.0.0.1", "127.0.0.2"


def make_mailbox(actor: Admin) -> tuple[Mailbox, str]:
    domain: Domain = domain_create(
        actor=actor,
        domain=f"d{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    password = secrets.token_urlsafe(15)
    mailbox = mailbox_create(actor=actor, domain=domain, local_part="alice", password=password)
    return mailbox, password


def set_totp_secret(mailbox: Mailbox) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mailbox SET totp_secret = %s WHERE username = %s", [SECRET, mailbox.pk]
        )


def create_app_password(mailbox: Mailbox, password: str, name: str) -> str:
    """Make an app password the way an owner does, on the owner's page."""
    client = Client()
    client.post("/me/login/", {"address": mailbox.pk, "password": password})
    page = client.post("/me/app-passwords/", {"action": "create", "description": name})
    match = re.search(r"data-app-password>([^<]+)<", page.content.decode())
    assert match, page.content.decode()[:500]
    return match.group(1)


def test_app_password_logs_in_over_imap_and_smtp_until_revoked(
    stack: MailStack, actor: Admin
) -> None:
    mailbox, password = make_mailbox(actor)
    app_password = create_app_password(mailbox, password, "Phone")
    other = create_app_password(mailbox, password, "Laptop")

    assert stack.can_login(mailbox.pk, app_password)
    assert stack.can_login(mailbox.pk, other)
    assert stack.can_smtp_auth(mailbox.pk, app_password)
    assert not stack.can_login(mailbox.pk, app_password + "x")
    # Without a second factor the main password still works.
    assert stack.can_login(mailbox.pk, password)

    MailboxAppPassword.objects.filter(username=mailbox.pk, description="Phone").delete()
    assert not stack.can_login(mailbox.pk, app_password)
    assert not stack.can_smtp_auth(mailbox.pk, app_password)
    assert stack.can_login(mailbox.pk, other)


def test_with_a_second_factor_the_main_password_works_only_from_exception_addresses(
    stack: MailStack, actor: Admin
) -> None:
    mailbox, password = make_mailbox(actor)
    app_password = create_app_password(mailbox, password, "Phone")
    set_totp_secret(mailbox)

    assert not stack.can_login(mailbox.pk, password, source=HERE)
    assert not stack.can_smtp_auth(mailbox.pk, password, source=HERE)
    # App passwords are what mail clients use with a second factor.
    assert stack.can_login(mailbox.pk, app_password, source=ELSEWHERE)
    assert stack.can_smtp_auth(mailbox.pk, app_password, source=ELSEWHERE)

    # An exception for this mailbox, as Postfix Admin writes it: one address only.
    TotpExceptionAddress.objects.create(ip=HERE, username=mailbox.pk, description="office")
    assert stack.can_login(mailbox.pk, password, source=HERE)
    assert stack.can_smtp_auth(mailbox.pk, password, source=HERE)
    assert not stack.can_login(mailbox.pk, password, source=ELSEWHERE)
    assert not stack.can_smtp_auth(mailbox.pk, password, source=ELSEWHERE)


@pytest.mark.parametrize("whose", ["domain", "everyone"])
def test_domain_wide_and_global_exceptions(stack: MailStack, actor: Admin, whose: str) -> None:
    mailbox, password = make_mailbox(actor)
    set_totp_secret(mailbox)
    username = mailbox.domain_id if whose == "domain" else None
    TotpExceptionAddress.objects.create(ip=ELSEWHERE, username=username, description="vpn")

    assert stack.can_login(mailbox.pk, password, source=ELSEWHERE)
    assert not stack.can_login(mailbox.pk, password, source=HERE)


def test_an_exception_for_another_mailbox_does_not_count(stack: MailStack, actor: Admin) -> None:
    mailbox, password = make_mailbox(actor)
    set_totp_secret(mailbox)
    TotpExceptionAddress.objects.create(ip=HERE, username="bob@" + mailbox.domain_id)

    assert not stack.can_login(mailbox.pk, password, source=HERE)


def test_an_exception_network_lets_the_main_password_in_from_inside_it_only(
    stack: MailStack, actor: Admin
) -> None:
    mailbox, password = make_mailbox(actor)
    set_totp_secret(mailbox)
    plain, plain_password = make_mailbox(actor)
    # A row that is no address (a script may write anything) matches nothing and breaks nothing.
    TotpExceptionAddress.objects.create(ip="not an address", username=None, description="junk")
    assert stack.can_login(plain.pk, plain_password, source=HERE)

    # A network elsewhere does not help.
    totp_exception_add(actor=actor, ip="10.0.0.0/8", username=mailbox.pk, description="office")
    assert not stack.can_login(mailbox.pk, password, source=HERE)
    assert not stack.can_smtp_auth(mailbox.pk, password, source=HERE)

    # 127.0.0.2/31 holds 127.0.0.2 and .3, not .1: a prefix within one byte.
    totp_exception_add(actor=actor, ip="127.0.0.2/31", username=mailbox.pk, description="pair")
    assert stack.can_login(mailbox.pk, password, source=ELSEWHERE)
    assert not stack.can_login(mailbox.pk, password, source=HERE)

    # The whole loopback network, for the mailbox's domain.
    totp_exception_add(
        actor=actor, ip="127.0.0.0/8", username=mailbox.domain_id, description="loopback"
    )
    assert stack.can_login(mailbox.pk, password, source=HERE)
    assert stack.can_smtp_auth(mailbox.pk, password, source=HERE)
    assert not stack.can_login(mailbox.pk, password + "x", source=HERE)
