"""Brute-force limits that an attacker cannot turn against the real user, atomic and bounded.

Time passes in these tests by moving the recorded moments back (`age()`), never by sleeping.
"""

from __future__ import annotations

import datetime
import io
import logging

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts.models import Admin, AuthEvent, ThrottleCounter
from mail import passwords
from mail.email import wait_for_background
from tests.factories import PASSWORD, make_admin, make_domain, make_mailbox
from tests.support.mailtools import mail_sent
from tests.support.race import race

ADMIN_LOGIN = "/accounts/login/"
OWNER_LOGIN = "/me/login/"
WRONG = "The e-mail address or the password is not correct."
LOCKED = "Too many failed attempts; try again in"
USUAL = "192.0.2.10"


def admin_login(client: Client, username: str, password: str, address: str):
    return client.post(
        ADMIN_LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def owner_login(client: Client, address: str, password: str, client_address: str):
    return client.post(
        OWNER_LOGIN, {"address": address, "password": password}, REMOTE_ADDR=client_address
    )


def logged_in(client: Client) -> bool:
    return client.get("/accounts/password/").status_code == 200


def age(seconds: float) -> None:
    """Let `seconds` pass for every counter."""
    delta = datetime.timedelta(seconds=seconds)
    ThrottleCounter.objects.filter(last_failure__isnull=False).update(
        last_failure=F("last_failure") - delta
    )
    ThrottleCounter.objects.filter(last_success__isnull=False).update(
        last_success=F("last_success") - delta
    )


def counted(kind: str, **filters: str) -> int:
    rows = AuthEvent.objects.filter(kind=kind, **filters)
    return sum(rows.values_list("count", flat=True))


@pytest.fixture
def limits(settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS = 900
    settings.VIMBADMIN_LOGIN_SLOWDOWN_SECONDS = 30
    settings.VIMBADMIN_LOGIN_KNOWN_ADDRESS_DAYS = 30
    return settings


@pytest.fixture
def usual_admin(admin_a, limits) -> Admin:
    # The admin has logged in from their usual address before.
    assert admin_login(Client(), admin_a.pk, PASSWORD, USUAL).status_code == 302
    return admin_a


# --------------------------------------------------------------------------------------------
# M2: nobody elsewhere can lock the real user out


def test_failures_from_elsewhere_never_lock_the_usual_address_out(usual_admin):
    attacker = Client()
    for _ in range(3):
        page = admin_login(attacker, usual_admin.pk, "guess-123456", "203.0.113.11")
        assert WRONG in page.content.decode()
    # The attacker's own address is locked for this account, even with the right password.
    page = admin_login(attacker, usual_admin.pk, PASSWORD, "203.0.113.11").content.decode()
    assert f"{LOCKED} 15 minutes." in page
    # A botnet spreading guesses over many addresses does not lock the real user out either.
    for n in range(12, 40):
        admin_login(Client(), usual_admin.pk, "guess-123456", f"203.0.113.{n}")
    client = Client()
    assert admin_login(client, usual_admin.pk, PASSWORD, USUAL).status_code == 302
    assert logged_in(client)


def test_unknown_addresses_wait_longer_after_each_failure(usual_admin):
    for n in range(3):
        page = admin_login(Client(), usual_admin.pk, "guess-123456", f"203.0.113.{n}")
        assert WRONG in page.content.decode()
    # From a fourth unknown address the password is not even checked for 30 s.
    client = Client()
    page = admin_login(client, usual_admin.pk, PASSWORD, "198.51.100.7").content.decode()
    assert f"{LOCKED} 1 minute." in page
    assert not logged_in(client)
    assert counted(AuthEvent.Kind.LOGIN_FAILED) == 3
    age(31)
    page = admin_login(Client(), usual_admin.pk, "guess-123456", "203.0.113.50")
    assert WRONG in page.content.decode()
    # Now 60 s after that failure.
    age(31)
    page = admin_login(Client(), usual_admin.pk, "guess-123456", "203.0.113.51")
    assert f"{LOCKED} 1 minute." in page.content.decode()
    age(30)
    page = admin_login(Client(), usual_admin.pk, "guess-123456", "203.0.113.52")
    assert WRONG in page.content.decode()
    page = admin_login(Client(), usual_admin.pk, "guess-123456", "203.0.113.53")
    assert f"{LOCKED} 2 minutes." in page.content.decode()
    # Meanwhile the usual address logs in at once, and the right password from a new address
    # gets in once its wait is over.
    assert admin_login(Client(), usual_admin.pk, PASSWORD, USUAL).status_code == 302
    age(121)
    client = Client()
    assert admin_login(client, usual_admin.pk, PASSWORD, "198.51.100.7").status_code == 302
    assert logged_in(client)


def test_the_growing_wait_stops_at_the_lockout(admin_a, limits):
    limits.VIMBADMIN_LOGIN_FAILURE_LIMIT = 1
    limits.VIMBADMIN_LOGIN_SLOWDOWN_SECONDS = 600
    admin_login(Client(), admin_a.pk, "guess-123456", "203.0.113.1")
    page = admin_login(Client(), admin_a.pk, "guess-123456", "203.0.113.2").content.decode()
    assert f"{LOCKED} 10 minutes." in page
    age(601)
    assert WRONG in admin_login(Client(), admin_a.pk, "x-guess-1", "203.0.113.3").content.decode()
    page = admin_login(Client(), admin_a.pk, "guess-123456", "203.0.113.4").content.decode()
    assert f"{LOCKED} 15 minutes." in page


def test_the_slowdown_is_forgotten_after_a_quiet_day(admin_a, limits):
    for n in range(3):
        admin_login(Client(), admin_a.pk, "guess-123456", f"203.0.113.{n}")
    assert LOCKED in admin_login(Client(), admin_a.pk, PASSWORD, "198.51.100.1").content.decode()
    age(24 * 3600 + 1)
    for n in range(3):
        page = admin_login(Client(), admin_a.pk, "guess-123456", f"203.0.113.{n + 10}")
        assert WRONG in page.content.decode()


def test_an_address_stops_being_usual_after_the_known_address_days(usual_admin):
    age(31 * 24 * 3600)
    for n in range(3):
        admin_login(Client(), usual_admin.pk, "guess-123456", f"203.0.113.{n}")
    # The last login from USUAL is 31 days old: it waits like any new address now.
    page = admin_login(Client(), usual_admin.pk, PASSWORD, USUAL).content.decode()
    assert f"{LOCKED} 1 minute." in page


def test_a_successful_login_clears_the_failures_of_its_address(admin_a, limits):
    client = Client()
    for _ in range(2):
        admin_login(client, admin_a.pk, "guess-123456", USUAL)
    assert admin_login(client, admin_a.pk, PASSWORD, USUAL).status_code == 302
    client = Client()
    for _ in range(2):
        assert WRONG in admin_login(client, admin_a.pk, "guess-1", USUAL).content.decode()
    assert admin_login(client, admin_a.pk, PASSWORD, USUAL).status_code == 302


def test_one_address_is_still_limited_across_accounts(usual_admin, limits):
    limits.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 4
    for n in range(4):
        admin_login(Client(), f"guess{n}@alpha.example", "x-guess-1", "203.0.113.9")
    page = admin_login(Client(), usual_admin.pk, PASSWORD, "203.0.113.9").content.decode()
    assert f"{LOCKED} 15 minutes." in page
    assert admin_login(Client(), usual_admin.pk, PASSWORD, USUAL).status_code == 302


def test_owners_get_the_same_rules(domain_a, limits):
    owner = make_mailbox(domain_a, "owner", email_other="olive@elsewhere.example")
    assert owner_login(Client(), owner.username, PASSWORD, USUAL).status_code == 302
    for n in range(6):
        owner_login(Client(), owner.username, "guess-123456", f"203.0.113.{n}")
    page = owner_login(Client(), owner.username, PASSWORD, "198.51.100.3").content.decode()
    assert f"{LOCKED} 1 minute." in page
    client = Client()
    assert owner_login(client, owner.username, PASSWORD, USUAL).status_code == 302
    assert client.get("/me/").status_code == 200


# --------------------------------------------------------------------------------------------
# Reset requests: delayed from new addresses, never switched off for the real user


@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_a_flood_of_reset_requests_never_stops_the_real_users_reset(domain_a, limits, realm):
    limits.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    if realm == "admin":
        account = make_admin("boss@alpha.example").pk
        url, field, recipient = "/accounts/password-reset/", "email", account
        assert admin_login(Client(), account, PASSWORD, USUAL).status_code == 302
    else:
        account = make_mailbox(domain_a, "owner", email_other="olive@elsewhere.example").username
        url, field, recipient = "/me/password-reset/", "address", "olive@elsewhere.example"
        assert owner_login(Client(), account, PASSWORD, USUAL).status_code == 302

    def request(address: str) -> None:
        with mail_sent():
            Client().post(url, {field: account}, REMOTE_ADDR=address)

    for n in range(10):
        request(f"203.0.113.{n}")
    assert len(mail.outbox) == 2
    # The real user asks from their usual address: the link is sent.
    request(USUAL)
    assert len(mail.outbox) == 3
    assert mail.outbox[-1].to == [recipient]
    # From a new address the request waits, but it is not refused for ever.
    request("198.51.100.20")
    assert len(mail.outbox) == 3
    age(901)
    request("198.51.100.20")
    assert len(mail.outbox) == 4


# --------------------------------------------------------------------------------------------
# L1: the admin's own password page is throttled like the owner's


def test_the_admins_current_password_is_throttled_like_a_login(
    client_a, admin_a, limits, caplog, monkeypatch
):
    before = Admin.objects.get(pk=admin_a.pk).password
    new = "Fresh-Orbit-Lantern-42"
    with caplog.at_level(logging.INFO, logger="vimbadmin.auth"):
        for n in range(3):
            response = client_a.post(
                "/accounts/password/",
                {"old_password": f"wrong-{n}", "password": new, "password2": new},
            )
            assert "Your current password is wrong." in response.content.decode()
    lines = [r.getMessage() for r in caplog.records if "auth failure" in r.getMessage()]
    assert (
        lines
        == ["vimbadmin auth failure: realm=admin user=admin@alpha.example client=127.0.0.1"] * 3
    )
    assert counted(AuthEvent.Kind.LOGIN_FAILED, realm="admin", username=admin_a.pk) == 3
    checked: list[str] = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords, "verify_password", lambda *a: checked.append("x") or real_verify(*a)
    )
    response = client_a.post(
        "/accounts/password/", {"old_password": PASSWORD, "password": new, "password2": new}
    )
    assert f"{LOCKED} 15 minutes." in response.content.decode()
    assert checked == []
    assert Admin.objects.get(pk=admin_a.pk).password == before


def test_a_right_current_password_changes_it_and_counts_nothing(client_a, admin_a, limits):
    new = "Fresh-Orbit-Lantern-42"
    response = client_a.post(
        "/accounts/password/", {"old_password": PASSWORD, "password": new, "password2": new}
    )
    assert response.status_code == 302
    assert passwords.verify_password(new, Admin.objects.get(pk=admin_a.pk).password)
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED).exists()
    assert not AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN).exists()


# --------------------------------------------------------------------------------------------
# L11: a flood is one counted row


def test_a_flood_against_a_locked_account_is_one_counted_row(admin_a, limits, caplog):
    client = Client()
    for _ in range(3):
        admin_login(client, admin_a.pk, "guess-123456", "203.0.113.7")
    with caplog.at_level(logging.WARNING, logger="vimbadmin.auth"):
        for _ in range(40):
            admin_login(client, admin_a.pk, "guess-123456", "203.0.113.7")
    failed = AuthEvent.objects.get(kind=AuthEvent.Kind.LOGIN_FAILED)
    locked = AuthEvent.objects.get(kind=AuthEvent.Kind.LOCKED_OUT)
    assert (failed.username, failed.client_address, failed.count) == (
        admin_a.pk,
        "203.0.113.7",
        3,
    )
    assert (locked.username, locked.count) == (admin_a.pk, 40)
    assert locked.last_seen >= locked.timestamp
    assert AuthEvent.objects.count() == 2
    assert ThrottleCounter.objects.count() == 3
    assert len([r for r in caplog.records if "auth locked" in r.getMessage()]) == 40


def test_a_flood_from_a_locked_address_is_one_row_whatever_it_types(db, limits, caplog):
    limits.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    for n in range(3):
        admin_login(Client(), f"guess{n}@alpha.example", "x-guess-1", "203.0.113.8")
    counters = ThrottleCounter.objects.count()
    with caplog.at_level(logging.WARNING, logger="vimbadmin.auth"):
        for n in range(30):
            page = admin_login(Client(), f"spray{n}@alpha.example", "x-guess-1", "203.0.113.8")
            assert LOCKED in page.content.decode()
    locked = AuthEvent.objects.get(kind=AuthEvent.Kind.LOCKED_OUT)
    assert (locked.username, locked.client_address, locked.count) == ("", "203.0.113.8", 30)
    assert ThrottleCounter.objects.count() == counters
    # The log line still names what was typed.
    assert "vimbadmin auth locked: realm=admin user=spray29@alpha.example client=203.0.113.8" in (
        caplog.text
    )


def test_events_of_another_hour_start_a_new_row(admin_a, limits):
    admin_login(Client(), admin_a.pk, "guess-123456", "203.0.113.7")
    AuthEvent.objects.update(hour=F("hour") - datetime.timedelta(hours=1))
    admin_login(Client(), admin_a.pk, "guess-123456", "203.0.113.7")
    rows = AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED)
    assert sorted(rows.values_list("count", flat=True)) == [1, 1]


def test_prune_auth_events_deletes_what_is_older_than_the_age(admin_a, limits, settings):
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        admin_login(Client(), "x@alpha.example", "guess-123456", address)
    now = timezone.now()
    AuthEvent.objects.filter(client_address="203.0.113.1").update(
        timestamp=now - datetime.timedelta(days=100), last_seen=now - datetime.timedelta(days=100)
    )
    AuthEvent.objects.filter(client_address="203.0.113.2").update(
        timestamp=now - datetime.timedelta(days=40), last_seen=now - datetime.timedelta(days=40)
    )
    ThrottleCounter.objects.filter(client_address="203.0.113.1").update(
        updated=now - datetime.timedelta(days=100)
    )
    out = io.StringIO()
    call_command("prune_auth_events", stdout=out)
    assert sorted(AuthEvent.objects.values_list("client_address", flat=True)) == [
        "203.0.113.2",
        "203.0.113.3",
    ]
    assert not ThrottleCounter.objects.filter(client_address="203.0.113.1").exists()
    assert (
        "Deleted 1 auth event row(s) and 2 counter row(s) older than 90 day(s)." in out.getvalue()
    )
    call_command("prune_auth_events", "--older-than", "30", stdout=io.StringIO())
    assert list(AuthEvent.objects.values_list("client_address", flat=True)) == ["203.0.113.3"]
    settings.VIMBADMIN_AUTH_EVENT_RETENTION_DAYS = 1
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("prune_auth_events", "--older-than", "0")


# --------------------------------------------------------------------------------------------
# L6: the check and the count are one step


needs_row_locks = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason=(
        "SQLite serialises every write transaction (BEGIN IMMEDIATE), so tries cannot overlap, "
        "and its shared-cache in-memory test database refuses a second writer instead of "
        "queueing it; the row locks are proven on PostgreSQL and MariaDB."
    ),
)


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("realm", ["admin", "mailbox"])
@pytest.mark.parametrize("spread", [False, True], ids=["one-address", "many-addresses"])
def test_a_concurrent_burst_gets_no_more_checks_than_the_limit(
    pfa_cleanup, settings, monkeypatch, realm, spread
):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 5
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 100
    if realm == "admin":
        login = make_admin("target@race.example").pk
        url, field = ADMIN_LOGIN, "username"
    else:
        login = make_mailbox(make_domain("race.example"), "target").username
        url, field = OWNER_LOGIN, "address"
    checked: list[str] = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(
        passwords, "verify_password", lambda *a: checked.append("x") or real_verify(*a)
    )

    def attempt(n: int):
        def run() -> str:
            address = f"203.0.113.{n}" if spread else "203.0.113.200"
            data = {field: login, "password": f"guess-{n}-123456"}
            return Client().post(url, data, REMOTE_ADDR=address).content.decode()

        return run

    pages = race([attempt(n) for n in range(16)])
    errors = [p for p in pages if isinstance(p, Exception)]
    assert not errors, errors
    wrong = [p for p in pages if WRONG in p]
    locked = [p for p in pages if LOCKED in p]
    assert len(checked) == 5
    assert (len(wrong), len(locked)) == (5, 11)
    assert counted(AuthEvent.Kind.LOGIN_FAILED) == 5
    assert counted(AuthEvent.Kind.LOCKED_OUT) == 11


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("spread", [False, True], ids=["one-address", "many-addresses"])
def test_a_concurrent_burst_of_reset_requests_sends_no_more_links_than_the_limit(
    pfa_cleanup, settings, spread
):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 5
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 100
    target = make_admin("target@race.example").pk

    def request(n: int):
        def run() -> int:
            address = f"203.0.113.{n}" if spread else "203.0.113.200"
            data = {"email": target}
            return Client().post("/accounts/password-reset/", data, REMOTE_ADDR=address).status_code

        return run

    assert race([request(n) for n in range(16)]) == [302] * 16
    # Each allowed request queued its link for the background sender when it committed.
    assert wait_for_background(30)
    assert len(mail.outbox) == 5
    assert counted(AuthEvent.Kind.RESET_REQUESTED) == 5


# --------------------------------------------------------------------------------------------
# Migration 0002 keeps the events recorded before it


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_earlier_events_one_row_each(pfa_cleanup):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    try:
        when = "2026-11-01 10:00:00"
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
                cursor.execute(
                    f"INSERT INTO vimbadmin_auth_event ({quote('timestamp')}, realm, kind,"
                    " username, client_address)"
                    " VALUES (%s, 'admin', 'login_failed', 'bob@example.org', %s)",
                    [when, address],
                )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    rows = AuthEvent.objects.order_by("client_address")
    assert [(r.client_address, r.count) for r in rows] == [("203.0.113.1", 2), ("203.0.113.2", 1)]
    assert all(r.hour == r.timestamp == r.last_seen for r in rows)
