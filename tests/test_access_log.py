"""The log's "Access" tab: logins, failures, lockouts, resets and throttled client addresses.

Also the edit rows of the "Changes" tab, which say what changed (before -> after).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db.models import F
from django.test import Client

from accounts.models import AuthEvent
from pfa.audit import describe_changes
from pfa.models import Log
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ACCESS = "/log/access/"
LOG = "/log/"
ADMIN_LOGIN = "/accounts/login/"


def _rows(html: str, table: str = "") -> list[str]:
    if table:
        html = html.split(f'id="{table}"', 1)[1]
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _login(username: str, password: str, address: str) -> None:
    Client().post(ADMIN_LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def limits(settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 4
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = 900
    return settings


@pytest.fixture
def events(admin_a, limits):
    """A real history: a login, failures up to a lockout, a flood from one address."""
    _login(admin_a.pk, PASSWORD, "192.0.2.10")
    for _n in range(4):
        _login(admin_a.pk, "wrong-guess-1", "198.51.100.7")
    for n in range(6):
        _login(f"spray{n}@alpha.example", "wrong-guess-1", "203.0.113.9")
    return admin_a


def test_super_admin_sees_logins_failures_and_lockouts(super_client, events):
    html = super_client.get(ACCESS).content.decode()
    rows = _rows(html, "DataTable") if 'id="DataTable"' in html else _rows(html.split("<h2", 2)[2])
    text = "\n".join(rows)
    assert "login admin admin@alpha.example 192.0.2.10" in text
    assert "failed login admin admin@alpha.example 198.51.100.7" in text
    assert "locked out" in text
    # A row counts the repeats of one kind, account and address within an hour.
    failed = AuthEvent.objects.get(kind="login_failed", client_address="198.51.100.7")
    assert failed.count == 3
    assert re.search(r"\b3 failed login admin admin@alpha\.example 198\.51\.100\.7", text)


def test_throttled_addresses_are_listed_with_their_wait(super_client, events):
    html = super_client.get(ACCESS).content.decode()
    throttled = _rows(html, "throttled-addresses")
    spray = next(row for row in throttled if row.startswith("203.0.113.9"))
    assert " admin 4 " in f" {spray} "
    assert "more second" in spray
    # Once the lockout has passed, the address is no longer listed.
    from accounts.models import ThrottleCounter

    ThrottleCounter.objects.update(last_failure=F("last_failure") - datetime.timedelta(hours=1))
    html = super_client.get(ACCESS).content.decode()
    assert "No client address has failures counted against it." in html


def test_filters_by_kind_address_and_day(super_client, events):
    def shown(**params: str) -> list[str]:
        html = super_client.get(ACCESS, params).content.decode()
        body = html.split("Logins, failures, lockouts and resets", 1)[1]
        rows = _rows(body)
        return [] if len(rows) == 1 and "No access events match." in rows[0] else rows

    assert all("locked out" in row for row in shown(kind="locked_out"))
    assert len(shown(kind="locked_out")) >= 1
    by_address = shown(address="198.51.100")
    assert by_address and all("198.51.100.7" in row for row in by_address)
    by_login = shown(address="ADMIN@alpha")
    assert {row.split("admin@alpha.example")[1].split()[0] for row in by_login} == {
        "192.0.2.10",
        "198.51.100.7",
    }
    AuthEvent.objects.filter(client_address="192.0.2.10").update(
        timestamp=datetime.datetime(2026, 1, 5, 12, tzinfo=datetime.UTC)
    )
    day = shown(date_from="2026-01-05", date_to="2026-01-05")
    assert len(day) == 1 and "192.0.2.10" in day[0]
    assert shown(date_from="2026-01-06", date_to="2026-01-04") == []
    html = super_client.get(ACCESS, {"date_from": "2026-01-06", "date_to": "2026-01-04"})
    assert "The start date is after the end date." in html.content.decode()
    assert super_client.get(ACCESS, {"kind": "no-such-kind"}).status_code == 200


def test_pages_through_the_project_pagination(super_client, events):
    total = AuthEvent.objects.count()
    first = _rows(super_client.get(ACCESS, {"per_page": "2"}).content.decode().split("<h2", 2)[2])
    assert len(first) == 2
    last_page = (total + 1) // 2
    html = super_client.get(ACCESS, {"per_page": "2", "page": str(last_page)}).content.decode()
    assert len(_rows(html.split("<h2", 2)[2])) == total - 2 * (last_page - 1)
    assert super_client.get(ACCESS, {"page": "abc"}).status_code == 404


def test_only_super_admins_see_the_access_tab(client_a, super_client, events):
    assert client_a.get(ACCESS).status_code == 404
    assert ACCESS not in client_a.get(LOG).content.decode()
    assert ACCESS in super_client.get(LOG).content.decode()
    anonymous = Client().get(ACCESS)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_describe_changes_names_only_what_changed():
    assert describe_changes("a.example", {"aliases": 10}, {"aliases": 10}) == "a.example"
    assert (
        describe_changes(
            "a.example",
            {"aliases": 10, "maxquota": 1024, "backupmx": False, "description": "Old"},
            {"aliases": 5, "maxquota": 500, "backupmx": True, "description": "Größe"},
        )
        == "a.example: aliases 10 -> 5; maxquota 1024 -> 500; backupmx no -> yes;"
        " description Old -> (changed)"
    )
    # Latin-1 is all an adopted MySQL log column holds: the text stays ASCII.
    assert describe_changes("x", {"goto": "a" * 300}, {"goto": ""}).isascii()


def test_domain_edit_row_shows_before_and_after(super_client, domain_a):
    response = super_client.post(
        "/domains/alpha.example/edit/",
        {
            "description": domain_a.description,
            "aliases": "5",
            "mailboxes": str(domain_a.mailboxes),
            "maxquota": "500",
            "quota": str(domain_a.quota),
            "default_mailbox_quota": "100",
            "transport": domain_a.transport,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Log.objects.filter(action="edit_domain").latest("id")
    assert f"aliases {domain_a.aliases} -> 5" in row.data
    assert f"maxquota {domain_a.maxquota} -> 500" in row.data
    assert "default_mailbox_quota 1024 -> 100" in row.data
    html = super_client.get(LOG, {"action": "edit_domain"}).content.decode()
    assert f"aliases {domain_a.aliases} \u2192 5" in html


def test_mailbox_alias_and_admin_edit_rows(client_a, super_client, admin_a, domain_a):
    from aliases.services import alias_create, alias_update
    from mailboxes.services import mailbox_update
    from tests.factories import make_mailbox

    mailbox = make_mailbox(domain_a, "bob", name="Bob")
    mailbox_update(actor=admin_a, mailbox=mailbox, name="Bobby", quota_bytes=mailbox.quota)
    assert Log.objects.filter(action="edit_mailbox").latest("id").data == (
        "bob@alpha.example: name Bob -> Bobby"
    )
    alias = alias_create(
        actor=admin_a, domain=domain_a, local_part="sales", targets=["bob@alpha.example"]
    )
    alias_update(actor=admin_a, alias=alias, targets=["x@elsewhere.example"])
    assert Log.objects.filter(action="edit_alias").latest("id").data == (
        "sales@alpha.example: goto bob@alpha.example -> x@elsewhere.example"
    )
    super_client.post(
        "/accounts/admins/admin@alpha.example/edit/",
        {"email_other": "a@b.example", "domains": ["alpha.example"]},
    )
    assert Log.objects.filter(action="edit_admin").latest("id").data == (
        'admin@alpha.example: email_other "" -> a@b.example'
    )
