"""List-page indexes (fresh databases get them, adopted ones only on request) and deep pages."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.paginator import Paginator
from django.db import connection

import vimbadmin.pagination
from mailboxes.models import Mailbox
from pfa.indexes import LIST_INDEXES, missing, wanted
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
def test_the_migration_adds_indexes_only_to_a_schema_created_in_the_same_run():
    if not wanted(connection):
        pytest.skip("this engine needs no extra index")
    migration = importlib.import_module("pfa.migrations.0002_list_indexes")
    before = getattr(connection, "vimb_created_fresh", False)
    _drop(LOG_INDEX.name)
    try:
        with connection.schema_editor() as editor:
            connection.vimb_created_fresh = False  # as after adopting a Postfix Admin database
            migration.add_on_fresh_schema(None, editor)
        assert LOG_INDEX.name not in _index_names("log")
        with connection.schema_editor() as editor:
            connection.vimb_created_fresh = True
            migration.add_on_fresh_schema(None, editor)
        assert LOG_INDEX.name in _index_names("log")
    finally:
        connection.vimb_created_fresh = before
        if LOG_INDEX.name not in _index_names("log"):
            with connection.cursor() as cursor:
                cursor.execute(LOG_INDEX.create_sql(connection))


@pytest.mark.django_db(transaction=True)
def test_optimize_indexes_changes_nothing_without_apply_and_creates_with_it():
    out = StringIO()
    if not wanted(connection):
        call_command("optimize_indexes", stdout=out)
        assert "Nothing to do on mysql" in out.getvalue()
        return
    _drop(LOG_INDEX.name)
    try:
        call_command("optimize_indexes", stdout=out)
        assert f"missing: {LOG_INDEX.name} on log (timestamp, id)" in out.getvalue()
        assert "Nothing changed; run again with --apply" in out.getvalue()
        assert LOG_INDEX.name not in _index_names("log")

        out = StringIO()
        call_command("optimize_indexes", "--sql", stdout=out)
        assert f'IF NOT EXISTS "{LOG_INDEX.name}" ON "log"' in out.getvalue()
        assert LOG_INDEX.name not in _index_names("log")

        out = StringIO()
        call_command("optimize_indexes", "--apply", stdout=out)
        assert f"created {LOG_INDEX.name}" in out.getvalue()
        assert LOG_INDEX.name in _index_names("log")

        out = StringIO()
        call_command("optimize_indexes", stdout=out)
        assert "All list indexes are present." in out.getvalue()
    finally:
        if LOG_INDEX.name not in _index_names("log"):
            with connection.cursor() as cursor:
                cursor.execute(LOG_INDEX.create_sql(connection))


@pytest.mark.django_db
def test_a_deep_page_fetched_by_keys_first_holds_the_same_rows(domain_a, monkeypatch):
    for n in range(23):
        make_mailbox(domain_a, f"user{n:02d}")
    monkeypatch.setattr(vimbadmin.pagination, "DEFERRED_FROM_ROW", 0)
    queryset = Mailbox.objects.filter(domain=domain_a).order_by("-username")
    plain = Paginator(queryset, 5)
    deferred = vimbadmin.pagination.DeferredPaginator(queryset, 5, orphans=2)
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
    monkeypatch.setattr(vimbadmin.pagination, "DEFERRED_FROM_ROW", 0)
    response = super_client.get("/mailboxes/", {"domain": domain_a.domain, "page": 2})
    assert response.status_code == 200
    text = response.content.decode()
    for n in range(5, 10):
        assert f"user{n:02d}@alpha.example" in text
    for n in (*range(5), *range(10, 12)):
        assert f"user{n:02d}@alpha.example" not in text
