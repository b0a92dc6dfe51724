"""The log page: scoped to the admin's domains, filters, newest first, lazy pagination."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import core.listing.pagination
from auditlog.selectors import log_list
from core.sticky import SESSION_KEY
from domains.services import domain_purge
from pfa.models import Log
from tests.factories import make_admin, make_domain

pytestmark = pytest.mark.django_db

LIST = reverse("auditlog:log-list")


def _rows(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _log(domain: str, action: str, data: str, *, when: datetime.datetime, who: str = "x") -> Log:
    return Log.objects.create(
        timestamp=when, username=f"{who} (192.0.2.1)", domain=domain, action=action, data=data
    )


@pytest.fixture
def history(domain_a, domain_b):
    Log.objects.all().delete()
    day = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
    _log("alpha.example", "create_mailbox", "a1@alpha.example", when=day, who="root@admins.example")
    _log("alpha.example", "edit_alias", "a2@alpha.example", when=day + datetime.timedelta(days=1))
    _log("beta.example", "create_mailbox", "b1@beta.example", when=day + datetime.timedelta(days=2))
    _log("beta.example", "delete_alias", "b2@beta.example", when=day + datetime.timedelta(days=3))
    _log("", "create_admin", "someone@admins.example", when=day + datetime.timedelta(days=4))
    return day


def test_super_admin_sees_everything_newest_first(super_client, history):
    rows = _rows(super_client.get(LIST).content.decode())
    assert [row.split()[-1] for row in rows] == [
        "someone@admins.example",
        "b2@beta.example",
        "b1@beta.example",
        "a2@alpha.example",
        "a1@alpha.example",
    ]
    assert "2026-03-10 12:00:00" in rows[-1]
    assert "Create mailbox" in rows[-1]


def test_domain_admin_sees_only_own_domains(client_a, history):
    html = client_a.get(LIST).content.decode()
    rows = _rows(html)
    assert len(rows) == 2
    assert all("alpha.example" in row for row in rows)
    # Asking for another domain is not possible: it is not among the choices.
    html = client_a.get(LIST, {"domain": "beta.example"}).content.decode()
    assert "beta.example" not in " ".join(_rows(html))
    assert '<option value="beta.example"' not in html


def test_filters(super_client, history):
    def data_of(**params: str) -> list[str]:
        html = super_client.get(LIST, params).content.decode()
        rows = _rows(html)
        if len(rows) == 1 and "No log rows match." in rows[0]:
            return []
        return [row.split()[-1] for row in rows]

    assert data_of(domain="beta.example") == ["b2@beta.example", "b1@beta.example"]
    assert data_of(domain="", action="create_mailbox") == ["b1@beta.example", "a1@alpha.example"]
    assert data_of(domain="", admin="ROOT@admins") == ["a1@alpha.example"]
    assert data_of(domain="", date_from="2026-03-11", date_to="2026-03-12") == [
        "b1@beta.example",
        "a2@alpha.example",
    ]
    assert data_of(domain="", date_to="2026-03-10") == ["a1@alpha.example"]
    assert data_of(domain="alpha.example", action="delete_alias") == []


def test_bad_filters_show_errors(super_client, history):
    html = super_client.get(
        LIST, {"domain": "", "date_from": "2026-03-12", "date_to": "2026-03-10"}
    ).content.decode()
    assert "The start date is after the end date." in html
    html = super_client.get(LIST, {"domain": "", "date_from": "yesterday"}).content.decode()
    assert "Enter a valid date." in html
    html = super_client.get(LIST, {"domain": "", "action": "drop_table"}).content.decode()
    assert "Select a valid choice." in html
    assert "No log rows match." in html


def test_action_choices_are_postfix_admin_keys(super_client, history):
    html = super_client.get(LIST).content.decode()
    select = re.search(r'<select name="action".*?</select>', html, flags=re.S).group(0)
    values = [v for v in re.findall(r'<option value="([^"]*)"', select) if v]
    assert "create_domain" in values
    assert "edit_mailbox_state" in values
    assert values == sorted(values)


def test_selected_domain_filters_the_log_until_cleared(super_client, history):
    super_client.post(reverse("domains:domain-work", args=["beta.example"]))
    html = super_client.get(LIST).content.decode()
    rows = _rows(html)
    assert len(rows) == 2
    assert all("beta.example" in row for row in rows)
    assert "Selected domain" in html
    rows = _rows(super_client.get(LIST, {"domain": ""}).content.decode())
    assert len(rows) == 5
    assert SESSION_KEY not in super_client.session


def test_forgotten_domain_selection_is_dropped(super_client, history):
    session = super_client.session
    session[SESSION_KEY] = "gone.example"
    session.save()
    rows = _rows(super_client.get(LIST).content.decode())
    assert len(rows) == 5
    assert SESSION_KEY not in super_client.session


def test_log_rows_of_purged_domain_stay_visible_to_super_admin(super_client):
    make_domain("gone.example")
    super_client.post(
        reverse("domains:domain-purge", args=["gone.example"]), {"confirm": "gone.example"}
    )
    html = super_client.get(LIST, {"domain": "", "action": "delete_domain"}).content.decode()
    assert "gone.example" in " ".join(_rows(html))


def test_pagination_is_lazy(super_client, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    Log.objects.all().delete()
    start = timezone.now() - datetime.timedelta(days=1)
    for i in range(7):
        _log("alpha.example", "edit_alias", f"row{i}", when=start + datetime.timedelta(minutes=i))
    first = _rows(super_client.get(LIST).content.decode())
    assert [r.split()[-1] for r in first] == ["row6", "row5", "row4"]
    third = _rows(super_client.get(LIST, {"page": 3}).content.decode())
    assert [r.split()[-1] for r in third] == ["row0"]
    with CaptureQueriesContext(connection) as queries:
        super_client.get(LIST, {"page": 2})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.parametrize("who", ["super_client", "client_a"])
def test_deep_pages_fetch_keys_first_and_show_the_same_rows(request, who, settings, monkeypatch):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    # Pages from the third on take the two-step path of deep pages.
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 6)
    client = request.getfixturevalue(who)
    Log.objects.all().delete()
    start = timezone.now() - datetime.timedelta(days=1)
    same_time = start + datetime.timedelta(hours=1)
    for i in range(11):
        # Rows 4-7 share one timestamp: the id orders them, on both paths alike.
        when = same_time if 4 <= i <= 7 else start + datetime.timedelta(minutes=i)
        _log("alpha.example", "edit_alias", f"row{i}", when=when)
    expected = [f"row{i}" for i in (7, 6, 5, 4, 10, 9, 8, 3, 2, 1, 0)]
    shown = []
    for number in (1, 2, 3, 4):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"page": number})
        assert response.status_code == 200
        shown += [r.split()[-1] for r in _rows(response.content.decode())]
        html = response.content.decode()
        # Another page is offered exactly while there is one.
        assert (f"page={number + 1}" in html) == (number < 4)
        if number >= 3:
            assert any(
                "OFFSET" in q["sql"].upper()
                and '"data"' not in q["sql"].lower()
                and "`data`" not in q["sql"].lower()
                for q in queries.captured_queries
            )
    assert shown == expected
    # A page past the end is no error page (the table shows what it can, as before).
    assert client.get(LIST, {"page": 9}).status_code == 200


def _list_queries(client, count: int) -> int:
    Log.objects.all().delete()
    start = timezone.now() - datetime.timedelta(days=1)
    Log.objects.bulk_create(
        Log(
            timestamp=start + datetime.timedelta(seconds=i),
            username="x (192.0.2.1)",
            domain="alpha.example",
            action="edit_alias",
            data=f"row{i}",
        )
        for i in range(count)
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert len(_rows(response.content.decode())) == min(count, 50)
    return len(queries)


@pytest.mark.parametrize("who", ["super_client", "client_a"])
def test_list_query_count_does_not_grow_with_rows(request, who, domain_a):
    client = request.getfixturevalue(who)
    assert _list_queries(client, 5) == _list_queries(client, 60)


def test_typed_unknown_domain_shows_no_rows_and_is_not_selected(super_client, history):
    # Any name may be typed (a purged domain's rows are kept); one with no rows shows none.
    html = super_client.get(LIST, {"domain": "nowhere.example"}).content.decode()
    assert "No log rows match." in html
    assert SESSION_KEY not in super_client.session


def test_many_domains_filter_is_typed(super_client, client_a, history, monkeypatch):
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 1)
    html = super_client.get(LIST, {"domain": "Beta.Example"}).content.decode()
    assert re.search(r'<input type="text" name="domain"', html)
    rows = _rows(html)
    assert len(rows) == 2
    assert all("beta.example" in row for row in rows)
    # A domain admin typing a foreign domain learns nothing about it.
    html = client_a.get(LIST, {"domain": "beta.example"}).content.decode()
    assert "beta.example" not in " ".join(_rows(html))


def test_selector_never_hands_a_domain_admin_another_domains_log(history, domain_a, domain_b):
    # The form refuses such a choice; the selector refuses it again by itself.
    admin = make_admin("sel@admins.example", domains=[domain_a])
    assert not log_list(admin, {"domain": "beta.example"}).exists()
    assert {row.domain for row in log_list(admin, {"domain": "alpha.example"})} == {"alpha.example"}
    assert {row.domain for row in log_list(admin, {})} == {"alpha.example"}


# Edge dates and any domain name (audit L3) ----------------------------------------------------

EDGE_DATES = [
    ({"date_to": "9999-12-31"}, 5),
    ({"date_from": "0001-01-01"}, 5),
    ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, 5),
    ({"date_from": "0001-01-02", "date_to": "9999-12-30"}, 5),
    ({"date_from": "9999-12-31"}, 0),
    ({"date_to": "0001-01-01"}, 0),
]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "Etc/GMT+12"])
@pytest.mark.parametrize(("dates", "count"), EDGE_DATES)
def test_dates_at_the_ends_of_the_calendar_filter_without_error(
    super_client, client_a, history, settings, zone, dates, count
):
    # Tokyo is 9 hours east of UTC (its first day starts in year 0 there), Etc/GMT+12
    # 12 hours west (the day after the last one starts in year 10000).
    settings.TIME_ZONE = zone
    response = super_client.get(LIST, {"domain": "", **dates})
    assert response.status_code == 200
    rows = _rows(response.content.decode())
    assert (len(rows), "No log rows match." in rows[0]) == ((count, False) if count else (1, True))
    response = client_a.get(LIST, {"domain": "", **dates})
    assert response.status_code == 200
    assert len(_rows(response.content.decode())) == (2 if count else 1)


def test_a_purged_domains_rows_are_filtered_by_its_name(super_client, client_a, history):
    gone = make_domain("gone.example")
    make_admin("keeper@admins.example", domains=[gone])
    domain_purge(actor=None, domain=gone)
    _log("gone.example", "create_mailbox", "old@gone.example", when=history)

    html = super_client.get(LIST, {"domain": "Gone.Example"}).content.decode()
    rows = _rows(html)
    assert rows[0].split()[-1] == "gone.example"
    assert "Delete domain" in rows[0]
    assert rows[-1].split()[-1] == "old@gone.example"
    assert all("gone.example" in row for row in rows)
    assert 'value="Gone.Example"' in html
    # Typed names filter this page only: only an existing domain stays selected.
    assert SESSION_KEY not in super_client.session
    super_client.get(LIST, {"domain": "beta.example"})
    assert super_client.session[SESSION_KEY] == "beta.example"
    super_client.get(LIST, {"domain": "gone.example"})
    assert SESSION_KEY not in super_client.session

    # A domain admin sees nothing of a domain not theirs, purged, foreign or unknown alike.
    pages = {
        name: client_a.get(LIST, {"domain": name}).content.decode()
        for name in ("gone.example", "beta.example", "nowhere.example")
    }
    for name, html in pages.items():
        rows = _rows(html)
        assert len(rows) == 1
        assert "No log rows match." in rows[0]
        assert "invalid-feedback" not in html
        assert html.count(name) == pages["nowhere.example"].count("nowhere.example")
    own = _rows(client_a.get(LIST, {"domain": "alpha.example"}).content.decode())
    assert len(own) == 2


def test_domain_typed_in_unicode_finds_the_punycode_rows(super_client, history):
    _log("xn--bcher-kva.example", "create_alias", "info@xn--bcher-kva.example", when=history)
    rows = _rows(super_client.get(LIST, {"domain": "Bücher.Example"}).content.decode())
    # The data column reads in Unicode (first-hour review, F14).
    assert [row.split()[-1] for row in rows] == ["info@bücher.example"]


def test_impossible_domain_text_is_an_error_or_nothing(super_client, history):
    # A control character in a query string is refused before any view (vimbadmin.security).
    assert super_client.get(LIST, {"domain": "a\x00b"}).status_code == 400
    html = super_client.get(LIST, {"domain": "not a domain"}).content.decode()
    assert "No log rows match." in html
    html = super_client.get(LIST, {"domain": "x" * 300}).content.decode()
    assert "Ensure this value has at most 255 characters" in html
