"""Pages past the middle of a list read from its end: the same rows as reading from the start.

Every page of the mailbox and alias lists shows exactly the rows of a plain ORDER BY with
OFFSET; where the counted total is off (other tools wrote since the last recount), the last page
still shows the true last rows and no page is empty or an error.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import core.listing.pagination
from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import make_alias, make_mailbox
from tests.support.pfa_tables import other_tool_adds_mailbox

pytestmark = pytest.mark.django_db

PER_PAGE = 5


@pytest.fixture
def paged(settings, monkeypatch):
    """Five rows a page, and every page past the first row deferred (keys first)."""
    settings.VIMBADMIN_LIST_PAGE_SIZE = PER_PAGE
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 1)


def shown(client, path: str, **params: object) -> list[str]:
    response = client.get(path, {"domain": "alpha.example", **params})
    assert response.status_code == 200
    return [str(row.record.pk) for row in response.context["table"].paginated_rows]


def pages(count: int) -> range:
    return range(1, (count + PER_PAGE - 1) // PER_PAGE + 1)


def sliced_backwards(client, path: str, **params: object) -> bool:
    """Tell whether the page sliced a list in descending order (its keys from the end)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, {"domain": "alpha.example", **params}).status_code == 200
    return any("DESC LIMIT" in q["sql"] for q in queries)


def mailboxes_in_order(order: str) -> list[str]:
    rows = Mailbox.objects.filter(domain_id="alpha.example").order_by(order)
    return list(rows.values_list("username", flat=True))


def aliases_in_order(order: str) -> list[str]:
    mailboxes = Mailbox.objects.filter(domain_id="alpha.example").values("username")
    rows = (
        Alias.objects.filter(domain_id="alpha.example")
        .exclude(address__in=mailboxes)
        .order_by(order)
    )
    return list(rows.values_list("address", flat=True))


@pytest.fixture
def filled(domain_a):
    """23 mailboxes and 22 other aliases, interleaved in address order."""
    for n in range(23):
        make_mailbox(domain_a, f"m{n:02d}", name="Same Name")
        if n % 3:
            make_alias(domain_a, f"m{n:02d}x")
        make_alias(domain_a, f"a{n:02d}")
    return domain_a


@pytest.mark.parametrize("order", ["username", "-username"])
def test_every_mailbox_list_page_shows_the_rows_of_a_plain_offset(client_a, filled, paged, order):
    expected = mailboxes_in_order(order)
    assert len(expected) == 23
    for number in pages(23):
        bottom = (number - 1) * PER_PAGE
        assert (
            shown(client_a, "/mailboxes/", page=number, sort=order)
            == (expected[bottom : bottom + PER_PAGE])
        ), f"page {number}"
    # The last page's keys came from the end: the reversed order, no OFFSET past 20 rows.
    assert sliced_backwards(client_a, "/mailboxes/", page=5, sort=order) == (order == "username")


@pytest.mark.parametrize("order", ["address", "-address"])
def test_every_alias_list_page_shows_the_rows_of_a_plain_offset(client_a, filled, paged, order):
    expected = aliases_in_order(order)
    assert len(expected) == 38
    for number in pages(38):
        bottom = (number - 1) * PER_PAGE
        assert (
            shown(client_a, "/aliases/", page=number, sort=order)
            == (expected[bottom : bottom + PER_PAGE])
        ), f"page {number}"
    assert sliced_backwards(client_a, "/aliases/", page=8, sort=order) == (order == "address")


def test_a_sort_without_a_unique_key_reads_from_the_start(client_a, filled, paged):
    # Every name is the same: rows of equal names may come in any order in either direction.
    assert len(shown(client_a, "/mailboxes/", page=5, sort="name")) == 3
    assert not sliced_backwards(client_a, "/mailboxes/", page=5, sort="name")


def test_a_search_reads_its_last_page_from_the_end_too(client_a, filled, paged):
    expected = [u for u in mailboxes_in_order("-username") if u.startswith("m1")]
    assert len(expected) == 10
    assert shown(client_a, "/mailboxes/", q="m1", sort="-username", page=2) == expected[5:]


def other_tool_deletes_mailbox(username: str) -> None:
    """Delete a mailbox and its own alias row the way another tool would (no domain counters)."""
    Mailbox.objects.filter(pk=username).delete()
    Alias.objects.filter(pk=username).delete()


def other_tool_adds_alias(domain, local: str) -> None:
    now = timezone.now()
    address = f"{local}@{domain.domain}"
    Alias.objects.create(
        address=address, goto="x@elsewhere.example", domain=domain, created=now, modified=now
    )


def test_a_counted_total_too_low_still_shows_the_true_last_rows(client_a, filled, paged):
    # Four mailboxes from another tool, two of them sorting last: the counted total says 23 of 27.
    for local in ("m005", "m105", "zz1", "zz2"):
        other_tool_adds_mailbox(filled, local, 0)
    expected = mailboxes_in_order("username")
    assert len(expected) == 27
    response = client_a.get("/mailboxes/", {"domain": "alpha.example"})
    assert response.context["table"].paginator.count == 23
    # From the start up to the middle; past it shifted by the four rows the total misses.
    for number in pages(23):
        rows = shown(client_a, "/mailboxes/", page=number)
        bottom = (number - 1) * PER_PAGE
        shift = 4 if number >= 3 else 0
        stop = len(expected) if number == 5 else bottom + shift + PER_PAGE
        assert rows == expected[bottom + shift : stop], f"page {number}"
    assert shown(client_a, "/mailboxes/", page=5)[-2:] == [
        "zz1@alpha.example",
        "zz2@alpha.example",
    ]


def test_a_counted_total_too_high_shows_no_empty_page(client_a, filled, paged):
    # Six mailboxes deleted by another tool: the counted total says 23 of 17.
    for n in (1, 4, 9, 15, 21, 22):
        other_tool_deletes_mailbox(f"m{n:02d}@alpha.example")
    expected = mailboxes_in_order("username")
    assert len(expected) == 17
    for number in pages(23):
        rows = shown(client_a, "/mailboxes/", page=number)
        assert rows, f"page {number} is empty"
        assert all(row in expected for row in rows)
    # The last page ends with the true last rows, however many pages the total promised.
    assert shown(client_a, "/mailboxes/", page=5) == expected[-3:]


def test_alias_pages_with_a_counted_total_off_either_way(client_a, filled, paged):
    for local in ("zz1", "zz2", "zz3"):
        other_tool_adds_alias(filled, local)
    expected = aliases_in_order("address")
    assert len(expected) == 41
    last = shown(client_a, "/aliases/", page=8)
    assert last == expected[-len(last) :]
    assert last[-3:] == ["zz1@alpha.example", "zz2@alpha.example", "zz3@alpha.example"]
    Alias.objects.filter(address__in=expected[-12:]).delete()
    expected = aliases_in_order("address")
    assert len(expected) == 29
    for number in pages(38):
        rows = shown(client_a, "/aliases/", page=number)
        assert rows, f"page {number} is empty"
        assert all(row in expected for row in rows)
    assert shown(client_a, "/aliases/", page=8) == expected[-3:]
