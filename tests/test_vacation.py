"""Vacation auto-reply pages (owner's /me/vacation/ and the admin's mailbox page), stored in
Postfix Admin's `vacation` table and alias.goto target, and interop with rows Postfix Admin
wrote."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from aliases.models import Alias
from mailboxes.models import Mailbox
from pfa.models import Log, Vacation, VacationNotification
from pfa.schema import has_column
from tests.factories import make_mailbox, owner_client_for
from tests.support.mailtools import mail_sent

URL = "/me/vacation/"
TARGET = "owner#alpha.example@autoreply.example.org"
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _vacation_domain(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(domain_a, "owner", name="Olive Owner")


@pytest.fixture
def owner_client(owner) -> Client:
    return owner_client_for(owner)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "active": "on",
        "subject": "Away until July \u2013 back soon",
        "body": "I am away.\nFür Dringendes: boss@elsewhere.example\n",
        "activefrom": "2030-07-01T09:00",
        "activeuntil": "2030-07-15T18:30",
        "time_zone": "Europe/Berlin",
        "interval": "604800",
        "interval_hours": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def goto_of(address: str) -> str:
    return Alias.objects.get(pk=address).goto


def write_pfa_vacation(address: str, domain: str, *, vacation_domain: str) -> None:
    """Write a vacation as Postfix Admin 3.3/4 does: the row (MySQL: cache '') and the target."""
    quote = connection.ops.quote_name
    columns = ["email", "subject", "body", "domain", "interval_time", "activefrom", "activeuntil"]
    values: list[Any] = [
        address,
        "Ferien",
        "Bin weg.",
        domain,
        86400,
        datetime.datetime(2030, 8, 1, 0, 0, tzinfo=UTC),
        datetime.datetime(2030, 8, 20, 0, 0, tzinfo=UTC),
    ]
    if has_column("vacation", "cache"):
        columns.append("cache")
        values.append("")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote('vacation')} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )
    target = address.replace("@", "#") + "@" + vacation_domain
    Alias.objects.filter(pk=address).update(goto=f"{address},{target}")


def test_owner_sets_a_vacation_in_their_time_zone(owner_client, owner):
    overview = owner_client.get("/me/")
    assert URL in overview.text
    page = owner_client.get(URL)
    assert page.status_code == 200
    with mail_sent():
        response = owner_client.post(URL, form_data())
    assert response.status_code == 302, response.content
    row = Vacation.objects.get(email=owner.username)
    assert row.active
    assert row.subject == "Away until July \u2013 back soon"
    assert row.body == "I am away.\nFür Dringendes: boss@elsewhere.example"
    # 09:00 in Berlin in July is 07:00 UTC.
    assert row.activefrom == datetime.datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    assert row.activeuntil == datetime.datetime(2030, 7, 15, 16, 30, tzinfo=UTC)
    assert row.interval_time == 604800
    assert row.domain == "alpha.example"
    assert goto_of(owner.username) == f"owner@alpha.example,{TARGET}"
    log = Log.objects.filter(action="edit_vacation").latest("id")
    assert log.username.startswith("owner@alpha.example (")
    assert log.data == "owner@alpha.example: on"
    (sent,) = mail.outbox
    assert sent.to == ["owner@alpha.example"]
    assert "vacation" in sent.subject
    overview = owner_client.get("/me/")
    assert "Automatic reply is on" in overview.text
    # Shown in the owner's zone: 09:00 Berlin, not 07:00 UTC.
    assert "(Europe/Berlin)" in overview.text
    assert "2030-07-01 09:00" in overview.text  # the one date format (F15)
    # The form shows the stored dates back in the chosen time zone.
    again = owner_client.get(URL)
    assert again.context["form"].initial["activefrom"] == "2030-07-01T09:00"
    assert again.context["form"].initial["interval"] == "604800"


def test_owner_switches_the_vacation_off(owner_client, owner):
    owner_client.post(URL, form_data())
    VacationNotification.objects.create(on_vacation=owner.username, notified="a@b.example")
    response = owner_client.post(URL, form_data(active=None))
    assert response.status_code == 302
    row = Vacation.objects.get(email=owner.username)
    assert not row.active
    assert goto_of(owner.username) == "owner@alpha.example"
    assert not VacationNotification.objects.filter(on_vacation=owner.username).exists()
    assert "Automatic reply is off" in owner_client.get("/me/").text


def test_forwarding_and_vacation_live_side_by_side(owner_client, owner):
    owner_client.post("/me/forwarding/", {"targets": "boss@elsewhere.example"})
    owner_client.post(URL, form_data())
    assert goto_of(owner.username) == f"boss@elsewhere.example,{TARGET}"
    owner_client.post("/me/forwarding/", {"targets": "", "keep_copy": "on"})
    assert goto_of(owner.username) == f"owner@alpha.example,{TARGET}"
    owner_client.post(URL, form_data(active=None))
    assert goto_of(owner.username) == "owner@alpha.example"


def test_custom_interval_in_hours(owner_client, owner):
    owner_client.post(URL, form_data(interval="custom", interval_hours="36"))
    assert Vacation.objects.get(email=owner.username).interval_time == 36 * 3600


def test_preview_shows_the_reply_and_writes_nothing(owner_client, owner):
    response = owner_client.post(URL, {**form_data(), "preview": "1"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["subject"] == "Away until July \u2013 back soon"
    assert "Olive Owner" in preview["from"]
    assert "owner@alpha.example" in preview["from"]
    assert "Für Dringendes" in preview["body"]
    assert "Preview of the reply" in response.text
    assert not Vacation.objects.filter(email=owner.username).exists()
    assert goto_of(owner.username) == "owner@alpha.example"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"activeuntil": "2030-06-30T09:00"}, "activeuntil", "The end must be after the start."),
        ({"interval": "custom", "interval_hours": "-1"}, "interval_hours", "greater than or equal"),
        ({"interval": "custom", "interval_hours": ""}, "interval_hours", "number of hours"),
        ({"body": "x" * 20001}, "body", "at most 20000"),
        ({"subject": "a\nb"}, "subject", ""),
        ({"subject": ""}, "subject", "required"),
        ({"activefrom": "soon"}, "activefrom", "Enter a date and time."),
        ({"activeuntil": "2040-01-01T00:00"}, "activeuntil", "2038"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
    ],
)
def test_bad_vacation_is_a_field_error_and_writes_nothing(
    owner_client, owner, overrides, field, message
):
    before = Log.objects.count()
    response = owner_client.post(URL, form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Vacation.objects.filter(email=owner.username).exists()
    assert goto_of(owner.username) == "owner@alpha.example"
    assert Log.objects.count() == before
    assert mail.outbox == []


def test_without_a_vacation_domain_it_cannot_be_switched_on(owner_client, owner, settings):
    settings.VIMBADMIN_VACATION_DOMAIN = ""
    page = owner_client.get(URL)
    assert "not set up on this server" in page.text
    response = owner_client.post(URL, form_data())
    assert response.status_code == 200
    assert "no vacation domain" in response.text
    assert not Vacation.objects.filter(email=owner.username).exists()


def test_a_vacation_written_by_postfix_admin_shows_and_edits_here(owner_client, owner):
    write_pfa_vacation(owner.username, "alpha.example", vacation_domain="autoreply.pfa.example")
    page = owner_client.get(URL)
    initial = page.context["form"].initial
    assert initial["subject"] == "Ferien"
    assert initial["body"] == "Bin weg."
    assert initial["interval"] == "86400"
    assert initial["activefrom"] == "2030-08-01T00:00"  # the session's default zone is UTC
    assert "Automatic reply is on" in page.text
    # Editing the forwarding keeps Postfix Admin's target as it is.
    owner_client.post("/me/forwarding/", {"targets": "x@elsewhere.example", "keep_copy": "on"})
    pfa_target = "owner#alpha.example@autoreply.pfa.example"
    assert goto_of(owner.username) == f"owner@alpha.example,x@elsewhere.example,{pfa_target}"
    # Saving the vacation here writes this site's target in place of the old one.
    owner_client.post(URL, form_data(subject="Ferien 2", time_zone="UTC"))
    row = Vacation.objects.get(email=owner.username)
    assert row.subject == "Ferien 2"
    assert goto_of(owner.username) == f"owner@alpha.example,x@elsewhere.example,{TARGET}"


def test_domain_admin_sets_a_vacation_in_scope_only(client_a, client_b, owner):
    url = f"/mailboxes/{owner.username}/vacation/"
    assert client_b.get(url).status_code == 404
    assert client_b.post(url, form_data()).status_code == 404
    assert not Vacation.objects.filter(email=owner.username).exists()
    detail = client_a.get(f"/mailboxes/{owner.username}/")
    assert url in detail.text
    page = client_a.get(url)
    assert page.status_code == 200
    with mail_sent():
        response = client_a.post(url, form_data(time_zone="UTC"))
    assert response.status_code == 302
    assert goto_of(owner.username) == f"owner@alpha.example,{TARGET}"
    log = Log.objects.filter(action="edit_vacation").latest("id")
    assert log.username.startswith("admin")
    # The mailbox hears of it, worded for an administrator's change.
    (notice,) = mail.outbox
    assert "changed by an administrator" in notice.body
    assert "Automatic reply is on" in client_a.get(f"/mailboxes/{owner.username}/").text


def test_each_owner_sees_and_changes_only_their_own_vacation(owner, domain_b):
    write_pfa_vacation(owner.username, "alpha.example", vacation_domain="autoreply.example.org")
    other = make_mailbox(domain_b, "other")
    client = owner_client_for(other)
    page = client.get(URL)
    assert "Ferien" not in page.text
    client.post(URL, {**form_data(), "email": owner.username})
    assert Vacation.objects.get(email=owner.username).subject == "Ferien"
    assert Vacation.objects.get(email=other.username).subject == "Away until July \u2013 back soon"
