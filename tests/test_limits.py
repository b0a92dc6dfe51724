"""Domain limits: who is held to them, Postfix Admin's counting rule, the race for the last slot.

The race tests use two real database connections (one per thread). They prove that the row lock
taken by the services (domains.guards.lock_domain) makes the second request wait for the first
and then see its row, so that two requests can never both take the last free slot.
"""

from __future__ import annotations

import html
import time
from typing import Any

import pytest
from django.db import connection, transaction

from aliases.models import Alias
from aliases.services import alias_count, alias_create
from domains.guards import lock_domain
from domains.models import Domain
from domains.services import domain_update
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_create
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox
from tests.support.race import finish_race, needs_row_locks, race, split, start_race

MAILBOX_HINT = ": ask your provider (a super admin) to raise it, or purge a mailbox."
ALIAS_HINT = ": ask your provider (a super admin) to raise it, or delete an alias."


def page(response) -> str:
    return html.unescape(response.content.decode())


def mailbox_data(local: str, **overrides: str) -> dict[str, str]:
    data = {
        "domain": "alpha.example",
        "local_part": local,
        "name": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": "10",
    }
    data.update(overrides)
    return data


def set_limits(domain: Domain, **limits: int) -> Domain:
    values: dict[str, Any] = {
        "description": domain.description,
        "aliases": domain.aliases,
        "mailboxes": domain.mailboxes,
        "maxquota": domain.maxquota,
        "quota": domain.quota,
        "default_mailbox_quota": 10,
        "transport": domain.transport or "virtual",
        "backupmx": domain.backupmx,
        "active": domain.active,
    }
    values.update(limits)
    return domain_update(actor=None, domain=domain, **values)


# Who is held to which limit (through the web pages) ----------------------------------------


@pytest.mark.django_db
def test_domain_admin_is_held_to_max_mailboxes(client_a, domain_a):
    set_limits(domain_a, mailboxes=2)
    assert client_a.post("/mailboxes/new/", mailbox_data("one")).status_code == 302
    assert client_a.post("/mailboxes/new/", mailbox_data("two")).status_code == 302
    # A domain admin's override box does not exist; posting it changes nothing.
    response = client_a.post("/mailboxes/new/", mailbox_data("three", override_limits="on"))
    assert response.status_code == 200
    assert response.context["form"].errors["domain"] == [
        "The domain has reached its limit of 2 mailboxes" + MAILBOX_HINT
    ]
    assert "The domain has reached its limit of 2 mailboxes" + MAILBOX_HINT in page(response)
    assert Mailbox.objects.filter(domain_id="alpha.example").count() == 2


@pytest.mark.django_db
def test_zero_means_unlimited_and_minus_one_disabled(client_a, domain_a):
    set_limits(domain_a, mailboxes=0, aliases=0)
    for i in range(12):
        make_mailbox(domain_a, f"m{i}", check_policy=False)
        make_alias(domain_a, f"a{i}")
    assert client_a.post("/mailboxes/new/", mailbox_data("more")).status_code == 302

    set_limits(Domain.objects.get(pk="alpha.example"), mailboxes=-1, aliases=-1)
    response = client_a.post("/mailboxes/new/", mailbox_data("none"))
    assert "This domain may not have mailboxes." in page(response)
    response = client_a.post(
        "/aliases/new/", {"domain": "alpha.example", "local_part": "x", "targets": "a@x.example"}
    )
    assert "This domain may not have aliases." in page(response)


@pytest.mark.django_db
def test_alias_limit_counts_alias_rows_minus_mailbox_rows(client_a, domain_a):
    set_limits(domain_a, aliases=2)
    for local in ("m1", "m2", "m3"):
        make_mailbox(domain_a, local)
    # Three own alias rows exist, yet no alias counts yet (Postfix Admin's rule).
    assert alias_count(domain_a) == 0
    for local in ("a1", "a2"):
        response = client_a.post(
            "/aliases/new/",
            {"domain": "alpha.example", "local_part": local, "targets": "m1@alpha.example"},
        )
        assert response.status_code == 302
    response = client_a.post(
        "/aliases/new/",
        {"domain": "alpha.example", "local_part": "a3", "targets": "m1@alpha.example"},
    )
    assert response.status_code == 200
    assert "The domain has reached its limit of 2 aliases" + ALIAS_HINT in page(response)
    assert alias_count(domain_a) == 2
    # Mailboxes still fit: their own alias rows are not aliases for the limit.
    assert client_a.post("/mailboxes/new/", mailbox_data("m4")).status_code == 302


@pytest.mark.django_db
def test_max_quota_per_mailbox(client_a, domain_a, settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = 1024000
    set_limits(domain_a, maxquota=100)
    response = client_a.post("/mailboxes/new/", mailbox_data("big", quota="101"))
    assert response.context["form"].errors["quota"] == [
        "The quota is too high: the most is 100 MB per mailbox."
    ]
    response = client_a.post("/mailboxes/new/", mailbox_data("big", quota="0"))
    assert "Unlimited is not allowed here" in response.context["form"].errors["quota"][0]
    assert client_a.post("/mailboxes/new/", mailbox_data("ok", quota="100")).status_code == 302
    response = client_a.post(
        "/mailboxes/ok@alpha.example/edit/", {"name": "", "quota": "1G", "email_other": ""}
    )
    assert "The quota is too high" in response.context["form"].errors["quota"][0]
    assert Mailbox.objects.get(pk="ok@alpha.example").quota == 100 * 1024000


@pytest.mark.django_db
def test_total_domain_quota(client_a, domain_a, settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = 1024000
    set_limits(domain_a, quota=250)
    assert client_a.post("/mailboxes/new/", mailbox_data("a", quota="200")).status_code == 302
    response = client_a.post("/mailboxes/new/", mailbox_data("b", quota="100"))
    assert response.context["form"].errors["quota"] == [
        "The domain's total quota of 250 MB would be exceeded (50 MB left)."
    ]
    assert client_a.post("/mailboxes/new/", mailbox_data("b", quota="50")).status_code == 302
    # Raising an existing mailbox is held to the same total (its own share excluded).
    response = client_a.post(
        "/mailboxes/a@alpha.example/edit/", {"name": "", "quota": "201", "email_other": ""}
    )
    assert "would be exceeded" in response.context["form"].errors["quota"][0]
    response = client_a.post(
        "/mailboxes/a@alpha.example/edit/", {"name": "", "quota": "150", "email_other": ""}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_super_admin_exceeds_limits_only_with_the_override(super_client, domain_a, settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = 1024000
    set_limits(domain_a, mailboxes=1, aliases=1, maxquota=100, quota=100)
    make_mailbox(domain_a, "first", quota_bytes=100 * 1024000)
    make_alias(domain_a, "first-alias")

    response = super_client.post("/mailboxes/new/", mailbox_data("second", quota="500"))
    assert response.status_code == 200
    assert "The domain has reached its limit of 1 mailbox" + MAILBOX_HINT in page(response)
    response = super_client.post(
        "/mailboxes/new/", mailbox_data("second", quota="500", override_limits="on")
    )
    assert response.status_code == 302
    assert Mailbox.objects.get(pk="second@alpha.example").quota == 500 * 1024000

    alias = {"domain": "alpha.example", "local_part": "more", "targets": "a@x.example"}
    response = super_client.post("/aliases/new/", alias)
    assert "The domain has reached its limit of 1 alias" + ALIAS_HINT in page(response)
    response = super_client.post("/aliases/new/", {**alias, "override_limits": "on"})
    assert response.status_code == 302

    edit = "/mailboxes/first@alpha.example/edit/"
    response = super_client.post(edit, {"name": "", "quota": "2G", "email_other": ""})
    assert "The quota is too high" in page(response)
    response = super_client.post(
        edit, {"name": "", "quota": "2G", "email_other": "", "override_limits": "on"}
    )
    assert response.status_code == 302
    assert Mailbox.objects.get(pk="first@alpha.example").quota == 2 * 1024 * 1024000


# The race for the last slot (two real connections) ----------------------------------------


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_two_connections_cannot_both_take_the_last_mailbox_slot(pfa_cleanup, round_):
    domain = make_domain("race.example", mailboxes=2)
    admin = make_admin("admin@race.example", domains=[domain])
    make_mailbox(domain, "existing")

    outcomes = race(
        [
            lambda: mailbox_create(
                actor=admin, domain=domain, local_part="left", password=PASSWORD
            ),
            lambda: mailbox_create(
                actor=admin, domain=domain, local_part="right", password=PASSWORD
            ),
        ]
    )
    created, refused = split(outcomes)
    assert len(created) == 1
    assert len(refused) == 1
    assert refused[0].messages == ["The domain has reached its limit of 2 mailboxes" + MAILBOX_HINT]
    assert Mailbox.objects.filter(domain_id="race.example").count() == 2
    # The loser left nothing behind: no mailbox row, no own alias row.
    assert Alias.objects.filter(domain_id="race.example").count() == 2


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_two_connections_cannot_both_take_the_last_alias_slot(pfa_cleanup, round_):
    domain = make_domain("race.example", aliases=2)
    admin = make_admin("admin@race.example", domains=[domain])
    make_mailbox(domain, "box")
    make_alias(domain, "existing", ["box@race.example"])

    outcomes = race(
        [
            lambda: alias_create(
                actor=admin, domain=domain, local_part="left", targets=["box@race.example"]
            ),
            lambda: alias_create(
                actor=admin, domain=domain, local_part="right", targets=["box@race.example"]
            ),
        ]
    )
    created, refused = split(outcomes)
    assert len(created) == 1
    assert len(refused) == 1
    assert refused[0].messages == ["The domain has reached its limit of 2 aliases" + ALIAS_HINT]
    assert alias_count(domain) == 2


def waiting_on_locks() -> int:
    """Count the other connections now waiting for a row lock (a live view, not a snapshot)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks"
                " WHERE NOT granted AND pid <> pg_backend_pid()"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
            )
        return int(cursor.fetchone()[0])


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_both_requests_queue_on_the_domain_row_lock(pfa_cleanup):
    """Hold the domain lock while both requests start: both must wait, then run one by one."""
    domain = make_domain("race.example", mailboxes=2)
    admin = make_admin("admin@race.example", domains=[domain])
    make_mailbox(domain, "existing")
    calls = [
        lambda: mailbox_create(actor=admin, domain=domain, local_part="left", password=PASSWORD),
        lambda: mailbox_create(actor=admin, domain=domain, local_part="right", password=PASSWORD),
    ]
    with transaction.atomic():
        lock_domain(domain)
        # The lock is taken before the threads exist, so both must run into it.
        threads, outcomes = start_race(calls)
        deadline = time.monotonic() + 30
        waiting = waiting_on_locks()
        while waiting < 2 and time.monotonic() < deadline:
            # InnoDB refreshes information_schema.innodb_trx only when it was last read over
            # 0.1 s ago: polling faster than that would read the same stale answer forever.
            time.sleep(0.25)
            waiting = waiting_on_locks()
        # Nothing was written while the lock was held.
        assert Mailbox.objects.filter(domain_id="race.example").count() == 1
    outcomes = finish_race(threads, outcomes)
    assert waiting == 2
    created, refused = split(outcomes)
    assert (len(created), len(refused)) == (1, 1)
    assert Mailbox.objects.filter(domain_id="race.example").count() == 2
