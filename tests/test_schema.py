"""The schema contract: a fresh database matches Postfix Admin's, an existing one is adopted as is.

Genuine Postfix Admin databases are built by Postfix Admin 3.3's own upgrade.php (Debian's
postfixadmin package) on the engine the suite runs on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest
from django.db import connection

from tests.support import pfa_genuine as pfa

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.genuine_pfa
_seq = count(1)

# What Postfix Admin 4.0 (schema 1851) adds on top of 3.3 (schema 1847), and the project's own.
ALLOWED_EXTRA = {
    "admin": {"totp_secret"},
    "mailbox": {"totp_secret", "smtp_active"},
    "dkim": {"*"},
    "dkim_signing": {"*"},
    "totp_exception_address": {"*"},
    "mailbox_app_password": {"*"},
}
PROJECT_PREFIXES = ("vimbadmin_", "django_", "auth_")


def _engine() -> str:
    return {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[connection.vendor]


def _scratch(tmp_path: Path) -> str:
    if _engine() == "sqlite":
        return str(tmp_path / f"pfa{next(_seq)}.db")
    return f"vimb_g_{os.getpid()}_{next(_seq)}"


def _url(name: str) -> str:
    engine = _engine()
    if engine == "postgresql":
        return f"postgresql://root@127.0.0.1:5432/{name}"
    if engine == "mysql":
        return f"mysql://root@127.0.0.1:3306/{name}"
    return f"sqlite:///{name}"


def _manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DATABASE_TEST_NAME", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def genuine(tmp_path):
    """A database built by Postfix Admin 3.3's own upgrade.php, dropped afterwards."""
    name = _scratch(tmp_path)
    pfa.build_genuine_pfa_database(_engine(), name)
    yield name
    if _engine() != "sqlite":
        pfa.drop_database(_engine(), name)


def _pfa_tables(snapshot: dict) -> dict:
    return {
        name: table
        for name, table in snapshot["tables"].items()
        if not name.startswith(PROJECT_PREFIXES)
    }


@pytest.mark.django_db
def test_fresh_schema_has_every_genuine_table_and_column_the_same_way(genuine):
    fresh = pfa.schema_snapshot(_engine(), connection.connection)
    reference = pfa.snapshot_database(_engine(), genuine)
    for table in fresh["tables"].values():
        # The project's trigger-maintained tables (pfa.derived.alias_listed, .search_grams),
        # MariaDB/MySQL, come with AFTER triggers of their own on alias and mailbox, which write
        # only to them.
        table["triggers"] = [t for t in table["triggers"] if "vimbadmin_" not in t]
    allowed = dict(ALLOWED_EXTRA)
    allowed.update({name: {"*"} for name in fresh["tables"] if name.startswith(PROJECT_PREFIXES)})
    differences = pfa.compare_snapshots(reference, fresh, allowed)
    if _engine() == "sqlite":
        # Postfix Admin on SQLite never adds domain_admins.id (upgrade 1844 skips SQLite); the
        # project's model needs it, so a fresh SQLite database has it. That is the only allowance.
        expected = {
            "domain_admins.id: unexpected extra column (int NOT NULL DEFAULT <autoincrement>)",
            "domain_admins: primary key genuine [] | fresh ['id']",
        }
        assert set(differences) == expected
    else:
        assert differences == []


def test_migrate_adopts_a_genuine_database_without_changing_its_tables(genuine):
    before = _pfa_tables(pfa.snapshot_database(_engine(), genuine))
    result = _manage("migrate", "--no-input", database_url=_url(genuine))
    if _engine() == "sqlite":
        assert result.returncode != 0
        assert "domain_admins has no id column" in result.stderr
        assert "Traceback" not in result.stderr
        return
    assert result.returncode == 0, result.stderr
    after = pfa.snapshot_database(_engine(), genuine)
    assert _pfa_tables(after) == before
    assert {"vimbadmin_auth_event", "vimbadmin_domain_settings", "django_migrations"} <= set(
        after["tables"]
    )
    # No trigger-maintained table either (only `install_derived --apply` installs them).
    assert not {"vimbadmin_alias_listed", "vimbadmin_search_gram"} & set(after["tables"])
    assert pfa.read_config_version(_engine(), genuine) == 1847

    report = _manage("schema_check", database_url=_url(genuine))
    assert report.returncode == 0, report.stderr
    assert "Postfix Admin schema version: 1847" in report.stdout
    assert "mailbox.smtp_active: missing, switched off" in report.stdout

    # A super admin made here is stored both Postfix Admin ways, on an adopted database too.
    env_password = "Adopted-Database-Pass-42"
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperadmin",
            "--username",
            "chief@example.net",
            "--no-input",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _url(genuine), "VIMBADMIN_ADMIN_PASSWORD": env_password},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    conn = pfa.connect(_engine(), genuine)
    try:
        cur = conn.cursor()
        cur.execute("SELECT superadmin, password FROM admin WHERE username = 'chief@example.net'")
        superadmin, stored = cur.fetchone()
        cur.execute(
            "SELECT COUNT(*) FROM domain_admins WHERE username = 'chief@example.net' "
            "AND domain = 'ALL'"
        )
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT COUNT(*) FROM domain WHERE domain = 'ALL'")
        assert cur.fetchone()[0] == 1
    finally:
        conn.close()
    assert bool(superadmin) is True
    assert stored.startswith("{ARGON2ID}$argon2id$")
    assert env_password not in created.stdout + created.stderr


def test_migrate_refuses_a_postfix_admin_schema_that_is_too_old(genuine):
    conn = pfa.connect(_engine(), genuine)
    try:
        cur = conn.cursor()
        cur.execute("UPDATE config SET value = '1800' WHERE name = 'version'")
        conn.commit()
    finally:
        conn.close()
    before = pfa.snapshot_database(_engine(), genuine)
    result = _manage("migrate", "--no-input", database_url=_url(genuine))
    assert result.returncode != 0
    assert "too old" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert pfa.snapshot_database(_engine(), genuine) == before


def test_migrate_refuses_a_database_that_is_neither_empty_nor_postfix_admin(tmp_path):
    name = _scratch(tmp_path)
    engine = _engine()
    if engine == "sqlite":
        import sqlite3

        with sqlite3.connect(name) as conn:
            conn.execute("CREATE TABLE customers (id integer primary key, name text)")
    else:
        pfa.drop_database(engine, name)
        server = pfa.connect(engine)
        try:
            server.cursor().execute(f"CREATE DATABASE {name}")
            if engine == "mysql":
                server.commit()
        finally:
            server.close()
        conn = pfa.connect(engine, name)
        try:
            conn.cursor().execute("CREATE TABLE customers (id integer primary key, name text)")
            conn.commit()
        finally:
            conn.close()
    try:
        result = _manage("migrate", "--no-input", database_url=_url(name))
        assert result.returncode != 0
        assert "neither empty nor a Postfix Admin database" in result.stderr
        assert "Traceback" not in result.stderr
        snapshot = pfa.snapshot_database(engine, name)
        assert set(snapshot["tables"]) == {"customers"}
    finally:
        if engine != "sqlite":
            pfa.drop_database(engine, name)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nonsense://what", "DATABASE_URL is not a valid database URL"),
        ("postgresql://root@127.0.0.1:1/nothing", "Database error"),
        ("mysql://root@127.0.0.1:1/nothing", "Database error"),
    ],
)
def test_bad_database_settings_give_one_clear_line(url, expected):
    result = _manage("migrate", "--no-input", database_url=url)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_fresh_migrate_from_the_shell_creates_and_stamps_the_schema(tmp_path):
    name = _scratch(tmp_path)
    engine = _engine()
    if engine != "sqlite":
        pfa.drop_database(engine, name)
        server = pfa.connect(engine)
        try:
            server.cursor().execute(f"CREATE DATABASE {name}")
            if engine == "mysql":
                server.commit()
        finally:
            server.close()
    try:
        result = _manage("migrate", "--no-input", database_url=_url(name))
        assert result.returncode == 0, result.stderr
        assert pfa.read_config_version(engine, name) == 1851
        again = _manage("migrate", "--no-input", database_url=_url(name))
        assert again.returncode == 0, again.stderr
        assert "No migrations to apply" in again.stdout
    finally:
        if engine != "sqlite":
            pfa.drop_database(engine, name)
