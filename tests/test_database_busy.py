"""A web request never hangs on a locked row: it gives up in time and says the database is busy.

Another connection holds the domain row (`SELECT … FOR UPDATE`; on SQLite, whose shared-cache
test database locks whole tables, an uncommitted write) while a mailbox create is posted with
short timeouts: the answer is the 503 busy page, logged, and nothing was written. The timeouts
themselves are read back from connections of a real web server process and of a command, which
goes without them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import path

from aliases.models import Alias
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import PASSWORD, make_domain
from vimbadmin.settings import database_options

ROOT = Path(__file__).resolve().parent.parent
# Ends the lock of a request that does not give up by itself (the old code), so the test fails
# instead of hanging; the busy page comes after about a second.
HOLD_AT_MOST = 60


@contextmanager
def timeouts(*, lock: int, statement: int) -> Iterator[None]:
    """Reconnect this thread's connection with the web server's options and these timeouts."""
    original = connection.settings_dict
    connection.close()
    changed = copy.deepcopy(original)
    changed["OPTIONS"] = database_options(
        changed["ENGINE"], {}, lock_timeout=lock, statement_timeout=statement
    )
    connection.settings_dict = changed
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = original


@contextmanager
def row_locked(domain: str) -> Iterator[threading.Event]:
    """Hold the domain's row lock from another connection; the event is set once it let go."""
    holder = connections.create_connection("default")
    holder.inc_thread_sharing()
    released = threading.Event()
    lock = threading.Lock()

    def release() -> None:
        with lock:
            if not released.is_set():
                holder.rollback()
                released.set()

    holder.set_autocommit(False)
    with holder.cursor() as cursor:
        if holder.vendor == "sqlite":
            cursor.execute(
                "UPDATE domain SET description = description WHERE domain = %s", [domain]
            )
        else:
            cursor.execute("SELECT domain FROM domain WHERE domain = %s FOR UPDATE", [domain])
    timer = threading.Timer(HOLD_AT_MOST, release)
    timer.start()
    try:
        yield released
    finally:
        timer.cancel()
        release()
        holder.set_autocommit(True)
        holder.close()


@pytest.fixture
def admin_client(pfa_cleanup, superadmin) -> Client:
    # The busy page is what a user sees, so the client gets the page rather than the exception.
    client = Client(raise_request_exception=False)
    client.force_login(superadmin)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("lock", "statement"), [(1, 0), (0, 1)], ids=["lock-timeout", "statement-timeout"]
)
def test_a_create_blocked_by_a_locked_row_gets_the_busy_page(lock, statement, admin_client, caplog):
    if statement and connection.vendor == "sqlite":
        pytest.skip("SQLite has no statement timeout")
    domain = make_domain("busy.example")
    rows_before = (Mailbox.objects.count(), Alias.objects.count(), Log.objects.count())
    data = {
        "domain": domain.domain,
        "local_part": "waiting",
        "name": "Waiting Person",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": "10",
        "email_other": "",
        "send_welcome": "",
    }
    with row_locked(domain.domain) as released, timeouts(lock=lock, statement=statement):
        response = admin_client.post("/mailboxes/new/", data)
        gave_up_by_itself = not released.is_set()

    assert gave_up_by_itself
    assert response.status_code == 503
    body = response.content.decode()
    assert "The database is busy" in body
    for detail in ("Traceback", "OperationalError", "55P03", "57014", "1205", "1969"):
        assert detail not in body
    assert response["Retry-After"] == "10"
    assert (Mailbox.objects.count(), Alias.objects.count(), Log.objects.count()) == rows_before
    assert not Mailbox.objects.filter(username="waiting@busy.example").exists()
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == ["Service Unavailable: /mailboxes/new/"]
    assert records[0].exc_info is not None


@pytest.mark.django_db(transaction=True)
def test_after_the_busy_page_the_same_create_succeeds(admin_client):
    domain = make_domain("busy.example")
    data = {
        "domain": domain.domain,
        "local_part": "waiting",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": "10",
    }
    with timeouts(lock=1, statement=0):
        with row_locked(domain.domain):
            assert admin_client.post("/mailboxes/new/", data).status_code == 503
        assert admin_client.post("/mailboxes/new/", data).status_code == 302
    assert Mailbox.objects.filter(username="waiting@busy.example").exists()


@pytest.mark.django_db
def test_other_server_errors_keep_the_plain_500_page(settings):
    settings.ROOT_URLCONF = "tests.test_database_busy"
    response = Client(raise_request_exception=False).get("/explode/")
    assert response.status_code == 500
    assert "the error was logged" in response.content.decode()


def _explode(request):
    raise RuntimeError("not the database")


def _database_failure(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")


urlpatterns = [path("explode/", _explode), path("database-failure/", _database_failure)]
handler500 = "vimbadmin.errors.server_error"


@pytest.mark.django_db
def test_a_database_error_that_is_no_timeout_stays_a_500(settings):
    settings.ROOT_URLCONF = "tests.test_database_busy"
    response = Client(raise_request_exception=False).get("/database-failure/")
    assert response.status_code == 500


# --- the timeouts as the web server and as a command see them ---

READ_BACK = """
import json
from django.db import connection
QUERIES = {
    "postgresql": "SELECT current_setting('lock_timeout'), current_setting('statement_timeout'),"
    " current_setting('jit')",
    "mysql": "SELECT @@session.innodb_lock_wait_timeout, @@global.innodb_lock_wait_timeout,"
    " @@session.max_statement_time, @@sql_mode",
    "sqlite": "PRAGMA busy_timeout",
}
with connection.cursor() as cursor:
    cursor.execute(QUERIES[connection.vendor])
    print(json.dumps([str(value) for value in cursor.fetchone()]))
"""


def _server_url(tmp_path: Path) -> str:
    # A database every server has; only session settings are read.
    vendor = connection.vendor
    if vendor == "postgresql":
        return "postgresql://root@127.0.0.1:5432/postgres"
    if vendor == "mysql":
        return "mysql://root@127.0.0.1:3306/mysql"
    return f"sqlite:///{tmp_path / 'readback.sqlite3'}"


def _read_back(tmp_path: Path, *, web: bool, **extra: str) -> list[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_"))
    }
    env.update(DATABASE_URL=_server_url(tmp_path), SECRET_KEY="read-back-test-not-secret-key")
    env.update(extra)
    if web:
        # What gunicorn does: import the WSGI module, which loads the settings.
        args = [sys.executable, "-c", "import vimbadmin.wsgi\n" + READ_BACK]
    else:
        args = [sys.executable, "manage.py", "shell", "-c", READ_BACK]
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_web_server_connections_wait_for_locks_and_statements_only_so_long(tmp_path):
    values = _read_back(tmp_path, web=True)
    if connection.vendor == "postgresql":
        assert values == ["10s", "20s", "off"]
    elif connection.vendor == "mysql":
        assert values[0] == "10"
        assert float(values[2]) == 20
        assert "STRICT_TRANS_TABLES" in values[3]
    else:
        assert values == ["10000"]


def test_the_timeouts_are_settings(tmp_path):
    values = _read_back(
        tmp_path, web=True, DATABASE_LOCK_TIMEOUT="4", DATABASE_STATEMENT_TIMEOUT="7"
    )
    if connection.vendor == "postgresql":
        assert values == ["4s", "7s", "off"]
    elif connection.vendor == "mysql":
        assert values[0] == "4"
        assert float(values[2]) == 7
    else:
        assert values == ["4000"]


def test_commands_run_without_the_timeouts(tmp_path):
    # Index builds and recounts may take minutes; only web requests must give up early.
    values = _read_back(tmp_path, web=False)
    if connection.vendor == "postgresql":
        assert values == ["0", "0", "off"]
    elif connection.vendor == "mysql":
        assert values[0] == values[1]
        assert float(values[2]) == 0
    else:
        assert values == ["20000"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL connection options")
def test_a_database_url_options_value_wins_per_setting(tmp_path):
    url = _server_url(tmp_path) + "?options=-c%20lock_timeout%3D3s"
    values = _read_back(tmp_path, web=True, DATABASE_URL=url)
    assert values == ["3s", "20s", "off"]
