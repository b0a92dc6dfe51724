"""The alias list's trigger-maintained table on MariaDB/MySQL: always exact, same pages,
installed only where it may be, and removable."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from aliases.models import Alias
from aliases.services import alias_delete, alias_set_active, alias_update
from domains.models import Domain
from domains.services import domain_purge
from mailboxes.services import mailbox_purge, mailbox_set_forwarding
from pfa.derived import TRIGGER_TABLES, triggers
from pfa.derived.alias_listed import ALIAS_LISTED
from pfa.derived.sync import sync
from pfa.derived.triggers import Trigger
from tests.factories import make_admin, make_alias, make_domain, make_mailbox
from tests.support.race import race

pytestmark = pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="trigger-maintained tables exist on MariaDB/MySQL only (PostgreSQL merges two indexes)",
)

# Postfix Admin's rule for the alias list: every alias row whose address is no mailbox's.
RULE = (
    "SELECT a.domain, a.address FROM alias a"
    " WHERE NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.username = a.address)"
)


def rows(sql: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return set(cursor.fetchall())


def listed_rows() -> set[tuple[str, str]]:
    return rows(f"SELECT domain, address FROM {ALIAS_LISTED.name}")


def assert_exact() -> set[tuple[str, str]]:
    """Assert the table holds exactly the rule's rows, byte for byte; return them."""
    expected = rows(RULE)
    assert listed_rows() == expected
    return expected


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def pfa_creates_mailbox(address: str) -> None:
    """Create a mailbox and its own alias row with the statements Postfix Admin runs."""
    mailbox_row(address)
    pfa_creates_alias(address, address)


def mailbox_row(address: str) -> None:
    local, domain = address.split("@")
    sql(
        "INSERT INTO mailbox (username, password, name, maildir, local_part, quota, domain,"
        " created, modified, active) VALUES (%s, '{PLAIN}x', '', %s, %s, 0, %s, NOW(), NOW(), 1)",
        address,
        f"{domain}/{local}/",
        local,
        domain,
    )


def pfa_creates_alias(address: str, goto: str) -> None:
    sql(
        "INSERT INTO alias (address, goto, domain, created, modified, active)"
        " VALUES (%s, %s, %s, NOW(), NOW(), 1)",
        address,
        goto,
        address.split("@")[1],
    )


def pfa_deletes_mailbox(address: str) -> None:
    # Postfix Admin's MailboxHandler: the alias row first, then the mailbox.
    sql("DELETE FROM alias WHERE address = %s", address)
    sql("DELETE FROM mailbox WHERE username = %s", address)


@pytest.fixture
def committed(pfa_cleanup) -> Iterator[None]:
    """Committed rows, emptied afterwards, and the table installed again at the end."""
    yield
    if not ALIAS_LISTED.installed(connection):
        ALIAS_LISTED.install(connection)


@pytest.mark.django_db
def test_a_fresh_database_has_the_table():
    # The test database was made by `migrate` on an empty database, like a new installation.
    assert [t for t in TRIGGER_TABLES if not t.installed(connection)] == []
    assert ALIAS_LISTED.installed(connection)


@pytest.mark.django_db
def test_the_table_follows_postfix_admins_own_statements_and_scripts():
    pfa_creates_mailbox("ann@alpha.example")
    pfa_creates_mailbox("bob@alpha.example")
    pfa_creates_alias("sales@alpha.example", "ann@alpha.example,bob@alpha.example")
    pfa_creates_alias("@alpha.example", "ann@alpha.example")  # the catch-all
    assert assert_exact() == {
        ("alpha.example", "sales@alpha.example"),
        ("alpha.example", "@alpha.example"),
    }

    # Editing destinations or switching an alias off changes nothing the list is keyed by.
    sql(
        "UPDATE alias SET goto = %s, modified = NOW() WHERE address = %s",
        "x@y.example",
        "sales@alpha.example",
    )
    sql("UPDATE alias SET active = 0 WHERE address = %s", "ann@alpha.example")
    assert_exact()

    # A mailbox deleted without its alias row: the row becomes an ordinary alias, and back.
    sql("DELETE FROM mailbox WHERE username = %s", "bob@alpha.example")
    assert ("alpha.example", "bob@alpha.example") in assert_exact()
    mailbox_row("bob@alpha.example")
    assert ("alpha.example", "bob@alpha.example") not in assert_exact()

    # Postfix Admin's mailbox delete (alias row first), and several rows in one statement.
    pfa_deletes_mailbox("ann@alpha.example")
    sql(
        "INSERT INTO alias (address, goto, domain) VALUES"
        " ('team@beta.example', 'a@x.example', 'beta.example'),"
        " ('cid@beta.example', 'cid@beta.example', 'beta.example')"
    )
    mailbox_row("cid@beta.example")
    assert ("beta.example", "cid@beta.example") not in assert_exact()

    # Scripts: a mailbox renamed, an alias renamed and moved to another domain, a change of case.
    sql("UPDATE mailbox SET username = 'dan@beta.example' WHERE username = 'cid@beta.example'")
    assert ("beta.example", "cid@beta.example") in assert_exact()
    sql("UPDATE alias SET address = 'dan@beta.example' WHERE address = 'cid@beta.example'")
    assert ("beta.example", "dan@beta.example") not in assert_exact()
    sql(
        "UPDATE alias SET address = 'info@beta.example', domain = 'beta.example'"
        " WHERE address = 'sales@alpha.example'"
    )
    assert ("beta.example", "info@beta.example") in assert_exact()
    sql("UPDATE alias SET address = 'INFO@beta.example' WHERE address = 'info@beta.example'")
    assert ("beta.example", "INFO@beta.example") in assert_exact()
    # A mailbox whose name differs only in case is the same address under the collation.
    mailbox_row("Info@beta.example")
    assert ("beta.example", "INFO@beta.example") not in assert_exact()
    sql("UPDATE mailbox SET username = 'info@beta.example' WHERE username = 'Info@beta.example'")
    assert ("beta.example", "INFO@beta.example") not in assert_exact()

    # Postfix Admin's domain delete.
    sql("DELETE FROM alias WHERE domain = 'beta.example'")
    sql("DELETE FROM mailbox WHERE domain = 'beta.example'")
    assert all(domain != "beta.example" for domain, _address in assert_exact())


@pytest.mark.django_db
def test_the_table_follows_the_projects_own_services(domain_a, domain_b):
    ann = make_mailbox(domain_a, "ann")
    make_mailbox(domain_a, "bob")
    sales = make_alias(domain_a, "sales", ["ann@alpha.example"])
    make_alias(domain_a, "", ["ann@alpha.example"])
    assert assert_exact() == {
        ("alpha.example", "sales@alpha.example"),
        ("alpha.example", "@alpha.example"),
    }
    alias_update(actor=None, alias=sales, targets=["bob@alpha.example"])
    alias_set_active(actor=None, alias=sales, active=False)
    mailbox_set_forwarding(actor=None, mailbox=ann, targets=["x@y.example"], keep_copy=True)
    assert_exact()
    alias_delete(actor=None, alias=Alias.objects.get(pk="sales@alpha.example"))
    mailbox_purge(actor=None, mailbox=ann)
    assert assert_exact() == {("alpha.example", "@alpha.example")}

    gamma = make_domain("gamma.example", create_default_aliases=True)
    make_mailbox(gamma, "cid")
    make_alias(gamma, "team")
    assert {a for d, a in assert_exact() if d == "gamma.example"} >= {"team@gamma.example"}
    domain_purge(actor=make_admin(superadmin=True), domain=Domain.objects.get(pk="gamma.example"))
    assert assert_exact() == {("alpha.example", "@alpha.example")}


def alias_pages(client, sort: str) -> tuple[list[str], bool]:
    """Return every alias the list shows, page after page, and whether the table served."""
    shown: list[str] = []
    served = False
    number = 1
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/aliases/", {"domain": "alpha.example", "sort": sort, "page": number}
            )
        assert response.status_code == 200
        page_rows = [row.record.address for row in response.context["table"].paginated_rows]
        body = response.content.decode()
        assert all(address in body for address in page_rows)
        shown += page_rows
        served |= any(f"FROM {ALIAS_LISTED.name} " in q["sql"] for q in queries.captured_queries)
        if number >= response.context["table"].paginator.num_pages:
            return shown, served
        number += 1


@pytest.mark.parametrize("sort", ["address", "-address"])
def test_alias_list_pages_are_the_same_with_and_without_the_table(committed, settings, sort):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    domain = make_domain("alpha.example")
    other = make_domain("beta.example")
    client = _client(make_admin("admin@alpha.example", domains=[domain]))
    for local in ("ann", "kim", "zed"):
        make_mailbox(domain, local)
    made = [make_alias(domain, local).address for local in ("aa", "ka", "kz", "mm", "za", "zz")]
    make_alias(other, "aa")
    # One alias written by another tool: the counted total is one short until cron's recount, and
    # the last page shows the row past it.
    pfa_creates_alias("zzz@alpha.example", "x@y.example")
    expected = sorted([*made, "zzz@alpha.example"], reverse=sort.startswith("-"))
    with_table, served = alias_pages(client, sort)
    assert served
    assert with_table == expected

    ALIAS_LISTED.remove(connection)
    without_table, served = alias_pages(client, sort)
    assert not served
    assert without_table == with_table


def _client(admin):
    from django.test import Client

    client = Client()
    client.force_login(admin)
    return client


def test_migrate_installs_the_table_only_on_a_schema_it_created(committed):
    domain = make_domain("alpha.example")
    make_mailbox(domain, "ann")
    make_alias(domain, "sales")
    ALIAS_LISTED.remove(connection)
    sync(connection, fresh=False)  # as after adopting a Postfix Admin database
    assert not ALIAS_LISTED.present(connection)
    sync(connection, fresh=True)
    assert ALIAS_LISTED.installed(connection)
    assert assert_exact() == {("alpha.example", "sales@alpha.example")}


def test_a_refused_trigger_leaves_nothing_behind_and_migrate_goes_on(
    committed, monkeypatch, capsys
):
    # As for a user without the TRIGGER privilege on one of the tables: the last CREATE TRIGGER
    # fails after the table and the other triggers were made.
    refused = dataclasses.replace(
        ALIAS_LISTED,
        triggers=(
            *ALIAS_LISTED.triggers,
            Trigger("vimb_refused", "vimb_no_such_table", "INSERT", "BEGIN END"),
        ),
    )
    monkeypatch.setattr("pfa.derived.sync.TRIGGER_TABLES", (refused,))
    ALIAS_LISTED.remove(connection)
    sync(connection, fresh=True)
    assert "vimbadmin_alias_listed not created" in capsys.readouterr().out
    assert not refused.present(connection)
    # Postfix Admin's tables take writes as before, and the list works without the table.
    domain = make_domain("alpha.example")
    make_mailbox(domain, "ann")
    make_alias(domain, "sales")
    client = _client(make_admin(superadmin=True))
    assert alias_pages(client, "address") == (["sales@alpha.example"], False)


def test_install_derived_installs_the_table_on_request_and_removes_it(committed):
    domain = make_domain("alpha.example")
    make_mailbox(domain, "ann")
    make_alias(domain, "sales")
    client = _client(make_admin(superadmin=True))
    ALIAS_LISTED.remove(connection)  # as in an adopted Postfix Admin database

    out = StringIO()
    call_command("install_derived", stdout=out)
    assert (
        "missing: vimbadmin_alias_listed, maintained by triggers on alias and mailbox"
        in out.getvalue()
    )
    assert "Nothing changed; run again with --apply" in out.getvalue()
    out = StringIO()
    call_command("install_derived", "--sql", stdout=out)
    assert (
        "CREATE TRIGGER `vimbadmin_alias_listed_alias_insert` AFTER INSERT ON `alias`"
        in out.getvalue()
    )
    assert "DELIMITER //" in out.getvalue()
    assert not ALIAS_LISTED.present(connection)

    out = StringIO()
    call_command("install_derived", "--apply", stdout=out)
    assert (
        "created vimbadmin_alias_listed and the triggers on alias and mailbox (1 rows"
        in out.getvalue()
    )
    assert assert_exact() == {("alpha.example", "sales@alpha.example")}
    out = StringIO()
    call_command("install_derived", stdout=out)
    assert out.getvalue() == "All trigger-maintained tables are present.\n"
    assert alias_pages(client, "address") == (["sales@alpha.example"], True)

    # A table that lost a trigger may go stale: it counts as outdated, and --apply makes it anew.
    sql("DROP TRIGGER vimbadmin_alias_listed_mailbox_delete")
    pfa_deletes_mailbox("ann@alpha.example")
    triggers.forget()
    assert alias_pages(client, "address") == (["sales@alpha.example"], False)
    out = StringIO()
    call_command("install_derived", "--apply", stdout=out)
    assert "created vimbadmin_alias_listed" in out.getvalue()
    assert ALIAS_LISTED.installed(connection)
    assert_exact()

    out = StringIO()
    call_command("install_derived", "--remove-tables", "--sql", stdout=out)
    assert "DROP TRIGGER IF EXISTS `vimbadmin_alias_listed_alias_insert`;" in out.getvalue()
    assert out.getvalue().rstrip().endswith("DROP TABLE IF EXISTS `vimbadmin_alias_listed`;")
    assert ALIAS_LISTED.installed(connection)
    out = StringIO()
    call_command("install_derived", "--remove-tables", stdout=out)
    assert (
        out.getvalue() == "removed vimbadmin_alias_listed and the triggers on alias and mailbox\n"
    )
    assert not ALIAS_LISTED.present(connection)
    out = StringIO()
    call_command("install_derived", "--remove-tables", stdout=out)
    assert out.getvalue() == "No trigger-maintained table to remove.\n"
    # Writes and lists go on without it.
    make_alias(domain, "team")
    shown = (["team@alpha.example", "sales@alpha.example"], False)
    assert alias_pages(client, "-address") == shown


def test_a_list_falls_back_when_another_process_removed_the_table(committed):
    domain = make_domain("alpha.example")
    make_alias(domain, "sales")
    client = _client(make_admin(superadmin=True))
    assert alias_pages(client, "address") == (["sales@alpha.example"], True)
    # Dropped behind this process's back: it still believes the table is there.
    for statement in ALIAS_LISTED.drop_sql(connection):
        sql(statement)
    assert triggers.installed_cached(ALIAS_LISTED, connection)
    assert alias_pages(client, "address") == (["sales@alpha.example"], False)


def retried(write: Callable[..., None], *args: object) -> None:
    """Run a write (one autocommitted statement each) again when it was a deadlock's victim, as
    a well-behaved client does; the statement was rolled back whole."""
    for attempt in range(10):
        try:
            write(*args)
            return
        except OperationalError as exc:
            if exc.args[0] != 1213 or attempt == 9:
                raise


@pytest.mark.parametrize("round_", range(3))
def test_installing_while_others_write_loses_none_of_their_writes(committed, round_):
    for n in range(40):
        pfa_creates_mailbox(f"user{n:02d}@alpha.example")
        pfa_creates_alias(f"list{n:02d}@alpha.example", "x@y.example")
    ALIAS_LISTED.remove(connection)

    def writes(first: int) -> Callable[[], None]:
        def run() -> None:
            for n in range(first, 40, 4):
                retried(pfa_deletes_mailbox, f"user{n:02d}@alpha.example")
                # An alias that becomes a mailbox's own, a mailbox that leaves its alias behind.
                retried(mailbox_row, f"list{n:02d}@alpha.example")
                retried(
                    sql, "DELETE FROM mailbox WHERE username = %s", f"user{n + 2:02d}@alpha.example"
                )
                retried(pfa_creates_alias, f"new{n:02d}@alpha.example", "x@y.example")

        return run

    outcomes = race([lambda: ALIAS_LISTED.install(connection), writes(0), writes(1)])
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert ALIAS_LISTED.installed(connection)
    # 20 list aliases left, 20 own rows of deleted mailboxes, 20 new aliases.
    assert len(assert_exact()) == 60


def _open_transaction(statements: list[str]) -> Any:
    """Run statements on a connection of its own inside a transaction left open; return it."""
    other = connection.copy()
    other.ensure_connection()
    other.set_autocommit(False)
    with other.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return other


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "INSERT INTO mailbox (username, password, name, maildir, local_part, domain)"
            " VALUES ('x@alpha.example', 'x', '', 'x/', 'x', 'alpha.example')",
            "INSERT INTO alias (address, goto, domain)"
            " VALUES ('x@alpha.example', 'x@alpha.example', 'alpha.example')",
        ),
        (
            "INSERT INTO alias (address, goto, domain)"
            " VALUES ('x@alpha.example', 'x@alpha.example', 'alpha.example')",
            "INSERT INTO mailbox (username, password, name, maildir, local_part, domain)"
            " VALUES ('x@alpha.example', 'x', '', 'x/', 'x', 'alpha.example')",
        ),
        (
            "DELETE FROM mailbox WHERE username = 'ann@alpha.example'",
            "DELETE FROM alias WHERE address = 'ann@alpha.example'",
        ),
        (
            "UPDATE alias SET domain = 'beta.example' WHERE address = 'sales@alpha.example'",
            "INSERT INTO mailbox (username, password, name, maildir, local_part, domain)"
            " VALUES ('sales@alpha.example', 'x', '', 'x/', 'x', 'alpha.example')",
        ),
    ],
)
def test_two_writers_of_related_rows_at_once_leave_the_table_exact(committed, first, second):
    pfa_creates_mailbox("ann@alpha.example")
    pfa_creates_alias("sales@alpha.example", "x@y.example")
    # The first writer's transaction is still open when the second writes: the second's trigger
    # must not decide on what it cannot see yet.
    writer = _open_transaction([first])
    try:
        done = threading.Event()

        def second_writer() -> None:
            try:
                with connections["default"].cursor() as cursor:
                    cursor.execute(second)
            finally:
                connections.close_all()
                done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        # Given time to finish without waiting (as it would if its trigger read without a lock),
        # or to queue behind the first writer's row lock.
        done.wait(timeout=1)
        writer.commit()
        thread.join(timeout=30)
    finally:
        writer.close()
    assert_exact()
