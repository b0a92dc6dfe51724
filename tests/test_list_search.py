"""Search results of the mailbox and alias lists: exact, in the table's order, on every page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import core.listing.pagination
import core.listing.search
from aliases.models import Alias
from mailboxes.models import Mailbox
from pfa.derived.indexes import SEARCH_INDEXES
from tests.factories import make_admin, make_alias, make_mailbox

pytestmark = pytest.mark.django_db


def usernames(response) -> list[str]:
    assert response.status_code == 200
    return [row.record.username for row in response.context["table"].paginated_rows]


def addresses(response) -> list[str]:
    assert response.status_code == 200
    return [row.record.address for row in response.context["table"].paginated_rows]


def test_mailbox_search_pages_follow_the_chosen_sort(client_a, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    for local, name in (
        ("zoe.b", "Zoe Brandt"),
        ("anna.z", "Anna Zoellner"),
        ("carl", "Carl Mayer"),
        ("mia.zoe", "Mia"),
        ("ben", "Ben ZOE Kurz"),
    ):
        make_mailbox(domain_a, local, name=name)
    # "zoe" is in four addresses or names, in any case; "carl" does not match.
    first = client_a.get("/mailboxes/", {"q": "zoe"})
    assert first.context["table"].paginator.count == 4
    assert usernames(first) == [
        "anna.z@alpha.example",
        "ben@alpha.example",
        "mia.zoe@alpha.example",
    ]
    assert usernames(client_a.get("/mailboxes/", {"q": "zoe", "page": 2})) == [
        "zoe.b@alpha.example"
    ]
    assert usernames(client_a.get("/mailboxes/", {"q": "ZOE", "sort": "-username"})) == [
        "zoe.b@alpha.example",
        "mia.zoe@alpha.example",
        "ben@alpha.example",
    ]
    assert usernames(client_a.get("/mailboxes/", {"q": "zoe", "sort": "name"})) == [
        "anna.z@alpha.example",
        "ben@alpha.example",
        "mia.zoe@alpha.example",
    ]


def test_a_deep_search_page_fetched_by_keys_first_keeps_the_order(
    client_a, domain_a, settings, monkeypatch
):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 0)
    for n in (5, 3, 1, 4, 2):
        make_mailbox(domain_a, f"hit{n}")
        make_alias(domain_a, f"list{n}", [f"hit{n}@alpha.example"])
    make_mailbox(domain_a, "other")
    assert usernames(client_a.get("/mailboxes/", {"q": "hit", "page": 2})) == [
        "hit3@alpha.example",
        "hit4@alpha.example",
    ]
    assert usernames(client_a.get("/mailboxes/", {"q": "hit", "page": 3})) == ["hit5@alpha.example"]
    assert addresses(client_a.get("/aliases/", {"q": "hit", "page": 2, "sort": "-address"})) == [
        "list3@alpha.example",
        "list2@alpha.example",
    ]


def test_alias_search_matches_address_or_destination_and_hides_mailbox_rows(client_a, domain_a):
    make_mailbox(domain_a, "sales.lead")
    make_alias(domain_a, "sales", ["x@elsewhere.example"])
    make_alias(domain_a, "team", ["sales.lead@alpha.example", "y@elsewhere.example"])
    make_alias(domain_a, "info", ["z@elsewhere.example"])
    response = client_a.get("/aliases/", {"q": "sales"})
    assert response.context["table"].paginator.count == 2
    assert addresses(response) == ["sales@alpha.example", "team@alpha.example"]
    shown = client_a.get("/aliases/", {"q": "sales", "show_mailbox_aliases": "1"})
    # sales.lead@ and sales@ sort differently in C and in natural-language collations.
    assert sorted(addresses(shown)) == [
        "sales.lead@alpha.example",
        "sales@alpha.example",
        "team@alpha.example",
    ]
    # The mailbox's own row links to the mailbox, not to an alias form.
    assert 'href="/mailboxes/sales.lead@alpha.example/"' in shown.content.decode()


def _page_sql(client, url: str, params: dict[str, str]) -> str:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return "\n".join(q["sql"] for q in queries if "LIMIT" in q["sql"] and "ORDER BY" in q["sql"])


def test_postgresql_sorts_matches_after_matching_and_a_list_along_the_index(client_a, domain_a):
    for n in range(3):
        make_mailbox(domain_a, f"hit{n}")
    sorted_after = "|| '')"
    sql = _page_sql(client_a, "/mailboxes/", {"q": "hit"})
    assert (sorted_after in sql) == (connection.vendor == "postgresql")
    # A list without a search keeps its ORDER BY.
    assert sorted_after not in _page_sql(client_a, "/mailboxes/", {})


@pytest.mark.parametrize("path", ["/mailboxes/", "/aliases/"])
def test_a_search_past_the_limit_shows_that_many_matches_in_order_and_says_so(
    client_a, domain_a, monkeypatch, settings, path
):
    for n in range(5):
        make_mailbox(domain_a, f"hit{n}")
        make_alias(domain_a, f"hitlist{n}")
    response = client_a.get(path, {"q": "hit"})
    assert "matches:" not in response.content.decode()
    monkeypatch.setattr(core.listing.search, "SEARCH_RESULTS_LIMIT", 3)
    response = client_a.get(path, {"q": "hit"})
    html = response.content.decode()
    assert "More than 3 matches: 3 of them are shown, in order." in html
    assert response.context["table"].paginator.count == 3
    shown = [str(row.record.pk) for row in response.context["table"].paginated_rows]
    assert len(shown) == 3
    assert shown == sorted(shown)
    assert all("hit" in key for key in shown)
    # The same rows when the pages fetch their keys first (deep pages), two per page.
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 0)
    paged = []
    for number in (1, 2):
        page = client_a.get(path, {"q": "hit", "page": number})
        paged += [str(row.record.pk) for row in page.context["table"].paginated_rows]
    assert paged == shown


def other_tool_adds(domain, locals_: list[str]) -> None:
    """Mailboxes with their own alias rows, written in bulk as Postfix Admin's scripts would."""
    Mailbox.objects.bulk_create(
        Mailbox(
            username=f"{local}@{domain.domain}",
            local_part=local,
            domain=domain,
            maildir=f"{domain.domain}/{local}/",
        )
        for local in locals_
    )
    Alias.objects.bulk_create(
        Alias(address=f"{local}@{domain.domain}", goto=f"{local}@{domain.domain}", domain=domain)
        for local in locals_
    )


def _count_sql(client, url: str, params: dict[str, str]) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    # The query that counts the matches (on PostgreSQL it reads their keys), up to the limit;
    # MariaDB with its search tables (pfa.derived.search_grams) verifies candidates instead: none.
    limit = f"LIMIT {core.listing.search.SEARCH_RESULTS_LIMIT + 1}"
    counts = [q["sql"] for q in queries if limit in q["sql"]]
    assert counts or connection.vendor == "mysql"
    return counts[0] if counts else ""


@pytest.mark.parametrize("path", ["/mailboxes/", "/aliases/"])
def test_a_search_finds_the_same_rows_whichever_way_postgresql_is_sent(
    client_a, domain_a, domain_b, path
):
    other_tool_adds(domain_a, [f"user{n:03d}" for n in range(150)])
    other_tool_adds(domain_b, [f"user{n:03d}" for n in range(150)])
    for n in range(3):
        make_mailbox(domain_a, f"zoe{n}")
        make_alias(domain_a, f"zoe-list{n}", [f"zoe{n}@alpha.example"])
    make_mailbox(domain_b, "zoe.b")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE mailbox")
            cursor.execute("ANALYZE alias")
            # Planned as for a big table, where reading all of it costs more than the indexes.
            cursor.execute("SET LOCAL enable_seqscan = off")
    rows = addresses if path == "/aliases/" else usernames
    unindexed = "\"domain\" || '')"

    # A rare word: fewer trigram candidates than rows of the domain.
    params = {"domain": "alpha.example", "q": "zoe"}
    expected = (
        ["zoe-list0@alpha.example", "zoe-list1@alpha.example", "zoe-list2@alpha.example"]
        if path == "/aliases/"
        else ["zoe0@alpha.example", "zoe1@alpha.example", "zoe2@alpha.example"]
    )
    assert rows(client_a.get(path, params)) == expected
    assert (unindexed in _count_sql(client_a, path, params)) == (connection.vendor == "postgresql")
    # The domain admin's own domains, not selected: the same rows.
    assert rows(client_a.get(path, {"q": "zoe"})) == expected
    if connection.vendor == "postgresql":
        # An adopted database without the trigram indexes: no index would find the matches.
        with connection.cursor() as cursor:
            for index in SEARCH_INDEXES:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(index.name)}")
        assert rows(client_a.get(path, params)) == expected
        assert unindexed not in _count_sql(client_a, path, params)

    # A word in every row of the table: the domain's rows are fewer; so is a word too short
    # for a trigram. The planner keeps its own way.
    for word, count in (("example", 153 if path == "/mailboxes/" else 3), ("oe", 3)):
        params = {"domain": "alpha.example", "q": word}
        response = client_a.get(path, params)
        assert response.context["table"].paginator.count == count
        assert unindexed not in _count_sql(client_a, path, params)


@pytest.mark.parametrize("path", ["/mailboxes/", "/aliases/"])
def test_an_admin_of_no_domain_searches_and_finds_nothing(domain_a, path):
    make_mailbox(domain_a, "zoe")
    make_alias(domain_a, "zoe-list")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # the trigram indexes' plan
    client = Client()
    client.force_login(make_admin("nobody@admins.example"))
    response = client.get(path, {"q": "zoe"})
    assert response.status_code == 200
    assert response.context["table"].paginator.count == 0
