"""Admins see a mailbox's automatic reply in the mailbox list and on its page: a small badge,
read for the list's page in one query whatever the number of rows."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aliases.models import Alias
from mailboxes.models import Mailbox
from mailboxes.vacation import vacation_set
from tests.factories import make_mailbox

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
VACATION_QUERY = re.compile(r"FROM [`\"]vacation[`\"]")


@pytest.fixture(autouse=True)
def _vacation_domain(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    settings.TIME_ZONE = "UTC"


def away(
    mailbox: Mailbox,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    active: bool = True,
) -> None:
    vacation_set(
        actor=None,
        mailbox=mailbox,
        active=active,
        subject="Away",
        body="",
        activefrom=start,
        activeuntil=end,
        interval_time=86400,
    )


def badges(text: str) -> dict[str, str]:
    """Return the vacation badge text per address link in a list page."""
    found = re.findall(
        r'<a href="/mailboxes/([^/"]+)/">[^<]*</a> <span class="badge [^"]*vacation-badge"'
        r"[^>]*>([^<]*)</span>",
        text,
    )
    return {html.unescape(address): html.unescape(label) for address, label in found}


def list_page(client, **params: str) -> str:
    response = client.get("/mailboxes/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_who_is_away(client_a, domain_a):
    now = timezone.now()
    here = make_mailbox(domain_a, "here")
    now_away = make_mailbox(domain_a, "away")
    later = make_mailbox(domain_a, "later")
    ended = make_mailbox(domain_a, "ended")
    off = make_mailbox(domain_a, "off")
    open_ended = make_mailbox(domain_a, "open")
    unrouted = make_mailbox(domain_a, "unrouted")
    end = datetime.datetime(now.year + 1, 12, 12, 12, tzinfo=datetime.UTC)
    away(now_away, now - DAY, end)
    away(later, datetime.datetime(now.year + 1, 3, 2, tzinfo=datetime.UTC), end)
    away(ended, now - 3 * DAY, now - DAY)
    away(off, now - DAY, end, active=False)
    # Postfix Admin's default end: until switched off.
    away(open_ended, now - DAY, datetime.datetime(2038, 1, 18, tzinfo=datetime.UTC))
    # A row left active while the alias no longer routes to the responder: no replies go out.
    away(unrouted, now - DAY, end)
    Alias.objects.filter(pk=unrouted.username).update(goto=unrouted.username)

    shown = badges(list_page(client_a))
    assert here.username not in shown
    assert shown[now_away.username].startswith("Away until ")
    assert "12" in shown[now_away.username]
    assert shown[later.username].startswith("Away from ")
    assert shown[open_ended.username] == "Auto-reply on"
    for quiet in (ended, off, unrouted):
        assert quiet.username not in shown


def test_one_query_for_the_page_whatever_its_rows(client_a, domain_a):
    now = timezone.now()
    first = make_mailbox(domain_a, "first")
    away(first, now - DAY, now + DAY)
    list_page(client_a)  # session and caches warmed
    with CaptureQueriesContext(connection) as one:
        list_page(client_a)
    for n in range(6):
        away(make_mailbox(domain_a, f"more{n}"), now - DAY, now + DAY)
    with CaptureQueriesContext(connection) as many:
        text = list_page(client_a)
    assert len(badges(text)) == 7
    assert len(many) == len(one)
    assert sum(1 for q in many.captured_queries if VACATION_QUERY.search(q["sql"])) == 1


def test_a_page_reads_only_its_own_addresses(client_a, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    now = timezone.now()
    for local in ("a1", "a2", "a3"):
        away(make_mailbox(domain_a, local), now - DAY, now + DAY)
    with CaptureQueriesContext(connection) as queries:
        text = list_page(client_a, page="2")
    assert list(badges(text)) == ["a3@alpha.example"]
    (query,) = [q["sql"] for q in queries.captured_queries if VACATION_QUERY.search(q["sql"])]
    assert "a3@alpha.example" in query
    assert "a1@alpha.example" not in query


def test_the_mailbox_page_shows_the_badge_and_an_ended_reply(client_a, domain_a):
    now = timezone.now()
    box = make_mailbox(domain_a, "away")
    away(box, now - DAY, now + 5 * DAY)
    text = html.unescape(client_a.get(f"/mailboxes/{box.username}/").content.decode())
    assert re.search(r'vacation-badge"[^>]*>Away until ', text)
    assert "Automatic reply is on" in text
    away(box, now - 5 * DAY, now - DAY)
    text = html.unescape(client_a.get(f"/mailboxes/{box.username}/").content.decode())
    assert "vacation-badge" not in text
    assert "The automatic reply ended on" in text
    assert "no replies are sent" in text
