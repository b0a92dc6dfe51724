"""MariaDB/MySQL's trigram search tables (pfa.derived.search_grams): trigger-maintained, exact for
every writer, used by the lists' searches, and giving exactly the rows that reading the rows
gives."""

from __future__ import annotations

import dataclasses
import zlib
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aliases.models import Alias
from aliases.services import alias_delete, alias_update
from domains.services import domain_purge
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_purge, mailbox_set_forwarding, mailbox_update
from pfa.derived import search_grams, triggers
from pfa.derived.alias_listed import ALIAS_LISTED
from pfa.derived.search_grams import SEARCH_TABLES
from pfa.management.commands import install_derived
from tests.factories import make_alias, make_domain, make_mailbox

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "mysql",
        reason="MariaDB/MySQL only: PostgreSQL searches through pg_trgm indexes, SQLite reads",
    ),
]


@pytest.fixture(autouse=True)
def _fresh_knowledge():
    triggers.forget()
    yield
    triggers.forget()


@pytest.fixture
def ddl(pfa_cleanup):
    """For tests that drop and create the tables: MySQL commits DDL, so no rollback undoes it;
    the rows are deleted (by DELETE, so the triggers follow) and the index is put back."""
    yield
    if not SEARCH_TABLES.installed(connection):
        SEARCH_TABLES.install(connection)


def keys_of(grams: set[str]) -> dict[str, int]:
    """The integer keys the database gives these grams (pfa.derived.search_grams.piece)."""
    grams = sorted(grams)
    if not grams:
        return {}
    parts = " UNION ALL ".join(
        f"SELECT %s, {search_grams.term_piece(connection)}" for _gram in grams
    )
    with connection.cursor() as cursor:
        cursor.execute(parts, [value for gram in grams for value in (gram, gram)])
        return dict(cursor.fetchall())


def expected_index() -> set[tuple[int, int, int, str]]:
    """The postings the rows call for: their grams computed here in Python from the rows."""
    wanted = set()

    def add(kind, key, domain, texts):
        crc = zlib.crc32(domain.lower().encode())
        for text in texts:
            for gram in search_grams.grams(text.lower()):
                wanted.add((kind, gram, crc, key.lower()))

    for username, name, domain in Mailbox.objects.values_list("username", "name", "domain"):
        add(search_grams.MAILBOX, username, domain, [username.split("@")[0] + "@", name])
    for address, goto, domain in Alias.objects.values_list("address", "goto", "domain"):
        texts = [address.split("@")[0] + "@"]
        if goto != address:
            texts.append(goto)
        add(search_grams.ALIAS, address, domain, texts)
    keys = keys_of({gram for _kind, gram, _crc, _key in wanted})
    return {(kind, keys[gram], crc, key) for kind, gram, crc, key in wanted}


def stored_index() -> set[tuple[int, int, int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.kind, g.gram, g.domain_crc, r.address FROM {search_grams.GRAM_TABLE} g"
            f" JOIN {search_grams.ROW_TABLE} r ON r.id = g.row_id AND r.kind = g.kind"
        )
        stored = {(k, g, c, a.lower()) for k, g, c, a in cursor.fetchall()}
        cursor.execute(
            f"SELECT COUNT(*) FROM {search_grams.ROW_TABLE} r WHERE NOT EXISTS (SELECT 1 FROM"
            f" {search_grams.GRAM_TABLE} g WHERE g.row_id = r.id) AND (r.kind = 1 AND NOT EXISTS"
            " (SELECT 1 FROM mailbox m WHERE m.username = r.address) OR r.kind = 2 AND NOT"
            " EXISTS (SELECT 1 FROM alias a WHERE a.address = r.address))"
        )
        assert cursor.fetchone()[0] == 0, "a deleted row kept its number"
    return stored


def other_tool(sql: str, params: list) -> None:
    """Write the tables as Postfix Admin or a script does, past the project."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_fresh_schema_gets_the_tables_and_triggers():
    assert SEARCH_TABLES.installed(connection)
    assert search_grams.usable(connection)


def test_the_triggers_keep_the_index_exact_for_every_writer():
    domain = make_domain("grams.example")
    other = make_domain("Other.Example")
    anna = make_mailbox(domain, "anna.becker", name="Anna Becker")
    make_mailbox(other, "jose", name="José Nuñez")
    make_alias(domain, "sales", ["anna.becker@grams.example", "x@elsewhere.example"])
    assert stored_index() == expected_index()

    # The project's own writes: rename, forwarding, alias change, deletes, a domain purge.
    mailbox_update(actor=None, mailbox=anna, name="Anna Zoë Becker", quota_bytes=0)
    mailbox_set_forwarding(actor=None, mailbox=anna, targets=["far@away.example"], keep_copy=True)
    alias_update(
        actor=None,
        alias=Alias.objects.get(address="sales@grams.example"),
        targets=["team@grams.example"],
    )
    assert stored_index() == expected_index()

    # Postfix Admin's: INSERT, UPDATE of the searched columns and of others, DELETE.
    now = timezone.now()
    other_tool(
        "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain,"
        " created, modified) VALUES (%s, 'x', %s, 'grams.example/eve/', 0, 'eve', %s, %s, %s)",
        ["Eve.Smith@grams.example", "Eve SMITH", "grams.example", now, now],
    )
    other_tool(
        "INSERT INTO alias (address, goto, domain, created, modified) VALUES (%s, %s, %s, %s, %s)",
        ["Eve.Smith@grams.example", "Eve.Smith@grams.example", "grams.example", now, now],
    )
    other_tool(
        "UPDATE mailbox SET name = %s WHERE username = %s", ["Eva Smith", "Eve.Smith@grams.example"]
    )
    other_tool("UPDATE mailbox SET active = 0, quota = 5 WHERE domain = %s", ["grams.example"])
    other_tool(
        "UPDATE alias SET goto = %s WHERE address = %s",
        ["Eve.Smith@grams.example,boss@corp.example", "Eve.Smith@grams.example"],
    )
    other_tool(
        "UPDATE alias SET address = %s WHERE address = %s",
        ["helpdesk@grams.example", "team@grams.example"],
    )
    assert stored_index() == expected_index()
    other_tool("DELETE FROM alias WHERE address = %s", ["helpdesk@grams.example"])
    other_tool("DELETE FROM mailbox WHERE username = %s", ["Eve.Smith@grams.example"])
    assert stored_index() == expected_index()

    mailbox_purge(actor=None, mailbox=Mailbox.objects.get(username="jose@other.example"))
    make_alias(domain, "gone", ["anna.becker@grams.example"])
    alias_delete(actor=None, alias=Alias.objects.get(address="gone@grams.example"))
    domain_purge(actor=None, domain=domain)
    assert stored_index() == expected_index()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_installing_on_existing_rows_indexes_them_as_the_triggers_would():
    domain = make_domain("built.example")
    for i in range(30):
        make_mailbox(domain, f"user.{i}", name=f"User Number {i}")
        make_alias(domain, f"list-{i}", [f"user.{i}@built.example", "out@far.example"])
    indexed = stored_index()
    SEARCH_TABLES.remove(connection)
    assert not SEARCH_TABLES.installed(connection)
    SEARCH_TABLES.install(connection)
    assert SEARCH_TABLES.installed(connection)
    assert stored_index() == indexed == expected_index()


def listed(response, attribute: str) -> list[str]:
    assert response.status_code == 200
    return [getattr(row.record, attribute) for row in response.context["table"].paginated_rows]


def both_ways(client, path: str, params: dict, attribute: str) -> tuple[list, list, int]:
    """Return the rows of every page through the index and by reading the rows."""
    found = {}
    for way in ("index", "rows"):
        triggers.forget()
        pages, page = [], 1
        # "rows": as when the index is not installed (or was removed by its operator).
        with (
            CaptureQueriesContext(connection) as queries,
            mock.patch.object(search_grams, "usable", return_value=way == "index"),
        ):
            while True:
                response = client.get(path, {**params, "page": page})
                pages += listed(response, attribute)
                if not response.context["table"].page.has_next():
                    break
                page += 1
        used = any(search_grams.GRAM_TABLE in q["sql"] for q in queries.captured_queries)
        found[way] = (pages, response.context["table"].paginator.count, used)
    assert found["index"][2] or not found["index"][0] or len(params["q"].strip()) < 3
    assert not found["rows"][2]
    return found["index"][0], found["rows"][0], found["index"][1]


SEARCHES = [
    "anna",  # local parts and names
    "ANNA",  # any case
    "becker.1",  # across the dot
    "jose",  # accents as the name's collation compares them (José)
    "grams",  # only in the domain part: every row of that domain
    "ams.exa",
    "r.2@gra",  # across the '@'
    "@grams.example",
    "2@",
    "a",  # too short for grams: the rows are read
    "İ",  # a combining mark once lower-cased: the rows are read
    "josé",
    "zz-nothing",
    "elsewhere",  # destinations
    "far.example",
    "sales-1",
]


@pytest.fixture
def searchable():
    grams_domain = make_domain("grams.example")
    other = make_domain("other.example")
    for i in range(12):
        make_mailbox(grams_domain, f"anna.becker.{i}", name=f"Anna Becker {i}")
        make_mailbox(other, f"user.{i}", name="José Nuñez" if i % 3 == 0 else f"Hanna {i}")
        make_alias(grams_domain, f"sales-{i}", [f"anna.becker.{i}@grams.example"])
        make_alias(other, f"fw-{i}", ["x@elsewhere.example", "y@far.example"])
    return grams_domain


@pytest.mark.parametrize("q", SEARCHES)
def test_searches_through_the_index_list_exactly_the_rows_a_scan_lists(
    super_client, searchable, settings, q
):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 5
    for domain in ("", "grams.example", "other.example"):
        through_index, read, count = both_ways(
            super_client, "/mailboxes/", {"q": q, "domain": domain}, "username"
        )
        assert through_index == read
        assert count == len(read)
        for mailbox_aliases in ("", "1"):
            through_index, read, count = both_ways(
                super_client,
                "/aliases/",
                {"q": q, "domain": domain, "show_mailbox_aliases": mailbox_aliases},
                "address",
            )
            assert through_index == read
    # The searches do find something where they should.
    hits = both_ways(super_client, "/mailboxes/", {"q": "becker.1", "domain": ""}, "username")
    assert hits[0] == [f"anna.becker.{i}@grams.example" for i in (1, 10, 11)]


def test_a_domain_admin_searching_sees_only_their_domains(client_a, domain_a, domain_b):
    make_mailbox(domain_a, "anna.mine", name="Anna Mine")
    make_mailbox(domain_b, "anna.theirs", name="Anna Theirs")
    make_alias(domain_b, "anna-list", ["anna.theirs@" + domain_b.domain])
    mine = f"anna.mine@{domain_a.domain}"
    for params in ({"q": "anna", "domain": ""}, {"q": "anna", "domain": domain_a.domain}):
        through_index, read, _count = both_ways(client_a, "/mailboxes/", params, "username")
        assert through_index == read == [mine]
    through_index, read, _count = both_ways(
        client_a, "/mailboxes/", {"q": "anna", "domain": domain_b.domain}, "username"
    )
    assert through_index == read == []
    through_index, read, _count = both_ways(
        client_a, "/aliases/", {"q": "anna", "domain": "", "show_mailbox_aliases": "1"}, "address"
    )
    assert through_index == read == [mine]


def test_more_matches_than_a_search_shows_are_capped_the_same_way(super_client, settings):
    import core.listing.search

    settings.VIMBADMIN_LIST_PAGE_SIZE = 4
    domain = make_domain("many.example")
    for i in range(14):
        make_mailbox(domain, f"bulk.{i:02d}", name=f"Bulk {i}")
    limit = 9
    original = core.listing.search.SEARCH_RESULTS_LIMIT
    core.listing.search.SEARCH_RESULTS_LIMIT = limit
    try:
        response = super_client.get("/mailboxes/", {"q": "bulk", "domain": ""})
        assert response.context["table"].paginator.count == limit
        assert b"More than" in response.content
        shown, page = [], 1
        while True:
            response = super_client.get("/mailboxes/", {"q": "bulk", "domain": "", "page": page})
            shown += listed(response, "username")
            if not response.context["table"].page.has_next():
                break
            page += 1
        # Nine different matches, in address order.
        assert len(set(shown)) == limit == len(shown)
        assert shown == sorted(shown)
        assert all(u.startswith("bulk.") for u in shown)
    finally:
        core.listing.search.SEARCH_RESULTS_LIMIT = original


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_removed_index_searches_read_the_rows_and_install_derived_adds_it_back(
    super_client, searchable
):
    wanted = [f"anna.becker.{i}@grams.example" for i in (1, 10, 11)]
    assert search_grams.usable(connection)  # remembered by this process
    # Another process (the operator's command) removes them: this one still believes they are
    # there, meets the missing table and reads the rows.
    with connection.cursor() as cursor:
        for trigger in SEARCH_TABLES.triggers:
            cursor.execute(f"DROP TRIGGER {trigger.name}")
        cursor.execute(f"DROP TABLE {search_grams.GRAM_TABLE}, {search_grams.ROW_TABLE}")
    response = super_client.get("/mailboxes/", {"q": "becker.1", "domain": ""})
    assert listed(response, "username") == wanted
    assert not search_grams.usable(connection)

    SEARCH_TABLES.install(connection)
    out = StringIO()
    call_command("install_derived", "--remove-search", stdout=out)
    assert not SEARCH_TABLES.installed(connection)
    response = super_client.get("/mailboxes/", {"q": "becker.1", "domain": ""})
    assert listed(response, "username") == wanted
    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    assert "vimbadmin_search_gram" in out.getvalue()
    assert not SEARCH_TABLES.installed(connection)
    call_command("install_derived", "--search", "--apply", stdout=out)
    assert SEARCH_TABLES.installed(connection)
    assert stored_index() == expected_index()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_install_derived_search_apply_adds_the_search_and_the_list_tables(super_client):
    out = StringIO()
    call_command("install_derived", "--remove-tables", stdout=out)
    call_command("install_derived", "--remove-search", stdout=out)
    try:
        out = StringIO()
        call_command("install_derived", "--search", stdout=out)
        listed_missing = out.getvalue()
        assert "missing: the search tables" in listed_missing
        assert "missing: vimbadmin_alias_listed" in listed_missing
        assert "Nothing changed" in listed_missing
        call_command("install_derived", "--search", "--apply", stdout=StringIO())
        assert SEARCH_TABLES.installed(connection)
        assert ALIAS_LISTED.installed(connection)
        out = StringIO()
        call_command("install_derived", "--search", stdout=out)
        assert "All trigger-maintained tables are present." in out.getvalue()
        assert "The search tables and their triggers are present." in out.getvalue()
    finally:
        for table in (ALIAS_LISTED, SEARCH_TABLES):
            if not table.installed(connection):
                table.install(connection)


def numbered_rows() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT kind, id FROM {search_grams.ROW_TABLE} ORDER BY kind, id")
        return list(cursor.fetchall())


def session_checks() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.unique_checks, @@SESSION.foreign_key_checks")
        return tuple(cursor.fetchone())


def like_search_tables(cls: type, **changes: object) -> search_grams.SearchTables:
    """SEARCH_TABLES as an instance of a subclass, with some fields changed."""
    fields = {f.name: getattr(SEARCH_TABLES, f.name) for f in dataclasses.fields(SEARCH_TABLES)}
    return cls(**{**fields, **changes})


SEEN_BY_FILL: list[tuple[int, int]] = []


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotingTables(search_grams.SearchTables):
    """The search tables, noting the session's unique and foreign key checks when filled."""

    def fill(self, connection, progress=None):
        SEEN_BY_FILL.append(session_checks())
        return super().fill(connection, progress)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_a_build_in_many_chunks_on_a_bulk_loading_session_indexes_every_row():
    """bench/fill.py built the tables on a session with unique_checks and foreign_key_checks
    off, where MariaDB loads an INSERT into an empty table in bulk and a duplicate gram (the
    'ann' twice in 'anna.hartmann') cut the first chunk short while reporting success."""
    domain = make_domain("chunks.example")
    other = make_domain("Other-Chunks.example")
    for i in range(12):
        make_mailbox(domain, f"anna.hartmann.{i}", name=f"Anna Hartmann {i}")
        make_alias(other, f"list.{i}", [f"anna.hartmann.{i}@chunks.example", "far@away.example"])
    make_mailbox(other, "Zoe.Banana", name="Zoë Banana Bananas")
    make_mailbox(domain, "ab", name="")  # too short for a gram of its own
    # Gaps between the keys and the numbers: rows deleted at the start, in between, at the end.
    for i in (0, 5, 6, 11):
        mailbox_purge(
            actor=None, mailbox=Mailbox.objects.get(username=f"anna.hartmann.{i}@chunks.example")
        )
    alias_delete(actor=None, alias=Alias.objects.get(address="list.7@other-chunks.example"))
    indexed = stored_index()
    SEARCH_TABLES.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
    try:
        small = like_search_tables(NotingTables, chunk=3)
        assert len(list(search_grams._chunks(connection, "mailbox", "username", 3))) >= 4
        assert len(list(search_grams._chunks(connection, "alias", "address", 3))) >= 6
        SEEN_BY_FILL.clear()
        numbered = small.install(connection)
        assert SEEN_BY_FILL == [(1, 1)], "filled with both checks on"
        assert session_checks() == (0, 0), "the session's own settings are put back"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
    assert numbered == Mailbox.objects.count() + Alias.objects.count()
    assert stored_index() == indexed == expected_index()
    assert SEARCH_TABLES.installed(connection)
    assert SEARCH_TABLES.unfilled(connection) == {}
    # Numbering goes on after the build: a row written by another tool gets a new number.
    before = numbered_rows()
    other_tool(
        "INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain,"
        " created, modified) VALUES (%s, 'x', %s, 'chunks.example/new/', 0, 'new', %s, %s, %s)",
        ["anna.new@chunks.example", "Anna New", "chunks.example", timezone.now(), timezone.now()],
    )
    assert len(numbered_rows()) == len(before) + 1
    assert stored_index() == expected_index()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_install_derived_reports_an_incomplete_index_and_apply_builds_it_anew():
    domain = make_domain("damaged.example")
    for i in range(5):
        make_mailbox(domain, f"anna.becker.{i}", name=f"Anna Becker {i}")
        make_alias(domain, f"team.{i}", [f"anna.becker.{i}@damaged.example"])
    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    assert "The search tables and their triggers are present." in out.getvalue()
    # A partial index, as a fill that lost rows leaves it: one mailbox without its grams, one
    # alias with only some, one alias not numbered at all.
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE g FROM {search_grams.GRAM_TABLE} g JOIN {search_grams.ROW_TABLE} r"
            " ON r.id = g.row_id AND r.kind = g.kind WHERE r.kind = 1 AND r.address = %s",
            ["anna.becker.1@damaged.example"],
        )
        cursor.execute(
            f"DELETE g FROM {search_grams.GRAM_TABLE} g JOIN {search_grams.ROW_TABLE} r"
            " ON r.id = g.row_id AND r.kind = g.kind WHERE r.address = %s"
            f" AND g.gram = {search_grams.term_piece(connection)}",
            ["team.2@damaged.example", "tea"],
        )
        cursor.execute(
            f"DELETE FROM {search_grams.ROW_TABLE} WHERE address = %s", ["team.3@damaged.example"]
        )
    assert SEARCH_TABLES.unfilled(connection) == {"mailbox": 1, "alias": 2}
    assert SEARCH_TABLES.installed(connection)  # its tables and triggers are all there

    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    report = out.getvalue()
    assert "incomplete: the search tables" in report
    assert "its fill missed 1 row of mailbox, 2 rows of alias;" in report
    assert "Nothing changed" in report
    assert "present" not in report

    out = StringIO()
    call_command("install_derived", "--search", "--apply", stdout=out)
    assert "created the search tables" in out.getvalue()
    assert SEARCH_TABLES.unfilled(connection) == {}
    assert stored_index() == expected_index()
    out = StringIO()
    call_command("install_derived", "--search", stdout=out)
    assert "The search tables and their triggers are present." in out.getvalue()


@dataclasses.dataclass(frozen=True, kw_only=True)
class LosingTables(search_grams.SearchTables):
    """The search tables on a database that loses rows of a fill without an error: the fill
    runs, then the grams of one mailbox disappear (as MariaDB's bulk load lost them)."""

    def fill(self, connection, progress=None):
        rows = super().fill(connection, progress)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {search_grams.GRAM_TABLE} WHERE kind = %s AND row_id ="
                f" (SELECT MIN(id) FROM {search_grams.ROW_TABLE} WHERE kind = %s)",
                [search_grams.MAILBOX, search_grams.MAILBOX],
            )
        return rows


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("ddl")
def test_an_install_whose_fill_comes_out_incomplete_fails_and_leaves_nothing(monkeypatch):
    domain = make_domain("lossy.example")
    make_mailbox(domain, "anna", name="Anna")
    losing = like_search_tables(LosingTables)
    with pytest.raises(triggers.IncompleteFill) as failed:
        losing.install(connection)
    assert failed.value.unfilled == {"mailbox": 1}
    assert not SEARCH_TABLES.present(connection)  # searches read the rows instead

    # The command says so instead of claiming success.
    monkeypatch.setattr(install_derived, "TRIGGER_TABLES", (ALIAS_LISTED, losing))
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("install_derived", "--search", "--apply", stdout=out)
    assert "nothing of it is left: its fill missed 1 row of mailbox" in str(refused.value)
    assert "created the search tables" not in out.getvalue()
    assert not SEARCH_TABLES.present(connection)
