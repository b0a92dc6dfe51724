"""The domain counters: exact through the project's writes, recounted for other tools'."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aliases.models import Alias
from aliases.services import alias_delete
from domains import counters
from domains.models import Domain, DomainCounters
from domains.services import domain_purge
from mail.quota import mb_to_bytes
from mailboxes.models import Mailbox
from mailboxes.services import (
    mailbox_create,
    mailbox_purge,
    mailbox_set_forwarding,
    mailbox_update,
)
from pfa.models import Quota2
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox
from tests.support.pfa_tables import other_tool_adds_mailbox
from tests.support.race import needs_row_locks, race, split

pytestmark = pytest.mark.django_db

MB = mb_to_bytes(1)
MIB = 1024 * 1024


def stored(domain: Domain) -> dict[str, int]:
    row = DomainCounters.objects.get(domain_id=domain.pk)
    return {
        "mailboxes": row.mailboxes,
        "alias_rows": row.alias_rows,
        "quota_allocated": row.quota_allocated,
    }


def counted(domain: Domain) -> dict[str, int]:
    values = counters.measure([domain.pk], usage=False)[domain.pk]
    values.pop("usage_bytes")
    return values


def domain_row(client, name: str):
    response = client.get("/domains/")
    assert response.status_code == 200
    return next(r for r in response.context["table"].paginated_rows if r.record.domain == name)


def test_every_write_through_the_project_keeps_the_figures_exact(domain_a):
    ann = make_mailbox(domain_a, "ann", quota_bytes=100 * MB)
    bob = make_mailbox(domain_a, "bob", quota_bytes=0)
    sales = make_alias(domain_a, "sales")
    make_alias(domain_a, "")  # the catch-all
    assert (
        stored(domain_a)
        == counted(domain_a)
        == {
            "mailboxes": 2,
            "alias_rows": 4,
            "quota_allocated": 100 * MB,
        }
    )

    mailbox_update(actor=None, mailbox=ann, name="Ann", quota_bytes=40 * MB)
    mailbox_update(actor=None, mailbox=bob, name="Bob", quota_bytes=10 * MB)
    # A mailbox whose own alias row is gone gets it back with its forwarding.
    Alias.objects.filter(address=bob.username).delete()
    counters.refresh([domain_a.pk])
    mailbox_set_forwarding(actor=None, mailbox=bob, targets=["x@elsewhere.example"], keep_copy=True)
    alias_delete(actor=None, alias=sales)
    mailbox_purge(actor=None, mailbox=ann)
    assert (
        stored(domain_a)
        == counted(domain_a)
        == {
            "mailboxes": 1,
            "alias_rows": 2,
            "quota_allocated": 10 * MB,
        }
    )

    domain_purge(actor=None, domain=domain_a)
    assert not DomainCounters.objects.filter(domain_id="alpha.example").exists()


def test_limits_are_checked_against_the_domain_counters(domain_a):
    domain_a.mailboxes = 2
    domain_a.quota = 300
    domain_a.save()
    make_mailbox(domain_a, "ann", quota_bytes=100 * MB)
    make_mailbox(domain_a, "bob", quota_bytes=150 * MB)
    with pytest.raises(Exception, match="limit of 2 mailboxes"):
        make_mailbox(domain_a, "cid", quota_bytes=10 * MB)
    domain_a.mailboxes = 0
    domain_a.save()
    with pytest.raises(Exception, match="total quota"):
        make_mailbox(domain_a, "cid", quota_bytes=60 * MB)
    assert make_mailbox(domain_a, "cid", quota_bytes=50 * MB).quota == 50 * MB


def test_a_mailbox_create_reads_no_row_of_the_domains_mailboxes(domain_a):
    for n in range(3):
        make_mailbox(domain_a, f"m{n}", quota_bytes=10 * MB)
    domain_a.mailboxes = 100
    domain_a.quota = 1000
    domain_a.save()
    with CaptureQueriesContext(connection) as queries:
        mailbox_create(
            actor=None,
            domain=domain_a,
            local_part="new",
            password="Xy-9!long-enough-pass",
            quota_bytes=10 * MB,
        )
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    # The limits came from the locked counters row: no COUNT or SUM over the domain's mailboxes.
    assert "COUNT(" not in sql
    assert "SUM(" not in sql
    assert stored(domain_a)["mailboxes"] == 4


def test_other_tools_writes_show_after_domain_counters_and_limits_follow(super_client, domain_a):
    make_mailbox(domain_a, "ann", quota_bytes=100 * MB)
    other_tool_adds_mailbox(domain_a, "zed", 25 * MB)
    assert domain_row(super_client, "alpha.example").get_cell("mailbox_count") == "1 / ∞"

    out = io.StringIO()
    call_command("domain_counters", stdout=out)
    assert "Recounted the figures of" in out.getvalue()
    row = domain_row(super_client, "alpha.example")
    assert row.get_cell("mailbox_count") == "2 / ∞"
    assert row.get_cell("quota_allocated") == "125 MB / ∞"

    domain_a.mailboxes = 2
    domain_a.save()
    with pytest.raises(Exception, match="limit of 2 mailboxes"):
        make_mailbox(domain_a, "bob")


def test_usage_is_read_by_domain_counters_and_live_on_the_domain_page(super_client, domain_a):
    ann = make_mailbox(domain_a, "ann")
    Quota2.objects.create(username=ann.username, bytes=7 * MIB, messages=3)
    assert domain_row(super_client, "alpha.example").record.usage_bytes == 0
    # The domain's own page counts live.
    detail = super_client.get("/domains/alpha.example/")
    assert detail.context["usage"] == "7.2 MB"

    call_command("domain_counters", "--usage-only", "alpha.example", stdout=io.StringIO())
    row = domain_row(super_client, "alpha.example")
    assert row.record.usage_bytes == 7 * MIB
    assert row.get_cell("usage_bytes") == "7.2 MB"
    Quota2.objects.filter(username=ann.username).delete()
    call_command("domain_counters", "--usage-only", stdout=io.StringIO())
    assert domain_row(super_client, "alpha.example").record.usage_bytes == 0


def test_a_domain_from_another_tool_is_counted_live_then_stored(super_client):
    now = timezone.now()
    Domain.objects.create(domain="raw.example", created=now, modified=now)
    other_tool_adds_mailbox(Domain.objects.get(pk="raw.example"), "ann", 5 * MB)
    assert not DomainCounters.objects.filter(domain_id="raw.example").exists()
    row = domain_row(super_client, "raw.example")
    assert row.get_cell("mailbox_count") == "1 / ∞"
    assert row.get_cell("alias_count") == "0 / ∞"
    assert stored(Domain.objects.get(pk="raw.example")) == {
        "mailboxes": 1,
        "alias_rows": 1,
        "quota_allocated": 5 * MB,
    }


def test_full_recount_drops_rows_of_domains_deleted_elsewhere(domain_a, domain_b):
    make_mailbox(domain_b, "ann")
    Mailbox.objects.filter(domain_id=domain_b.pk).delete()
    Alias.objects.filter(domain_id=domain_b.pk).delete()
    Domain.objects.filter(pk=domain_b.pk).delete()
    assert DomainCounters.objects.filter(domain_id="beta.example").exists()
    call_command("domain_counters", stdout=io.StringIO())
    assert not DomainCounters.objects.filter(domain_id="beta.example").exists()
    assert DomainCounters.objects.filter(domain_id="alpha.example").exists()


def test_domain_counters_refuses_unknown_or_invalid_domains(domain_a):
    with pytest.raises(CommandError, match="no such domain"):
        call_command("domain_counters", "nowhere.example", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a valid domain name"):
        call_command("domain_counters", "bad..name", stdout=io.StringIO())


def test_the_old_command_name_recounts_for_one_release_with_a_note(domain_a):
    make_mailbox(domain_a, "ann")
    other_tool_adds_mailbox(domain_a, "raw", 0)
    assert stored(domain_a) != counted(domain_a)
    out, err = io.StringIO(), io.StringIO()
    call_command("domain_stats", stdout=out, stderr=err)
    assert "`domain_stats` is deprecated" in err.getvalue()
    assert "manage.py domain_counters" in err.getvalue()
    assert out.getvalue().startswith("Recounted the figures of ")
    assert stored(domain_a) == counted(domain_a)


def test_refresh_stamps_the_time_of_the_count(domain_a):
    make_mailbox(domain_a, "ann")
    old = timezone.now() - datetime.timedelta(days=1)
    DomainCounters.objects.filter(domain_id=domain_a.pk).update(counted=old, usage_counted=old)
    counters.refresh([domain_a.pk], counts=False)
    row = DomainCounters.objects.get(domain_id=domain_a.pk)
    assert row.counted == old
    assert row.usage_counted > old
    counters.refresh([domain_a.pk])
    assert DomainCounters.objects.get(domain_id=domain_a.pk).counted > old


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
@pytest.mark.usefixtures("pfa_cleanup")
def test_a_recount_racing_creates_and_deletes_loses_none_of_them(round_):
    domain = make_domain("race.example")
    admin = make_admin("admin@race.example", domains=[domain])
    doomed = make_mailbox(domain, "doomed", quota_bytes=5 * MB)
    make_mailbox(domain, "kept", quota_bytes=5 * MB)
    outcomes = race(
        [
            lambda: mailbox_create(
                actor=admin,
                domain=domain,
                local_part="left",
                password=PASSWORD,
                quota_bytes=10 * MB,
            ),
            lambda: counters.refresh([domain.pk]),
            lambda: mailbox_purge(actor=admin, mailbox=doomed),
            lambda: counters.refresh([domain.pk]),
            lambda: make_alias(domain, "sales"),
        ]
    )
    split(outcomes)
    assert (
        stored(domain)
        == counted(domain)
        == {
            "mailboxes": 2,
            "alias_rows": 3,
            "quota_allocated": 15 * MB,
        }
    )


def test_list_totals_come_from_the_domain_counters_and_no_row_is_lost(client_a, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    for local in ("ann", "bob", "cid"):
        make_mailbox(domain_a, local)
    with CaptureQueriesContext(connection) as queries:
        response = client_a.get("/mailboxes/", {"domain": "alpha.example"})
    assert response.context["table"].paginator.count == 3
    # The total is the counted figure: no COUNT over the domain's mailbox rows.
    assert not any(
        "COUNT(" in q["sql"].upper() and "mailbox" in q["sql"].lower() and "stats" not in q["sql"]
        for q in queries.captured_queries
    )
    # Two mailboxes added by another tool: until the recount the total is two short, and the
    # last page reaches past it, so every mailbox can still be opened.
    other_tool_adds_mailbox(domain_a, "dan", 0)
    other_tool_adds_mailbox(domain_a, "eve", 0)
    last = client_a.get("/mailboxes/", {"domain": "alpha.example", "page": 2})
    shown = [row.record.username for row in last.context["table"].paginated_rows]
    assert shown == ["cid@alpha.example", "dan@alpha.example", "eve@alpha.example"]
    call_command("domain_counters", stdout=io.StringIO())
    assert client_a.get("/mailboxes/").context["table"].paginator.count == 5


def test_a_domain_admin_selecting_another_domain_sees_nothing(client_a, domain_a, domain_b):
    make_mailbox(domain_b, "hidden")
    make_alias(domain_b, "secret")
    for path in ("/mailboxes/", "/aliases/"):
        response = client_a.get(path, {"domain": "beta.example"})
        assert response.status_code == 200
        assert "beta.example" not in "".join(
            str(row.record.pk) for row in response.context["table"].paginated_rows
        )
        assert response.context["table"].paginator.count == 0


def test_the_domain_list_says_since_when_its_usage_is(super_client, domain_a):
    make_mailbox(domain_a, "ann")
    when = timezone.now() - datetime.timedelta(hours=3)
    DomainCounters.objects.filter(domain_id=domain_a.pk).update(usage_counted=when)
    response = super_client.get("/domains/")
    shown = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
    text = response.content.decode()
    assert f"Usage: last recount {shown}" in text
    assert "manage.py domain_counters</code> recounts it" in text


def test_the_domain_list_says_when_usage_was_never_recounted(super_client):
    response = super_client.get("/domains/")
    assert "Usage: last recount — (never; run <code>manage.py domain_counters</code>" in (
        response.content.decode()
    )
