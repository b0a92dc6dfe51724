"""The trigger-maintained tables' base (pfa.derived.triggers) and what `migrate` does with them:
an older version is replaced by `migrate` and by `install_derived`, an install is all or
nothing, one reset forgets every remembered answer, and the fresh-schema mark outlives a run."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from aliases.models import Alias
from mailboxes.models import Mailbox
from pfa.derived import TRIGGER_TABLES, search_grams, triggers
from pfa.derived.alias_listed import ALIAS_LISTED
from pfa.derived.indexes import LIST_INDEXES, wanted
from pfa.derived.search_grams import ROW_TABLE, SEARCH_TABLES
from pfa.derived.sync import sync
from pfa.derived.triggers import INSTALLED, OUTDATED, TriggerTable, fingerprint
from pfa.schema import FRESH_MARK_TABLE, marked_fresh
from tests.factories import make_alias, make_domain, make_mailbox

mysql_only = pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="trigger-maintained tables exist on MariaDB/MySQL only",
)
BY_NAME = {t.name: t for t in TRIGGER_TABLES}
# Bodies of earlier releases, made from this release's by undoing one change each: the alias
# list's insert trigger before its reads locked, the search index's mailbox update trigger
# before it followed a change of domain.
OLDER = {
    ALIAS_LISTED.name: ("vimbadmin_alias_listed_alias_insert", (" LOCK IN SHARE MODE", "")),
    SEARCH_TABLES.name: (
        "vimb_search_mailbox_u",
        (" OR NOT (BINARY NEW.domain <=> BINARY OLD.domain)", ""),
    ),
}


def sql(statement: str, *params: object) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))
        return list(cursor.fetchall()) if cursor.description else []


def installed_body(name: str) -> str:
    return sql(
        "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS"
        " WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = %s",
        name,
    )[0][0]


def current_body(structure: TriggerTable, name: str) -> str:
    trigger = next(t for t in structure.triggers if t.name == name)
    values = structure.values(connection, structure.column_types(connection))
    return structure.trigger_body(trigger, values)


def install_older_body(structure: TriggerTable) -> str:
    """Replace one trigger by its body of an earlier release, as a database upgraded from it
    has it; return that body."""
    name, (new, old) = OLDER[structure.name]
    trigger = next(t for t in structure.triggers if t.name == name)
    body = current_body(structure, name)
    assert new in body
    older = body.replace(new, old)
    sql(f"DROP TRIGGER {name}")
    sql(f"CREATE TRIGGER {name} AFTER {trigger.event} ON {trigger.table} FOR EACH ROW {older}")
    return older


def some_rows() -> None:
    domain = make_domain("upgrade.example")
    make_mailbox(domain, "ann", name="Ann Example")
    make_alias(domain, "sales", ["ann@upgrade.example"])


def assert_rows_exact(structure: TriggerTable) -> None:
    """The rebuilt table holds what the rows call for (in full: test_alias_listed and
    test_search_grams)."""
    if structure is ALIAS_LISTED:
        expected = {(a.domain_id, a.address) for a in Alias.objects.all()} - {
            (m.domain_id, m.username) for m in Mailbox.objects.all()
        }
        assert set(sql(f"SELECT domain, address FROM {ALIAS_LISTED.name}")) == expected
    else:
        numbered = sql(f"SELECT COUNT(*) FROM {ROW_TABLE}")[0][0]
        assert numbered == Mailbox.objects.count() + Alias.objects.count()


@pytest.fixture
def restored(pfa_cleanup) -> Iterator[None]:
    """Committed rows (emptied afterwards) and every structure installed again at the end:
    MySQL commits DDL, so no rollback undoes what a test drops or creates."""
    yield
    sql("DROP VIEW IF EXISTS vimbadmin_search_gram")
    sql(f"DROP TABLE IF EXISTS {FRESH_MARK_TABLE}")
    for structure in TRIGGER_TABLES:
        if connection.vendor in structure.vendors and not structure.installed(connection):
            structure.install(connection)
    triggers.forget()


# Versioned ----------------------------------------------------------------------------------


@mysql_only
@pytest.mark.parametrize("name", BY_NAME)
def test_migrate_replaces_older_trigger_bodies(restored, name):
    structure = BY_NAME[name]
    some_rows()
    trigger, _change = OLDER[name]
    older = install_older_body(structure)
    assert structure.state(connection) == OUTDATED
    triggers.forget()
    assert not triggers.installed_cached(structure, connection)

    out = StringIO()
    call_command("migrate", stdout=out)
    assert f"upgraded {structure.label} and the triggers on alias and mailbox" in out.getvalue()
    assert structure.state(connection) == INSTALLED
    assert fingerprint(installed_body(trigger)) == fingerprint(current_body(structure, trigger))
    assert fingerprint(installed_body(trigger)) != fingerprint(older)
    assert triggers.installed_cached(structure, connection)
    assert_rows_exact(structure)

    # Up to date, a second run leaves it alone.
    out = StringIO()
    call_command("migrate", stdout=out)
    assert "upgraded" not in out.getvalue()


@mysql_only
@pytest.mark.parametrize("name", BY_NAME)
def test_install_derived_lists_and_replaces_older_trigger_bodies(restored, name):
    structure = BY_NAME[name]
    some_rows()
    trigger, _change = OLDER[name]
    older = install_older_body(structure)

    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    assert f"outdated: {structure.label}, maintained by triggers on alias and mailbox" in (
        out.getvalue()
    )
    assert "Nothing changed; run again with --apply" in out.getvalue()
    assert fingerprint(installed_body(trigger)) == fingerprint(older)

    out = StringIO()
    call_command("install_derived", "--search", "--sql", stdout=out)
    assert f"DROP TRIGGER IF EXISTS `{trigger}`;" in out.getvalue()

    out = StringIO()
    call_command("install_derived", "--search", "--apply", stdout=out)
    assert f"created {structure.label} and the triggers on alias and mailbox" in out.getvalue()
    assert structure.state(connection) == INSTALLED
    assert fingerprint(installed_body(trigger)) == fingerprint(current_body(structure, trigger))
    assert_rows_exact(structure)


# Rows a fill left out, as MariaDB's bulk load of an INSERT IGNORE lost them.
DAMAGE = {
    ALIAS_LISTED.name: f"DELETE FROM {ALIAS_LISTED.name} WHERE address = 'sales@upgrade.example'",
    SEARCH_TABLES.name: f"DELETE FROM {ROW_TABLE} WHERE address = 'sales@upgrade.example'",
}


@mysql_only
@pytest.mark.parametrize("name", BY_NAME)
def test_install_derived_lists_an_incomplete_table_and_builds_it_anew(restored, name):
    structure = BY_NAME[name]
    some_rows()
    assert structure.unfilled(connection) == {}
    sql(DAMAGE[name])
    assert structure.unfilled(connection) == {"alias": 1}
    assert structure.state(connection) == INSTALLED  # every table and trigger is there

    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    assert (
        f"incomplete: {structure.label}, maintained by triggers on alias and mailbox, for the"
        f" {structure.purpose}: its fill missed 1 row of alias;" in out.getvalue()
    )
    assert "Nothing changed; run again with --apply" in out.getvalue()

    out = StringIO()
    call_command("install_derived", "--search", "--apply", stdout=out)
    assert f"created {structure.label} and the triggers on alias and mailbox" in out.getvalue()
    assert structure.unfilled(connection) == {}
    assert_rows_exact(structure)


@mysql_only
def test_a_table_of_another_version_is_outdated_and_migrate_replaces_it(restored, monkeypatch):
    some_rows()
    # The release before this one wrote no version into the comment: that is version 1.
    sql(f"ALTER TABLE {ALIAS_LISTED.name} COMMENT = 'kept by triggers: alias list'")
    assert ALIAS_LISTED.state(connection) == INSTALLED
    # A release whose fill stores something else, with the same trigger bodies.
    newer = dataclasses.replace(ALIAS_LISTED, version=2)
    assert newer.state(connection) == OUTDATED
    monkeypatch.setattr("pfa.derived.sync.TRIGGER_TABLES", (newer,))
    call_command("migrate", verbosity=0)
    assert newer.state(connection) == INSTALLED
    assert ALIAS_LISTED.state(connection) == OUTDATED
    comment = sql(
        "SELECT TABLE_COMMENT FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        ALIAS_LISTED.name,
    )[0][0]
    assert comment.startswith("trigger-maintained v2: ")
    assert_rows_exact(ALIAS_LISTED)


# All or nothing -----------------------------------------------------------------------------


def _ours() -> tuple[set[str], set[str]]:
    """Return the project's trigger-maintained tables and triggers that exist."""
    tables = {
        row[0]
        for row in sql(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            " AND TABLE_TYPE = 'BASE TABLE'"
        )
    } & {t.name for s in TRIGGER_TABLES for t in s.tables}
    names = {t.name for s in TRIGGER_TABLES for t in s.triggers}
    found = {
        row[0]
        for row in sql(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
        )
    }
    return tables, found & names


@mysql_only
def test_an_install_meeting_a_conflicting_object_leaves_nothing_behind(restored):
    some_rows()
    SEARCH_TABLES.remove(connection)
    # Someone's view holds the name of the second table: the first table is made, then
    # CREATE TABLE fails.
    sql(f"CREATE VIEW {search_grams.GRAM_TABLE} AS SELECT 1 AS x")
    with pytest.raises(DatabaseError):
        SEARCH_TABLES.install(connection)
    tables, found = _ours()
    assert tables == {ALIAS_LISTED.name}
    assert found == {t.name for t in ALIAS_LISTED.triggers}
    assert not SEARCH_TABLES.present(connection)
    # The view is someone else's: left as it was.
    assert sql(f"SELECT x FROM {search_grams.GRAM_TABLE}") == [(1,)]
    # Postfix Admin's tables take writes as before.
    make_mailbox(Mailbox.objects.first().domain, "bob")


@mysql_only
def test_a_failed_upgrade_leaves_neither_the_old_version_nor_half_the_new(restored, monkeypatch):
    some_rows()
    install_older_body(ALIAS_LISTED)
    # The new version's last trigger is refused (as without the TRIGGER privilege on a table).
    refused = dataclasses.replace(
        ALIAS_LISTED,
        triggers=(
            *ALIAS_LISTED.triggers,
            triggers.Trigger("vimb_refused", "vimb_no_such_table", "INSERT", "BEGIN END"),
        ),
    )
    monkeypatch.setattr("pfa.management.commands.install_derived.TRIGGER_TABLES", (refused,))
    with pytest.raises(CommandError, match="not created, and nothing of it is left"):
        call_command("install_derived", "--apply", stdout=StringIO())
    assert not refused.present(connection)
    assert _ours() == (
        {t.name for t in SEARCH_TABLES.tables},
        {t.name for t in SEARCH_TABLES.triggers},
    )


# One cache, one reset -----------------------------------------------------------------------


@mysql_only
def test_one_reset_forgets_every_remembered_answer(restored):
    triggers.forget()
    assert triggers.installed_cached(ALIAS_LISTED, connection)
    assert search_grams.usable(connection)
    with CaptureQueriesContext(connection) as queries:
        search_grams.gram_collation(connection)
    assert not queries.captured_queries
    # Removed behind this process's back: it goes on believing its remembered answers...
    for structure in TRIGGER_TABLES:
        for statement in structure.drop_sql(connection):
            sql(statement)
    assert triggers.installed_cached(ALIAS_LISTED, connection)
    assert search_grams.usable(connection)
    # ...until the one reset, after which every answer is asked again.
    triggers.forget()
    assert not triggers.installed_cached(ALIAS_LISTED, connection)
    assert not search_grams.usable(connection)
    with CaptureQueriesContext(connection) as queries:
        search_grams.gram_collation(connection)
    assert len(queries.captured_queries) == 1


# Migrations and the fresh-schema mark -------------------------------------------------------


def test_the_derived_migrations_are_empty_and_import_no_app_code():
    # What they did now comes from pfa.derived.sync, which is versioned; a migration that
    # imported the app's code would do something else with every release.
    for name in (
        "0002_list_indexes",
        "0003_search_indexes",
        "0004_kept_tables",
        "0005_search_grams",
    ):
        module = importlib.import_module(f"pfa.migrations.{name}")
        assert module.Migration.operations == []
        tree = ast.parse(inspect.getsource(module))
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert imported == {"django.db"}


@pytest.mark.django_db(transaction=True)
def test_a_marked_schema_gets_everything_from_the_next_migrate_once(restored):
    # A migrate run that created the schema but stopped before its end left the mark.
    if connection.vendor == "mysql":
        ALIAS_LISTED.remove(connection)
        SEARCH_TABLES.remove(connection)
        gone = ALIAS_LISTED.name
    else:
        index = next(i for i in LIST_INDEXES if i in wanted(connection))
        sql(f"DROP INDEX {connection.ops.quote_name(index.name)}")
        gone = index.name
    sql(f"CREATE TABLE {FRESH_MARK_TABLE} (version INTEGER NOT NULL)")
    assert marked_fresh(connection)

    call_command("migrate", verbosity=0)
    assert not marked_fresh(connection)
    if connection.vendor == "mysql":
        assert ALIAS_LISTED.installed(connection)
        assert SEARCH_TABLES.installed(connection)
        # Without the mark, what its operator removes stays removed.
        ALIAS_LISTED.remove(connection)
        call_command("migrate", verbosity=0)
        assert not ALIAS_LISTED.present(connection)
    else:
        with connection.cursor() as cursor:
            assert gone in connection.introspection.get_constraints(cursor, index.table)
        sql(f"DROP INDEX {connection.ops.quote_name(gone)}")
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            assert gone not in connection.introspection.get_constraints(cursor, index.table)
        sync(connection, fresh=True)  # put it back for the other tests


def test_the_old_command_name_works_for_one_release_with_a_note(db):
    out, err = StringIO(), StringIO()
    call_command("optimize_indexes", stdout=out, stderr=err)
    assert "`optimize_indexes` is deprecated" in err.getvalue()
    assert "install_derived" in err.getvalue()
    new = StringIO()
    call_command("install_derived", stdout=new)
    assert out.getvalue() == new.getvalue()
    if connection.vendor == "mysql":
        out = StringIO()
        call_command("optimize_indexes", "--remove-kept", "--sql", stdout=out, stderr=StringIO())
        assert out.getvalue().rstrip().endswith(f"DROP TABLE IF EXISTS `{ALIAS_LISTED.name}`;")
        assert ALIAS_LISTED.installed(connection)
