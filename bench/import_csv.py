"""Benchmark `manage.py import_csv mailboxes`: N mailboxes from one CSV file into a fresh
database, the dry run and --apply, each timed as an operator runs it (a process of its own).

    .venv/bin/python bench/import_csv.py --mailboxes 10000 --engine postgresql

The file has a username, name and password per mailbox, spread over domains of --per-domain
mailboxes (created first with `manage.py domain add`). The apply runs with SSHA512 (one
salted SHA-512, next to no cost); the configured scheme's hash is timed on its own, so the
import's own cost and the hashes' cost are reported apart. The scratch
database (--database, default vimb_bench_csv_<pg|my>) is dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
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
        manage(url, None, "domain", "add", domain, "--no-default-aliases", "--mailboxes", "0")
    return url


def hash_cost(reps: int = 5) -> float:
    """Return the median seconds of one hash in the configured scheme (what each row adds)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vimbadmin.settings")
    django.setup()
    from mail import passwords

    times = []
    for n in range(reps):
        start = time.perf_counter()
        passwords.hash_password(f"Bench-Import-{n:06d}!x")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        url = fresh(options.engine, name, domains)
        dry = manage(url, "SSHA512", "import_csv", "mailboxes", str(source))
        apply = manage(url, "SSHA512", "import_csv", "mailboxes", str(source), "--apply")
        drop_database(options.engine, name)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    each = hash_cost()
    print(f"{count} mailboxes in {len(domains)} domains, {options.engine}")
    print(
        f"dry run {dry:.1f} s; apply {apply:.1f} s ({count / apply:.0f} mailboxes/s), with SSHA512"
    )
    print(
        f"hash cost of the configured scheme: {each * 1000:.0f} ms each, "
        f"{each * count:.0f} s for {count} mailboxes (to add to the apply)"
    )
    print(f"peak RSS of a command: {peak} MB")


if __name__ == "__main__":
    main()
