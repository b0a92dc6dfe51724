"""What bench/fill.py and bench/run.py share: sizes, names, the known admin logins, scratch DBs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIG_DOMAIN = "big.bench.example"
SMALL_DOMAIN = "d{:04d}.bench.example"
SUPER_ADMIN = "bench-super@bench.example"
DOMAIN_ADMIN = "bench-admin@big.bench.example"
# Known to the runner on purpose: a scratch database, never a real one.
ADMIN_PASSWORD = "Bench-only-Passw0rd-2026!"  # noqa: S105
# The one password every filled mailbox has (hashed once, see fill.py).
MAILBOX_PASSWORD = "Mailbox-bench-Passw0rd!"  # noqa: S105


@dataclass(frozen=True)
class Size:
    """How many rows one benchmark size has."""

    name: str
    big_mailboxes: int  # in BIG_DOMAIN
    small_domains: int
    small_mailboxes: int  # in each small domain
    aliases_per_mailbox: float  # forwarding aliases besides each mailbox's own alias row


SIZES = {
    "S": Size("S", 1_000, 0, 0, 1.0),
    "M": Size("M", 10_000, 0, 0, 1.0),
    "L": Size("L", 100_000, 1_000, 10, 1.0),
    # 200,000 in the big domain and 800,000 over 999 more: 1,000 domains, 1,000,000 mailboxes.
    "XL": Size("XL", 200_000, 999, 800_800 // 999, 1.0),
}


def engine_of(url: str) -> str:
    """Return postgresql, mysql or sqlite for a DATABASE_URL."""
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith(("postgres", "pgsql")):
        return "postgresql"
    if scheme.startswith(("mysql", "mariadb")):
        return "mysql"
    if scheme.startswith("sqlite"):
        return "sqlite"
    raise SystemExit(f"unsupported DATABASE_URL scheme {scheme!r}")


def with_db_name(url: str, name: str) -> str:
    """Return the URL pointing at another database of the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def db_name(url: str) -> str:
    """Return the database name in a URL."""
    return urlsplit(url).path.lstrip("/")


def _pg_admin(url: str) -> Any:
    import psycopg2

    conn = psycopg2.connect(with_db_name(url, "postgres"))
    conn.autocommit = True
    return conn


def _my_admin(url: str) -> Any:
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        passwd=parts.password or "",
        charset="utf8mb4",
    )


def create_database(url: str, *, drop: bool = False) -> bool:
    """Create the scratch database (name must start with vimb_bench_); True if it is new."""
    name = db_name(url)
    if not name.startswith("vimb_bench_"):
        raise SystemExit(f"refusing to create or drop {name!r}: scratch names start vimb_bench_")
    engine = engine_of(url)
    if engine == "postgresql":
        conn = _pg_admin(url)
        with conn.cursor() as cur:
            if drop:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone():
                return False
            cur.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        conn.close()
        return True
    if engine == "mysql":
        conn = _my_admin(url)
        cur = conn.cursor()
        if drop:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [name])
        if cur.fetchone():
            return False
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.close()
        return True
    raise SystemExit("scratch databases are made on PostgreSQL or MariaDB only")


def default_url(engine: str, size: str) -> str:
    """Return the scratch database URL for an engine and size."""
    name = f"vimb_bench_{'pg' if engine == 'postgresql' else 'my'}_{size.lower()}"
    if engine == "postgresql":
        return f"postgresql://root@127.0.0.1:5432/{name}"
    if engine == "mysql":
        return f"mysql://root@127.0.0.1:3306/{name}"
    raise SystemExit(f"unknown engine {engine!r} (postgresql or mysql)")


def setup_django(url: str) -> None:
    """Configure Django for the given database."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vimbadmin.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
