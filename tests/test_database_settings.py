"""Connection settings the project relies on, read back from the live database."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's JIT compiler")
def test_postgresql_connections_run_without_jit():
    # Page queries are small; compiling them cost more than running them (see settings).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.skipif(connection.vendor != "mysql", reason="MySQL/MariaDB session settings")
def test_mysql_connections_are_utf8mb4_and_strict():
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@character_set_connection, @@sql_mode")
        charset, mode = cursor.fetchone()
    assert charset == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in mode
