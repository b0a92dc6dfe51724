"""Real Dovecot with `mailconfig dovecot --password-expiry` (Postfix Admin's documented
expiry-aware query): an expired password is refused, a valid one accepted, and a domain whose
password_expiry is 0 days never expires."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from domains.models import Domain
from domains.services import domain_create
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_create
from tests.support.mailstack import MailStack, require_stack, running_stack

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def expiry_stack(django_db_setup: Any) -> Iterator[MailStack]:
    require_stack({"postgresql": "pgsql", "mysql": "mysql"}.get(connection.vendor))
    with running_stack(mailconfig={"password_expiry": True}) as stack:
        yield stack


def _mailbox(days: int) -> tuple[Mailbox, str]:
    domain = domain_create(
        actor=None,
        domain=f"x{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )
    Domain.objects.filter(pk=domain.pk).update(password_expiry=days)
    domain.refresh_from_db()
    password = secrets.token_urlsafe(16)
    mailbox = mailbox_create(
        actor=None, domain=domain, local_part="user", password=password, check_policy=False
    )
    return mailbox, password


def _expire_in(mailbox: Mailbox, delta: datetime.timedelta) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(password_expiry=timezone.now() + delta)


def test_an_expired_password_is_refused_and_a_valid_one_accepted(
    expiry_stack: MailStack, pfa_cleanup: None
) -> None:
    mailbox, password = _mailbox(days=90)
    assert mailbox.password_expiry > timezone.now() + datetime.timedelta(days=89)
    assert expiry_stack.can_login(mailbox.pk, password), expiry_stack.logs()

    _expire_in(mailbox, -datetime.timedelta(minutes=5))
    assert not expiry_stack.can_login(mailbox.pk, password)

    # A few minutes of validity left is still valid, whatever the database server's time zone.
    _expire_in(mailbox, datetime.timedelta(minutes=5))
    assert expiry_stack.can_login(mailbox.pk, password), expiry_stack.logs()


def test_a_domain_without_expiry_never_expires(expiry_stack: MailStack, pfa_cleanup: None) -> None:
    mailbox, password = _mailbox(days=0)
    _expire_in(mailbox, -datetime.timedelta(days=400))
    assert expiry_stack.can_login(mailbox.pk, password), expiry_stack.logs()
