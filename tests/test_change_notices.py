"""The short notice a mailbox gets when its forwarding or automatic reply changes: from its owner
or from an administrator (page, API or shell, the same services), once committed, and only when
something changed."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_forwarding
from mailboxes.vacation import vacation_set
from tests.factories import make_mailbox, owner_client_for
from tests.support.mailtools import mail_sent

pytestmark = pytest.mark.django_db

VACATION = {
    "active": "on",
    "subject": "Away",
    "body": "Back on Monday.\n",
    "activefrom": "2030-07-01T09:00",
    "activeuntil": "2030-07-15T18:30",
    "time_zone": "UTC",
    "interval": "86400",
    "interval_hours": "",
}


@pytest.fixture(autouse=True)
def _vacation_domain(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(domain_a, "owner", email_other="owner.private@elsewhere.example")


def notices() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if "was changed" in m.subject]


def test_admin_forwarding_change_tells_the_mailbox_and_its_alternative_address(client_a, owner):
    with mail_sent():
        response = client_a.post(
            f"/mailboxes/{owner.username}/forwarding/",
            {"targets": "thief@elsewhere.example"},
        )
    assert response.status_code == 302
    (notice,) = notices()
    assert notice.subject == "The forwarding of owner@alpha.example was changed"
    # Mail to the mailbox now goes to the new target only: the alternative address hears too.
    assert notice.to == ["owner@alpha.example", "owner.private@elsewhere.example"]
    assert "changed by an administrator" in notice.body
    assert "thief" not in notice.body


def test_admin_vacation_change_tells_the_mailbox(client_a, owner):
    with mail_sent():
        response = client_a.post(f"/mailboxes/{owner.username}/vacation/", VACATION)
    assert response.status_code == 302
    (notice,) = notices()
    assert notice.subject == "The vacation auto-reply of owner@alpha.example was changed"
    assert notice.to == ["owner@alpha.example"]
    assert "changed by an administrator" in notice.body
    html = notice.alternatives[0][0]
    assert "changed by an administrator" in html


def test_the_shell_and_the_api_use_the_same_service(owner):
    # actor=None is the shell (manage.py); an API request passes its admin, as the page does.
    with mail_sent():
        mailbox_set_forwarding(
            actor=None, mailbox=owner, targets=["boss@elsewhere.example"], keep_copy=True
        )
    (notice,) = notices()
    assert "changed by an administrator" in notice.body


def test_owner_change_is_worded_for_the_owner(owner):
    client = owner_client_for(owner)
    with mail_sent():
        client.post("/me/forwarding/", {"targets": "boss@elsewhere.example", "keep_copy": "on"})
    (notice,) = notices()
    assert "on its own settings page" in notice.body
    assert "administrator" not in notice.body.splitlines()[0]


def test_no_notice_when_nothing_changed(client_a, owner):
    url = f"/mailboxes/{owner.username}/forwarding/"
    with mail_sent():
        client_a.post(url, {"targets": "a@elsewhere.example\nb@elsewhere.example"})
    assert len(notices()) == 1
    mail.outbox.clear()
    with mail_sent():
        # The same targets, in another order and case: nothing changed.
        client_a.post(url, {"targets": "B@elsewhere.example\na@elsewhere.example"})
        client_a.post(f"/mailboxes/{owner.username}/vacation/", VACATION)
    assert [n.subject for n in notices()] == [
        "The vacation auto-reply of owner@alpha.example was changed"
    ]
    mail.outbox.clear()
    with mail_sent():
        client_a.post(f"/mailboxes/{owner.username}/vacation/", VACATION)
        owner_client_for(owner).post("/me/vacation/", VACATION)
    assert notices() == []
    with mail_sent():
        owner_client_for(owner).post("/me/vacation/", {**VACATION, "subject": "Away again"})
    assert len(notices()) == 1


def test_no_notice_before_the_change_is_committed(owner):
    # Inside the transaction nothing is sent; a rolled-back change sends nothing at all.
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    vacation_set(
        actor=None,
        mailbox=owner,
        active=True,
        subject="Away",
        body="",
        activefrom=start,
        activeuntil=start + datetime.timedelta(days=2),
        interval_time=0,
    )
    assert notices() == []


def test_admin_change_of_the_alternative_address_tells_the_mailbox(client_a, owner):
    url = f"/mailboxes/{owner.username}/edit/"
    with mail_sent():
        response = client_a.post(
            url, {"name": "Olive", "quota": "1G", "email_other": owner.email_other}
        )
    assert response.status_code == 302
    assert notices() == []
    with mail_sent():
        response = client_a.post(
            url, {"name": "Olive", "quota": "1G", "email_other": "new.home@elsewhere.example"}
        )
    assert response.status_code == 302
    (notice,) = notices()
    assert notice.subject == "The alternative address of owner@alpha.example was changed"
    assert notice.to == ["owner@alpha.example"]
    assert "changed by an administrator" in notice.body
