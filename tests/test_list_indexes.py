"""List-page indexes (fresh databases get them, adopted ones only on request) and deep pages."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.paginator import Paginator
from django.db import connection, transaction

import core.listing.pagination
import pfa.derived.indexes
from mailboxes.models import Mailbox
from pfa.derived.indexes import (
    LIST_INDEXES,
    SEARCH_INDEXES,
    SearchIndex,
    has_trigram_extension,
    missing,
    missing_search,
    search_wanted,
    wanted,
)
from pfa.derived.sync import sync
from tests.factories import make_mailbox

LOG_INDEX = next(i for i in LIST_INDEXES if i.table == "log")


def _drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def _index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db
def test_a_fresh_database_has_every_list_index_its_engine_needs():
    assert missing(connection) == []
    for index in wanted(connection):
        assert index.name in _index_names(index.table)
    if connection.vendor == "mysql":
        # InnoDB's KEY domain (domain) is already (domain, username): nothing is added.
        assert wanted(connection) == ()
        assert not any(name.startswith("vimb_") for name in _index_names("mailbox"))


@pytest.mark.django_db(transaction=True)
def test_migrate_adds_indexes_only_to_a_schema_it_created():
    if not wanted(connection):
        pytest.skip("this engine needs no extra index")
    _drop(LOG_INDEX.name)
    try:
        sync(connection, fresh=False)  # as after adopting a Postfix Admin database
        assert LOG_INDEX.name not in _index_names("log")
        sync(connection, fresh=True)
        assert LOG_INDEX.name in _index_names("log")
    finally:
        if LOG_INDEX.name not in _index_names("log"):
            with connection.cursor() as cursor:
                cursor.execute(LOG_INDEX.create_sql(connection))


@pytest.mark.django_db(transaction=True)
def test_install_derived_changes_nothing_without_apply_and_creates_with_it():
    out = StringIO()
    if not wanted(connection):
        # MariaDB needs no index; its trigger-maintained table has tests of its own
        # (test_alias_listed).
        call_command("install_derived", stdout=out)
        assert out.getvalue() == "All trigger-maintained tables are present.\n"
        return
    _drop(LOG_INDEX.name)
    try:
        call_command("install_derived", stdout=out)
        assert f"missing: {LOG_INDEX.name} on log (timestamp, id)" in out.getvalue()
        assert "Nothing changed; run again with --apply" in out.getvalue()
        assert LOG_INDEX.name not in _index_names("log")

        out = StringIO()
        call_command("install_derived", "--sql", stdout=out)
        assert f'IF NOT EXISTS "{LOG_INDEX.name}" ON "log"' in out.getvalue()
        assert LOG_INDEX.name not in _index_names("log")

        out = StringIO()
        call_command("install_derived", "--apply", stdout=out)
        assert f"created {LOG_INDEX.name}" in out.getvalue()
        assert LOG_INDEX.name in _index_names("log")

        out = StringIO()
        call_command("install_derived", stdout=out)
        assert "All list indexes are present." in out.getvalue()
    finally:
        if LOG_INDEX.name not in _index_names("log"):
            with connection.cursor() as cursor:
                cursor.execute(LOG_INDEX.create_sql(connection))


@pytest.mark.django_db
def test_a_deep_page_fetched_by_keys_first_holds_the_same_rows(domain_a, monkeypatch):
    for n in range(23):
        make_mailbox(domain_a, f"user{n:02d}")
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 0)
    queryset = Mailbox.objects.filter(domain=domain_a).order_by("-username")
    plain = Paginator(queryset, 5)
    deferred = core.listing.pagination.DeferredPaginator(queryset, 5, orphans=2)
    assert [m.username for m in deferred.page(2)] == [m.username for m in plain.page(2)]
    # The last page takes the orphans, exactly like Django's own paginator.
    assert [m.username for m in deferred.page(4)] == [
        m.username for m in Paginator(queryset, 5, orphans=2).page(4)
    ]


@pytest.mark.django_db
def test_a_deep_mailbox_list_page_shows_its_own_rows(super_client, domain_a, settings, monkeypatch):
    for n in range(12):
        make_mailbox(domain_a, f"user{n:02d}")
    settings.VIMBADMIN_LIST_PAGE_SIZE = 5
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 0)
    response = super_client.get("/mailboxes/", {"domain": domain_a.domain, "page": 2})
    assert response.status_code == 200
    text = response.content.decode()
    for n in range(5, 10):
        assert f"user{n:02d}@alpha.example" in text
    for n in (*range(5), *range(10, 12)):
        assert f"user{n:02d}@alpha.example" not in text


# Trigram search indexes (PostgreSQL) ------------------------------------------------------

NAME_INDEX = next(i for i in SEARCH_INDEXES if i.name == "vimb_mailbox_name_trgm")


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")


def _restore(index: SearchIndex) -> None:
    if index.name not in _index_names(index.table):
        with connection.cursor() as cursor:
            cursor.execute(index.create_sql(connection))


@pytest.mark.django_db
def test_a_fresh_postgresql_database_has_the_search_indexes_and_others_none():
    assert missing_search(connection) == []
    if connection.vendor != "postgresql":
        assert search_wanted(connection) == ()
        return
    assert has_trigram_extension(connection)
    for index in SEARCH_INDEXES:
        assert index.name in _index_names(index.table)
    # The planner uses them for the lists' own search SQL, name in any case included.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql = str(Mailbox.objects.filter(name__icontains="zoe").values("pk").query)
        cursor.execute("EXPLAIN " + sql.replace("%zoe%", "'%zoe%'"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert NAME_INDEX.name in plan


@pytest.mark.django_db(transaction=True)
def test_migrate_adds_search_indexes_only_to_a_schema_it_created():
    _needs_postgresql()
    _drop(NAME_INDEX.name)
    try:
        sync(connection, fresh=False)
        assert NAME_INDEX.name not in _index_names("mailbox")
        sync(connection, fresh=True)
        assert NAME_INDEX.name in _index_names("mailbox")
    finally:
        _restore(NAME_INDEX)


@pytest.mark.django_db(transaction=True)
def test_migrate_goes_on_without_the_extension(monkeypatch, capsys):
    _needs_postgresql()
    # As for a user who may not create pg_trgm: CREATE EXTENSION fails.
    monkeypatch.setattr(pfa.derived.indexes, "has_trigram_extension", lambda connection: False)
    monkeypatch.setattr(
        pfa.derived.indexes, "CREATE_EXTENSION_SQL", "CREATE EXTENSION vimb_no_such"
    )
    _drop(NAME_INDEX.name)
    try:
        with transaction.atomic():
            sync(connection, fresh=True)
            # The failure did not spoil a surrounding transaction.
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        assert "search indexes were not created" in capsys.readouterr().out
        assert NAME_INDEX.name not in _index_names("mailbox")
    finally:
        _restore(NAME_INDEX)


@pytest.mark.django_db(transaction=True)
def test_install_derived_adds_search_indexes_only_with_search():
    out = StringIO()
    if connection.vendor == "mysql":
        # MariaDB's search tables: tests/test_search_grams.py.
        call_command("install_derived", "--search", stdout=out)
        assert "The search tables and their triggers are present." in out.getvalue()
        return
    if connection.vendor != "postgresql":
        call_command("install_derived", "--search", stdout=out)
        assert "no index for substring searches" in out.getvalue()
        return
    _drop(NAME_INDEX.name)
    try:
        call_command("install_derived", "--apply", stdout=out)
        assert NAME_INDEX.name not in out.getvalue()
        assert "add --search" in out.getvalue()
        assert NAME_INDEX.name not in _index_names("mailbox")

        out = StringIO()
        call_command("install_derived", "--search", "--sql", stdout=out)
        assert (
            f'IF NOT EXISTS "{NAME_INDEX.name}" ON "mailbox" USING gin '
            "(upper((name)::text) gin_trgm_ops);"
        ) in out.getvalue()

        out = StringIO()
        call_command("install_derived", "--search", stdout=out)
        assert f"missing: {NAME_INDEX.name} on mailbox" in out.getvalue()
        assert NAME_INDEX.name not in _index_names("mailbox")

        out = StringIO()
        call_command("install_derived", "--search", "--apply", stdout=out)
        assert f"created {NAME_INDEX.name}" in out.getvalue()
        assert missing_search(connection) == []
    finally:
        _restore(NAME_INDEX)


@pytest.mark.django_db(transaction=True)
def test_install_derived_explains_a_refused_extension(monkeypatch):
    _needs_postgresql()
    command = importlib.import_module("pfa.management.commands.install_derived")
    monkeypatch.setattr(command, "has_trigram_extension", lambda connection: False)
    monkeypatch.setattr(command, "CREATE_EXTENSION_SQL", "CREATE EXTENSION vimb_no_such")
    _drop(NAME_INDEX.name)
    try:
        with pytest.raises(CommandError, match="CREATE EXTENSION pg_trgm;` in database"):
            call_command("install_derived", "--search", "--apply", stdout=StringIO())
        assert NAME_INDEX.name not in _index_names("mailbox")
    finally:
        _restore(NAME_INDEX)
