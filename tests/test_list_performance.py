"""The cheaper counts of the list pages still show the right numbers and rows."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aliases.models import Alias
from mail.quota import mb_to_bytes
from pfa.models import Log, Quota2
from tests.factories import make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

MB = mb_to_bytes(1)


def table_addresses(response) -> list[str]:
    return [row.record.address for row in response.context["table"].paginated_rows]


def test_alias_list_count_matches_the_aliases_shown_across_pages(client_a, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    for local in ("ann", "bob"):
        make_mailbox(domain_a, local)
    made = sorted(make_alias(domain_a, f"list{n}").address for n in range(5))

    first = client_a.get("/aliases/")
    assert first.status_code == 200
    paginator = first.context["table"].paginator
    assert paginator.count == 5
    assert paginator.num_pages == 3
    shown = []
    for number in range(1, paginator.num_pages + 1):
        shown += table_addresses(client_a.get("/aliases/", {"page": number}))
    # Every alias exactly once, and none of the mailboxes' own rows.
    assert shown == made


def test_alias_list_count_with_a_domain_filter_and_with_mailbox_rows(client_a, domain_a):
    make_mailbox(domain_a, "ann")
    make_alias(domain_a, "sales")
    response = client_a.get("/aliases/", {"domain": "alpha.example"})
    assert response.context["table"].paginator.count == 1
    assert table_addresses(response) == ["sales@alpha.example"]

    shown = client_a.get("/aliases/", {"show_mailbox_aliases": "1"})
    assert shown.context["table"].paginator.count == 2
    assert table_addresses(shown) == ["ann@alpha.example", "sales@alpha.example"]


def test_alias_list_count_of_another_admins_domain_is_zero(client_a, domain_a, domain_b):
    make_alias(domain_b, "hidden")
    response = client_a.get("/aliases/", {"domain": "beta.example"})
    assert response.status_code == 200
    assert response.context["table"].paginator.count == 0
    assert "hidden@beta.example" not in response.content.decode()


def test_alias_list_count_is_postfix_admins_rule_when_a_mailbox_lacks_its_row(client_a, domain_a):
    # Adopted databases may hold a mailbox without its own alias row: the total then follows
    # Postfix Admin's subtraction, while the rows shown stay exact.
    make_mailbox(domain_a, "ann")
    make_alias(domain_a, "sales")
    make_alias(domain_a, "team")
    # Deleted behind the project's back: the domain counters still count the row...
    Alias.objects.filter(address="ann@alpha.example").delete()
    response = client_a.get("/aliases/")
    assert table_addresses(response) == ["sales@alpha.example", "team@alpha.example"]
    assert response.context["table"].paginator.count == 2
    # ... until cron's recount, after which the subtraction is one short and the last page
    # shows the row past the total.
    call_command("domain_counters", stdout=io.StringIO())
    response = client_a.get("/aliases/")
    assert response.context["table"].paginator.count == 1
    assert table_addresses(response) == ["sales@alpha.example", "team@alpha.example"]


def test_domain_list_shows_counts_quota_and_usage(super_client, domain_a):
    make_mailbox(domain_a, "ann", quota_bytes=100 * MB)
    make_mailbox(domain_a, "bob", quota_bytes=50 * MB)
    make_alias(domain_a, "sales")
    make_alias(domain_a, "team")
    make_alias(domain_a, "info")
    Quota2.objects.create(username="ann@alpha.example", bytes=3 * MB, messages=1)
    Quota2.objects.create(username="bob@alpha.example", bytes=2 * MB, messages=1)
    # Usage of a mailbox elsewhere must not be added to this domain.
    Quota2.objects.create(username="zed@beta.example", bytes=7 * MB, messages=1)
    # Dovecot writes quota2 behind the project's back: the list shows it once cron's
    # `domain_counters --usage-only` has read it (the domain's own page counts it live).
    call_command("domain_counters", "--usage-only", stdout=io.StringIO())

    response = super_client.get("/domains/")
    assert response.status_code == 200
    row = next(
        r for r in response.context["table"].paginated_rows if r.record.domain == "alpha.example"
    )
    assert row.get_cell("mailbox_count") == "2 / ∞"
    assert row.get_cell("alias_count") == "3 / ∞"
    assert row.get_cell("quota_allocated") == "150 MB / ∞"
    assert row.record.usage_bytes == 5 * MB
    assert row.get_cell("usage_bytes") in response.content.decode()


def test_domain_list_sorts_by_alias_count(super_client):
    few = make_domain("few.example")
    many = make_domain("many.example")
    make_mailbox(few, "ann")
    make_mailbox(few, "bob")
    make_alias(few, "one")
    for local in ("one", "two", "three"):
        make_alias(many, local)
    response = super_client.get("/domains/", {"sort": "-alias_count"})
    order = [row.record.domain for row in response.context["table"].paginated_rows]
    assert order.index("many.example") < order.index("few.example")
    response = super_client.get("/domains/", {"sort": "alias_count"})
    order = [row.record.domain for row in response.context["table"].paginated_rows]
    assert order.index("few.example") < order.index("many.example")


def test_domain_page_shows_alias_count(super_client, domain_a):
    make_mailbox(domain_a, "ann")
    make_alias(domain_a, "sales")
    response = super_client.get("/domains/alpha.example/")
    assert response.status_code == 200
    assert response.context["alias_count"] == 1


def test_log_of_a_two_domain_admin_shows_both_domains_only(domain_a, domain_b, client):
    other = make_domain("gamma.example")
    admin = make_admin("two@admins.example", domains=[domain_a, domain_b])
    Log.objects.all().delete()
    day = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
    for n, name in enumerate(("alpha.example", "beta.example", other.domain, "")):
        Log.objects.create(
            timestamp=day + datetime.timedelta(hours=n),
            username="x (192.0.2.1)",
            domain=name,
            action="edit_alias",
            data=f"row-of-{name or 'none'}",
        )
    client.force_login(admin)
    response = client.get("/log/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "row-of-alpha.example" in body
    assert "row-of-beta.example" in body
    assert "row-of-gamma.example" not in body
    assert "row-of-none" not in body


@pytest.mark.parametrize("sort", ["address", "-address"])
def test_alias_pages_of_one_domain_are_the_same_by_every_query_path(
    client_a, domain_a, settings, sort
):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    for local in ("ann", "kim", "zed"):
        make_mailbox(domain_a, local)
    made = sorted(
        (make_alias(domain_a, local).address for local in ("aa", "ka", "kz", "mm", "za", "zz")),
        reverse=sort.startswith("-"),
    )
    shown = []
    for number in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            response = client_a.get("/aliases/", {"page": number, "sort": sort})
        shown += table_addresses(response)
        merged = any("m.username IS NULL" in q["sql"] for q in queries.captured_queries)
        listed = any("FROM vimbadmin_alias_listed " in q["sql"] for q in queries.captured_queries)
        # PostgreSQL takes the keys from the merge of the two ordered indexes, MariaDB from the
        # table its triggers keep (a fresh database has it), SQLite from the query's own NOT
        # EXISTS; the rows are the same.
        assert merged == (connection.vendor == "postgresql")
        assert listed == (connection.vendor == "mysql")
    assert shown == made
