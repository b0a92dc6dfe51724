"""Benchmark `manage.py import_vimbadmin`: a ViMbAdmin 3 database of N mailboxes imported into a
fresh database, dry run and --apply, each timed as an operator runs it (a process of its own).

    .venv/bin/python bench/import_vimbadmin.py --mailboxes 100000 --engine postgresql

The source gets the genuine ViMbAdmin 3 DDL (tests/support/vimbadmin3.py) and N mailboxes in
domains of --per-domain mailboxes, each with its own alias row, one hash (`doveadm pw -s
BLF-CRYPT` stripped, as ViMbAdmin stores it) shared by all, one alias, one log row per domain.
Scratch databases: `<prefix>_src` and `<prefix>_dst` (--prefix, default vimb_bench_import_<pg|my>),
dropped at the end unless --keep. Prints wall time, mailboxes per second and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import vimbadmin3 as v3  # noqa: E402
from tests.support.pfa_genuine import connect, drop_database  # noqa: E402

STAMP = dt.datetime(2019, 5, 4, 3, 2, 1)  # noqa: DTZ001 (a naive DATETIME, as ViMbAdmin's)
ROWS_PER_INSERT = 1000


def _insert_many(cur: object, table: str, columns: list[str], rows: list[tuple]) -> None:
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        values = ", ".join([marks] * len(chunk))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
        cur.execute(sql, [value for row in chunk for value in row])  # type: ignore[attr-defined]


def fill_source(engine: str, name: str, mailboxes: int, per_domain: int) -> None:
    conn = v3.create_database(engine, name)
    cur = conn.cursor()
    stored = v3.doveadm_hash("BLF-CRYPT", "Bench-old-Passw0rd")
    domains = (mailboxes + per_domain - 1) // per_domain
    _insert_many(
        cur,
        "domain",
        ["id", "domain", "max_quota", "quota", "transport", "created", "modified"],
        [
            (i + 1, f"d{i:05d}.import.example", 0, 0, "virtual", STAMP, STAMP)
            for i in range(domains)
        ],
    )
    rows, aliases = [], []
    for n in range(mailboxes):
        did = n // per_domain + 1
        domain = f"d{did - 1:05d}.import.example"
        local = f"u{n:07d}"
        address = f"{local}@{domain}"
        rows.append(
            (
                address,
                stored,
                local,
                local,
                1024 * 1024 * 100,
                True,
                f"/srv/vmail/{domain}/{local}",
                f"maildir:/srv/vmail/{domain}/{local}/mail:LAYOUT=fs",
                STAMP,
                STAMP,
                did,
            )
        )
        aliases.append((address, address, True, STAMP, STAMP, did))
    _insert_many(
        cur,
        "mailbox",
        [
            "username",
            "password",
            "name",
            "local_part",
            "quota",
            "active",
            "homedir",
            "maildir",
            "created",
            "modified",
            "Domain_id",
        ],
        rows,
    )
    for did in range(1, domains + 1):
        domain = f"d{did - 1:05d}.import.example"
        aliases.append(
            (f"info@{domain}", f"u{(did - 1) * per_domain:07d}@{domain}", True, STAMP, STAMP, did)
        )
    _insert_many(
        cur, "alias", ["address", "goto", "active", "created", "modified", "Domain_id"], aliases
    )
    _insert_many(
        cur,
        "log",
        ["action", "data", "timestamp", "Domain_id"],
        [("DOMAIN_ADD", f"added domain {did}", STAMP, did) for did in range(1, domains + 1)],
    )
    if engine == "mysql":
        conn.commit()
    conn.close()


def _url(engine: str, name: str) -> str:
    return v3.source_url(engine, name)


def _manage(args: list[str], database_url: str, source: str) -> tuple[float, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "VIMBADMIN_IMPORT_SOURCE": source}
    env.pop("DATABASE_TEST_NAME", None)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--per-domain", type=int, default=100)
    parser.add_argument("--engine", choices=["postgresql", "mysql"], default="postgresql")
    parser.add_argument("--prefix")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    prefix = args.prefix or f"vimb_bench_import_{args.engine[:2]}"
    source, target = f"{prefix}_src", f"{prefix}_dst"
    started = time.monotonic()
    fill_source(args.engine, source, args.mailboxes, args.per_domain)
    filled = time.monotonic() - started
    print(f"filled the ViMbAdmin source: {args.mailboxes:,} mailboxes in {filled:.1f} s")
    drop_database(args.engine, target)
    admin = connect(args.engine)
    admin.cursor().execute(
        f'CREATE DATABASE "{target}"'
        if args.engine == "postgresql"
        else f"CREATE DATABASE `{target}`"
    )
    admin.close()
    target_url = _url(args.engine, target)
    _manage(["migrate", "-v0"], target_url, "")
    try:
        dry, _ = _manage(["import_vimbadmin"], target_url, _url(args.engine, source))
        wet, out = _manage(["import_vimbadmin", "--apply"], target_url, _url(args.engine, source))
        again, _ = _manage(["import_vimbadmin", "--apply"], target_url, _url(args.engine, source))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(out.strip().splitlines()[-1])
        print(
            "| engine | mailboxes | dry run | --apply | mailboxes/s | second --apply | peak RSS |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {args.engine} | {args.mailboxes:,} | {dry:.1f} s | {wet:.1f} s | "
            f"{args.mailboxes / wet:,.0f} | {again:.1f} s | {peak:.0f} MB |"
        )
    finally:
        if not args.keep:
            drop_database(args.engine, source)
            drop_database(args.engine, target)


if __name__ == "__main__":
    main()
