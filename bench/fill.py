"""Fill a freshly migrated database with S, M, L or XL benchmark data, fast.

    DATABASE_URL=postgresql://root@127.0.0.1:5432/vimb_bench_pg_l python bench/fill.py --size L

Rows go straight into Postfix Admin's tables (COPY on PostgreSQL, multi-row INSERT on MariaDB)
and are what Postfix Admin and the project write themselves: lower-case addresses, one own alias
row per mailbox, maildir and local_part, quota in bytes, a `{SHA512-CRYPT}` hash (the same one for
every mailbox, hashed once), domain limits, a `create_mailbox` log row per mailbox, quota2 usage
for every third mailbox. The two admins are made with accounts.services.admin_create, so their
rows are exactly the project's; their logins are in bench/common.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

FIRST = ("anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo", "ida", "jonas")
FIRST += ("karla", "lukas", "mia", "noah", "olga", "paul", "quinn", "rosa", "sven", "tina")
FIRST += ("ulla", "viktor", "wanda", "xaver", "yara", "zoe")
LAST = ("meyer", "schmidt", "fischer", "weber", "wagner", "becker", "schulz", "hoffmann", "koch")
LAST += ("richter", "klein", "wolf", "neumann", "schwarz", "braun", "zimmermann", "krause")
LAST += ("lange", "hartmann", "werner")
WORDS = ("team", "sales", "info", "support", "billing", "office", "news", "jobs", "press", "events")

MB = 1_024_000  # VIMBADMIN_QUOTA_MULTIPLIER's default, as in Postfix Admin
MAILBOX_QUOTA_MB = 1024
SPAN = dt.timedelta(days=730)  # the history the log and created dates spread over
BATCH = 20_000

MAILBOX_COLS = [
    *("username", "password", "name", "maildir", "quota", "local_part", "domain", "created"),
    *("modified", "active", "phone", "email_other", "token", "token_validity"),
    *("password_expiry", "smtp_active"),
]
ALIAS_COLS = ["address", "goto", "domain", "created", "modified", "active"]
LOG_COLS = ["timestamp", "username", "domain", "action", "data"]
QUOTA2_COLS = ["username", "bytes", "messages"]


def local_part(j: int) -> str:
    """Return the j-th local part of a domain: first.last.number, unique, lower-case."""
    return f"{FIRST[j % len(FIRST)]}.{LAST[(j // len(FIRST)) % len(LAST)]}.{j}"


def domains_of(size: common.Size) -> list[tuple[str, int]]:
    """Return (domain, number of mailboxes) for every domain of a size, big domain first."""
    out = [(common.BIG_DOMAIN, size.big_mailboxes)]
    out += [
        (common.SMALL_DOMAIN.format(d + 1), size.small_mailboxes) for d in range(size.small_domains)
    ]
    return out


class Writer:
    """Write rows into one table: COPY on PostgreSQL, batched multi-row INSERT elsewhere."""

    def __init__(self, connection: Any, vendor: str) -> None:
        self.raw = connection
        self.vendor = vendor
        self.true, self.false = ("t", "f") if vendor == "postgresql" else (1, 0)
        self.tz = "+00" if vendor == "postgresql" else ""

    def ts(self, value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") + self.tz

    def write(self, table: str, cols: list[str], rows: Iterable[tuple]) -> int:
        count = 0
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                count += self._flush(table, cols, batch)
                batch = []
        if batch:
            count += self._flush(table, cols, batch)
        return count

    def _flush(self, table: str, cols: list[str], batch: list[tuple]) -> int:
        cur = self.raw.cursor()
        if self.vendor == "postgresql":
            # Values never hold tabs, newlines or backslashes, so COPY's text format needs no
            # escaping.
            buf = io.StringIO("".join("\t".join(map(str, r)) + "\n" for r in batch))
            cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN", buf)
        else:
            marks = ", ".join(["%s"] * len(cols))
            names = ", ".join(f"`{c}`" for c in cols)
            # MySQLdb turns executemany of one INSERT into multi-row INSERTs.
            cur.executemany(f"INSERT INTO `{table}` ({names}) VALUES ({marks})", batch)  # noqa: S608
        cur.close()
        self.raw.commit()
        return len(batch)


def check_empty(connection: Any) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM mailbox")
        if cur.fetchone()[0]:
            raise SystemExit("the mailbox table is not empty: fill a freshly migrated database")


def fill(size: common.Size, *, quiet: bool = False) -> dict[str, int]:
    """Fill the configured database with one benchmark size; return the row counts."""
    from django.db import connection, transaction

    from accounts.services import admin_create
    from domains.models import Domain, DomainSettings
    from mail import passwords

    def say(msg: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - t0:7.1f}s] {msg}", flush=True)

    from pfa.derived.search_grams import SEARCH_TABLES

    t0 = time.monotonic()
    vendor = connection.vendor
    check_empty(connection)
    # MariaDB's search tables (pfa.derived.search_grams) would be filled row by row by their
    # triggers, ~30 inserts per written row; built once after the fill they hold the same postings.
    search_tables = SEARCH_TABLES.installed(connection)
    if search_tables:
        SEARCH_TABLES.remove(connection)
    domains = domains_of(size)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - SPAN
    counts: dict[str, int] = {}

    # Domain limits are set so that every check a real domain has runs: a mailbox limit, an
    # alias limit, a per-mailbox ceiling and a total quota (the create benchmark pays for them).
    with transaction.atomic():
        Domain.objects.bulk_create(
            [
                Domain(
                    domain=name,
                    description=f"Benchmark domain {i}",
                    aliases=n * 4 + 100,
                    mailboxes=n * 2 + 100,
                    maxquota=10240,
                    quota=(n * 2 + 100) * MAILBOX_QUOTA_MB * 2,
                    transport="virtual",
                    backupmx=False,
                    created=start + SPAN * i / len(domains),
                    modified=start + SPAN * i / len(domains),
                    active=i % 97 != 5,
                    password_expiry=0,
                )
                for i, (name, n) in enumerate(domains)
            ],
            batch_size=1000,
        )
        DomainSettings.objects.bulk_create(
            [
                DomainSettings(domain_id=name, default_mailbox_quota=MAILBOX_QUOTA_MB)
                for name, _ in domains
            ],
            batch_size=1000,
        )
        admin_create(
            actor=None, username=common.SUPER_ADMIN, password=common.ADMIN_PASSWORD, superadmin=True
        )
        admin_create(
            actor=None,
            username=common.DOMAIN_ADMIN,
            password=common.ADMIN_PASSWORD,
            domains=[Domain.objects.get(pk=common.BIG_DOMAIN)],
        )
    counts["domain"] = len(domains)
    say(f"{len(domains)} domains and 2 admins")

    raw = connection.connection
    if vendor == "postgresql":
        with raw.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
    elif vendor == "mysql":
        cur = raw.cursor()
        cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
        cur.close()
    raw.autocommit(False) if vendor == "mysql" else setattr(raw, "autocommit", False)
    w = Writer(raw, vendor)
    hashed = passwords.hash_password(common.MAILBOX_PASSWORD, scheme="SHA512-CRYPT")
    expiry = w.ts(now + dt.timedelta(days=365))
    epoch = w.ts(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))

    def mailboxes() -> Iterator[tuple]:
        for name, n in domains:
            step = SPAN / max(n, 1)
            rows = []
            for j in range(n):
                local = local_part(j)
                first, last = local.split(".")[:2]
                created = w.ts(start + step * j)
                rows.append(
                    (
                        f"{local}@{name}",
                        hashed,
                        f"{first.title()} {last.title()} {j}",
                        f"{name}/{local}/",
                        MAILBOX_QUOTA_MB * MB,
                        local,
                        name,
                        created,
                        created,
                        w.false if j % 50 == 7 else w.true,
                        "",
                        "",
                        "",
                        epoch,
                        expiry,
                        w.true,
                    )
                )
            # Primary-key order keeps InnoDB's clustered index appends cheap.
            rows.sort()
            yield from rows

    def aliases() -> Iterator[tuple]:
        for name, n in domains:
            step = SPAN / max(n, 1)
            rows = []
            for j in range(n):
                local = local_part(j)
                created = w.ts(start + step * j)
                active = w.false if j % 50 == 7 else w.true
                rows.append((f"{local}@{name}", f"{local}@{name}", name, created, created, active))
            for k in range(int(n * size.aliases_per_mailbox)):
                target = local_part((k * 7) % n)
                created = w.ts(start + step * k)
                rows.append(
                    (
                        f"{WORDS[k % len(WORDS)]}-{k}@{name}",
                        f"{target}@{name},{target}@elsewhere.example",
                        name,
                        created,
                        created,
                        w.false if k % 40 == 3 else w.true,
                    )
                )
            rows.sort()
            yield from rows

    def log_rows() -> Iterator[tuple]:
        # Round robin over the domains so every domain's history is spread over the whole span,
        # in id order = time order as Postfix Admin writes it.
        total = sum(n for _, n in domains)
        step = SPAN / max(total, 1)
        who = f"{common.SUPER_ADMIN} (127.0.0.1)"
        g = 0
        for j in range(max(n for _, n in domains)):
            for name, n in domains:
                if j < n:
                    yield (
                        w.ts(start + step * g),
                        who,
                        name,
                        "create_mailbox",
                        f"{local_part(j)}@{name}",
                    )
                    g += 1

    def quota2_rows() -> Iterator[tuple]:
        for name, n in domains:
            for j in range(0, n, 3):
                messages = (j * 31) % 5000
                # PostgreSQL's merge_quota2 trigger stores a negative messages value negated as
                # is (a positive one would be treated as a Dovecot increment).
                yield (
                    f"{local_part(j)}@{name}",
                    (j * 7919 * 4096) % (MAILBOX_QUOTA_MB * MB),
                    -messages if vendor == "postgresql" else messages,
                )

    counts["mailbox"] = w.write("mailbox", MAILBOX_COLS, mailboxes())
    say(f"{counts['mailbox']} mailboxes")
    counts["alias"] = w.write("alias", ALIAS_COLS, aliases())
    say(f"{counts['alias']} aliases (own rows included)")
    counts["log"] = w.write("log", LOG_COLS, log_rows())
    say(f"{counts['log']} log rows")
    counts["quota2"] = w.write("quota2", QUOTA2_COLS, quota2_rows())
    say(f"{counts['quota2']} quota2 rows")

    if vendor == "postgresql":
        raw.autocommit = True
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    elif vendor == "mysql":
        raw.autocommit(True)
        cur = raw.cursor()
        cur.execute("ANALYZE TABLE `domain`, `mailbox`, `alias`, `log`, `quota2`, `domain_admins`")
        cur.fetchall()
        # Back to the defaults before anything else writes on this session: with both checks
        # off, MariaDB loads an INSERT into an empty table in bulk, and a duplicate that the
        # search tables' INSERT IGNORE should skip cut their first chunk short (the install
        # now turns them on itself, see pfa.derived.triggers).
        cur.execute("SET SESSION unique_checks = 1, foreign_key_checks = 1")
        cur.close()
    say("analyzed")
    if search_tables:
        SEARCH_TABLES.install(connection)
        say("search tables built (as `install_derived --search --apply` does)")
    # What an operator's cron does after other tools wrote the tables (README: domain_counters).
    from django.core.management import call_command

    call_command("domain_counters", stdout=io.StringIO())
    say("domain counters counted (manage.py domain_counters); done")
    counts["seconds"] = round(time.monotonic() - t0)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", required=True, choices=sorted(common.SIZES))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("set DATABASE_URL (or --database-url)")
    engine = common.engine_of(args.database_url)
    if engine == "sqlite" and args.size in ("L", "XL"):
        raise SystemExit("L and XL need PostgreSQL or MariaDB; SQLite is not a target at that size")
    common.setup_django(args.database_url)
    from django.core.management import call_command

    # Creates Postfix Admin's schema on an empty database; a no-op on a migrated one.
    call_command("migrate", verbosity=0, interactive=False)
    counts = fill(common.SIZES[args.size], quiet=args.quiet)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
