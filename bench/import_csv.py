"""Benchmark `manage.py import_csv mailboxes`: N mailboxes from one CSV file into a fresh
database, the dry run and --apply, each timed as an operator runs it (a process of its own).

    .venv/bin/python bench/import_csv.py --mailboxes 10000 --engine postgresql

The file has a username, name and password per mailbox, spread over domains of --per-domain
mailboxes (created first with `manage.py domain add`). The apply is run twice on fresh
databases: with the configured password scheme, and with SSHA512 (one salted SHA-512,
next to no cost), so the import's own cost and the hashes' cost are reported apart. The scratch
database (--database, default vimb_bench_csv_<pg|my>) is dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.pfa_genuine import connect, drop_database  # noqa: E402

URLS = {
    "postgresql": "postgresql://root@127.0.0.1:5432/{name}",
    "mysql": "mysql://root@127.0.0.1:3306/{name}",
}


def manage(url: str, scheme: str | None, *args: str) -> float:
    """Run one manage.py command against the scratch database; return its wall seconds."""
    env = {**os.environ, "DATABASE_URL": url}
    if scheme:
        env["VIMBADMIN_PASSWORD_SCHEME"] = scheme
    start = time.perf_counter()
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def fresh(engine: str, name: str, domains: list[str]) -> str:
    drop_database(engine, name)
    conn = connect(engine, None)
    conn.cursor().execute(f"CREATE DATABASE {name}")
    conn.close()
    url = URLS[engine].format(name=name)
    manage(url, None, "migrate", "-v0")
    for domain in domains:
        manage(url, None, "domain", "add", domain, "--no-default-aliases")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--per-domain", type=int, default=1_000)
    parser.add_argument("--engine", default="postgresql", choices=sorted(URLS))
    parser.add_argument("--database", default="")
    options = parser.parse_args()
    name = options.database or f"vimb_bench_csv_{'pg' if options.engine == 'postgresql' else 'my'}"
    count = options.mailboxes
    domains = [f"d{i:03d}.csv.example" for i in range((count - 1) // options.per_domain + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "mailboxes.csv"
        with source.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["username", "name", "password"])
            for n in range(count):
                domain = domains[n // options.per_domain]
                writer.writerow([f"user{n:06d}@{domain}", f"User {n}", f"Bench-Import-{n:06d}!x"])
        results = {}
        for label, scheme in (
            ("configured scheme", None),
            ("SSHA512 (next to no hash cost)", "SSHA512"),
        ):
            url = fresh(options.engine, name, domains)
            dry = manage(url, scheme, "import_csv", "mailboxes", str(source))
            apply = manage(url, scheme, "import_csv", "mailboxes", str(source), "--apply")
            results[label] = (dry, apply)
        drop_database(options.engine, name)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"{count} mailboxes in {len(domains)} domains, {options.engine}")
    for label, (dry, apply) in results.items():
        print(
            f"{label}: dry run {dry:.1f} s, apply {apply:.1f} s ({count / apply:.0f} mailboxes/s)"
        )
    with_hash = results["configured scheme"][1]
    without = results["SSHA512 (next to no hash cost)"][1]
    hashes = with_hash - without
    print(f"hash cost: {hashes:.1f} s ({hashes / count * 1000:.1f} ms each)")
    print(f"peak RSS of a command: {peak} MB")


if __name__ == "__main__":
    main()
