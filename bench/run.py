"""Benchmark the project over HTTP at one size: fill a scratch database, serve it, time the pages.

    python bench/run.py --size L --engine postgresql        # or: make bench SIZE=L ENGINE=mysql

Without --url this creates (or reuses) the scratch database vimb_bench_<pg|my>_<size>, fills it
with bench/fill.py when it is empty, starts gunicorn (2 workers) on it, logs in as the benchmark
super admin and domain admin, and times every page with warm-up and repetitions (median, p95),
the response sizes and the server's peak memory. With --url it measures a server that already runs
on a database filled by bench/fill.py. A table is printed and the whole result, with the machine,
is written to bench/results/<engine>-<size>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.cookiejar
import json
import math
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

RESULTS = common.ROOT / "bench" / "results"
PAGE_SIZE = int(os.environ.get("VIMBADMIN_LIST_PAGE_SIZE", "50"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int
    body: bytes
    location: str
    seconds: float


class Browser:
    """A cookie-keeping HTTP client that never follows redirects by itself."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base.rstrip("/")
        self.headers = headers or {}
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (http only)
        req.add_header("Referer", self.base + path)
        for name, value in self.headers.items():
            req.add_header(name, value)
        start = time.perf_counter()
        try:
            with self.opener.open(req, timeout=120) as resp:
                content = resp.read()
                status, location = resp.status, resp.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            content = exc.read()
            status, location = exc.code, exc.headers.get("Location", "")
        return Response(status, content, location, time.perf_counter() - start)

    def csrf(self, *paths: str) -> str:
        for path in paths:
            body = self.request(path).body
            found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
            if found:
                return found.group(1).decode()
        print(f"  no CSRF token in {', '.join(paths)}")
        return ""

    def login(self, username: str, password: str) -> None:
        token = self.csrf("/accounts/login/")
        resp = self.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        if resp.status != 302:
            raise SystemExit(f"login as {username} failed (HTTP {resp.status})")


def form_fields(page: bytes, hint: str, default_action: str) -> tuple[str, dict[str, str]]:
    """Return the action and default values of the POST form that mentions `hint`."""
    text = page.decode("utf-8", "replace")
    forms = re.findall(r"(<form[^>]*>)(.*?)</form>", text, re.S | re.I)
    tag, chosen = next(((t, f) for t, f in forms if "post" in t.lower() and hint in f), ("", ""))
    action = re.search(r'action="([^"]+)"', tag)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", chosen, re.I):
        name = re.search(r'name="([^"]*)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]*)"', tag) or [None, "text"])[1].lower()
        value = html.unescape((re.search(r'value="([^"]*)"', tag) or [None, ""])[1])
        if kind in ("checkbox", "radio"):
            if re.search(r"\schecked", tag):
                fields[name.group(1)] = value or "on"
        elif kind not in ("submit", "button"):
            fields[name.group(1)] = value
    for name, inner in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', chosen, re.S):
        selected = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', inner) or re.search(
            r'<option[^>]*value="([^"]*)"', inner
        )
        fields[name] = html.unescape(selected.group(1)) if selected else ""
    for name, inner in re.findall(
        r'<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', chosen, re.S
    ):
        fields[name] = html.unescape(inner.strip())
    return (html.unescape(action.group(1)) if action else default_action), fields


@dataclass
class Step:
    """One measured request, repeated."""

    name: str
    role: str
    path: str
    kind: str = "list"  # list, create or toggle
    # Sent with the role's API token instead of its session (/api/v1/).
    api: bool = False
    times: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    queries: int | None = None
    sql_ms: float | None = None
    python_cpu_ms: float | None = None
    slowest_sql: str = ""
    slowest_ms: float | None = None
    # create: the request's time minus one hash timed just before it, in this process
    beyond_hash: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ms = sorted(t * 1000 for t in self.times)
        return {
            "name": self.name,
            "role": self.role,
            "path": self.path,
            "kind": self.kind,
            "n": len(ms),
            "median_ms": round(statistics.median(ms), 1) if ms else None,
            "p95_ms": round(ms[max(0, math.ceil(0.95 * len(ms)) - 1)], 1) if ms else None,
            "max_ms": round(ms[-1], 1) if ms else None,
            "bytes": int(statistics.median(self.sizes)) if self.sizes else None,
            "statuses": sorted(set(self.statuses)),
            "queries": self.queries,
            "sql_ms": self.sql_ms,
            "python_cpu_ms": self.python_cpu_ms,
            "slowest_query_ms": self.slowest_ms,
            "slowest_query": self.slowest_sql[:2000],
            "beyond_hash_ms": (
                round(statistics.median(self.beyond_hash) * 1000, 1) if self.beyond_hash else None
            ),
        }


def pages(size: common.Size) -> list[Step]:
    """Return the GET steps of both roles."""
    big = common.BIG_DOMAIN
    last = max(1, math.ceil(size.big_mailboxes / PAGE_SIZE))
    deep = min(1000, last)
    alias_last = max(1, math.ceil(size.big_mailboxes * (1 + size.aliases_per_mailbox) / PAGE_SIZE))
    total_log = size.big_mailboxes + size.small_domains * size.small_mailboxes
    log_deep = min(1000, max(1, math.ceil(total_log / PAGE_SIZE)))
    steps = []
    for role in ("super", "domain"):
        steps += [
            Step("domain list", role, "/domains/"),
            Step("mailbox list p1", role, f"/mailboxes/?domain={big}"),
            Step(f"mailbox list p{deep}", role, f"/mailboxes/?domain={big}&page={deep}"),
            Step("mailbox list last", role, f"/mailboxes/?domain={big}&page={last}"),
            Step("mailbox search few", role, f"/mailboxes/?domain={big}&q=hartmann.12"),
            Step("mailbox search many", role, f"/mailboxes/?domain={big}&q=anna"),
            Step("alias list p1", role, f"/aliases/?domain={big}"),
            Step(
                f"alias list p{min(1000, alias_last)}",
                role,
                f"/aliases/?domain={big}&page={min(1000, alias_last)}",
            ),
            Step("alias search", role, f"/aliases/?domain={big}&q=sales-1"),
            Step("log p1", role, f"/log/?domain={big}"),
            Step(f"log p{log_deep}", role, f"/log/?domain={big}&page={log_deep}"),
        ]
    # Everything at once: no domain filter (an empty value clears the sticky one).
    steps += [
        Step("log p1 all domains", "super", "/log/?domain="),
        Step("log p1 all my domains", "domain", "/log/?domain="),
        Step(f"log p{log_deep} all domains", "super", f"/log/?domain=&page={log_deep}"),
        Step("mailbox list all domains", "super", "/mailboxes/?domain="),
        Step("mailbox search all domains", "super", "/mailboxes/?domain=&q=hartmann.12"),
        Step("domain search", "super", "/domains/?q=d09"),
    ]
    return steps


def api_steps(size: common.Size) -> list[Step]:
    """Return the REST API's list steps of both roles: first pages, a deep page by cursor."""
    from api.pagination import encode_cursor
    from mailboxes.models import Mailbox

    big = common.BIG_DOMAIN
    deep_row = min(1000, max(1, math.ceil(size.big_mailboxes / PAGE_SIZE))) * PAGE_SIZE
    keys = Mailbox.objects.filter(domain_id=big).order_by("username").values_list("username")
    found = keys[max(0, min(deep_row, size.big_mailboxes) - PAGE_SIZE - 1) :][:1]
    cursor = encode_cursor(found[0][0]) if found else ""
    steps = []
    for role in ("super", "domain"):
        steps += [
            Step("api domain list", role, "/api/v1/domains/", api=True),
            Step("api mailbox list p1", role, f"/api/v1/mailboxes/?domain={big}", api=True),
            Step(
                "api mailbox list deep (cursor)",
                role,
                f"/api/v1/mailboxes/?domain={big}&cursor={cursor}",
                api=True,
            ),
            Step(
                "api mailbox search many", role, f"/api/v1/mailboxes/?domain={big}&q=anna", api=True
            ),
            Step("api alias list p1", role, f"/api/v1/aliases/?domain={big}", api=True),
            Step("api log p1", role, f"/api/v1/log/?domain={big}", api=True),
        ]
    steps.append(Step("api mailbox list all domains", "super", "/api/v1/mailboxes/", api=True))
    return steps


def api_tokens() -> dict[str, str]:
    """Create an API token for each role's admin; return their keys."""
    from accounts.models import Admin
    from api.services import api_token_create

    keys = {}
    for role, username in (("super", common.SUPER_ADMIN), ("domain", common.DOMAIN_ADMIN)):
        admin = Admin.objects.get(pk=username)
        _token, keys[role] = api_token_create(actor=None, admin=admin, name="bench", expires=None)
    return keys


def measure(browser: Browser, step: Step, warmup: int, reps: int) -> None:
    for i in range(warmup + reps):
        resp = browser.request(step.path)
        if i >= warmup:
            step.times.append(resp.seconds)
            step.sizes.append(len(resp.body))
            step.statuses.append(resp.status)


def measure_create(browser: Browser, reps: int, tag: str) -> Step:
    """Time POSTs of the mailbox create form (the GET of the form is not timed)."""
    path = f"/mailboxes/new/?domain={common.BIG_DOMAIN}"
    step = Step("create mailbox", "domain", path, kind="create")
    for i in range(reps + 1):
        page = browser.request(path)
        if page.status != 200:
            step.statuses.append(page.status)
            return step
        action, data = form_fields(page.body, 'name="local_part"', path)
        # No welcome mail: the benchmark times the create, not an SMTP server.
        data.pop("send_welcome", None)
        data["local_part"] = f"bench-{tag}-{i}"
        if "domain" in data and not data["domain"]:
            data["domain"] = common.BIG_DOMAIN
        for name in data:
            if "password" in name:
                data[name] = common.MAILBOX_PASSWORD
        if "name" in data:
            data["name"] = f"Bench {tag} {i}"
        # The hash's own cost right now, so machine load moves both numbers alike.
        hashed = hash_cost(1)
        resp = browser.request(action, data)
        if i == 0:
            if resp.status != 302:
                print(f"  create mailbox answered {resp.status}; form fields {sorted(data)}")
            continue  # warm-up
        step.times.append(resp.seconds)
        step.beyond_hash.append(resp.seconds - hashed)
        step.sizes.append(len(resp.body))
        step.statuses.append(resp.status)
    return step


def measure_toggle(browser: Browser, reps: int) -> Step:
    """Time the one-click active toggle of one mailbox, switching it off and on again."""
    username = "anna.meyer.0@" + common.BIG_DOMAIN
    path = f"/mailboxes/{username}/toggle/"
    step = Step("toggle active", "domain", path, kind="toggle")
    token = browser.csrf(f"/mailboxes/?domain={common.BIG_DOMAIN}", "/domains/")
    for i in range(reps + 2):
        resp = browser.request(path, {"csrfmiddlewaretoken": token, "active": str((i + 1) % 2)})
        if i >= 2:
            step.times.append(resp.seconds)
            step.sizes.append(len(resp.body))
            step.statuses.append(resp.status)
    return step


def hash_cost(reps: int = 5) -> float:
    """Return the median seconds of one hash in the configured scheme (what create must pay)."""
    from mail import passwords

    times = []
    for _ in range(reps):
        start = time.perf_counter()
        passwords.hash_password(common.MAILBOX_PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_queries(steps: list[Step], keys: dict[str, str]) -> None:
    """Run each GET in-process with Django's test client and record its SQL (count, slowest)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Admin

    clients = {}
    for role, username in (("super", common.SUPER_ADMIN), ("domain", common.DOMAIN_ADMIN)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(Admin.objects.get(pk=username))
        clients[role] = client
    for step in steps:
        if step.kind != "list":
            continue
        client = Client(HTTP_HOST="127.0.0.1") if step.api else clients[step.role]
        extra = {"HTTP_AUTHORIZATION": f"Bearer {keys[step.role]}"} if step.api else {}
        client.get(step.path, **extra)  # warm caches (column lists, sticky domain)
        cpu = time.process_time()
        with CaptureQueriesContext(connection) as ctx:
            client.get(step.path, **extra)
        # CPU time of this process only: the application's own cost, whatever the load.
        step.python_cpu_ms = round((time.process_time() - cpu) * 1000, 1)
        step.queries = len(ctx.captured_queries)
        step.sql_ms = round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1)
        if ctx.captured_queries:
            slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
            step.slowest_ms = round(float(slowest["time"]) * 1000, 1)
            step.slowest_sql = slowest["sql"]


def proc_tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += proc_tree(int(child))
    return out


def memory(pid: int) -> dict[str, Any]:
    """Return VmHWM (peak) and VmRSS in MB of the server's master and workers."""
    per = []
    for p in proc_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        values = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M))
        per.append({"pid": p, **{k: round(int(v) / 1024, 1) for k, v in values.items()}})
    return {
        "processes": per,
        "peak_worker_mb": max((p.get("VmHWM", 0) for p in per[1:]), default=None),
        "peak_total_mb": round(sum(p.get("VmHWM", 0) for p in per), 1),
    }


def machine(url: str) -> dict[str, Any]:
    """Describe the machine, the software versions and the database server."""
    import django
    import gunicorn
    from django.db import connection

    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    info: dict[str, Any] = {
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "engine": common.engine_of(url),
        "database": common.db_name(url),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        info["db_server"] = cur.fetchone()[0]
        if connection.vendor == "postgresql":
            for name in ("shared_buffers", "work_mem", "effective_cache_size"):
                cur.execute(f"SHOW {name}")
                info[name] = cur.fetchone()[0]
        else:
            cur.execute("SELECT @@innodb_buffer_pool_size")
            info["innodb_buffer_pool_mb"] = int(cur.fetchone()[0]) // 1024 // 1024
        counts = {}
        for table in ("domain", "mailbox", "alias", "log", "quota2", "admin"):
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cur.fetchone()[0]
        info["rows"] = counts
    return info


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-secret"),
        "SECURE_COOKIES": "false",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [str(gunicorn) if gunicorn.exists() else "gunicorn", "vimbadmin.wsgi"]
    cmd += ["-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=common.ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log}") from None
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start; see {log}")


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'page':32} {'role':6} {'median':>8} {'p95':>8} {'bytes':>8} {'SQL':>4} "
        f"{'sql ms':>7} {'cpu ms':>7} {'HTTP':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        med = "-" if r["median_ms"] is None else f"{r['median_ms']:.1f}"
        p95 = "-" if r["p95_ms"] is None else f"{r['p95_ms']:.1f}"
        queries = "" if r["queries"] is None else str(r["queries"])
        print(
            f"{r['name']:32} {r['role']:6} {med:>8} {p95:>8} {r['bytes'] or 0:>8} "
            f"{queries:>4} {r['sql_ms'] if r['sql_ms'] is not None else '':>7} "
            f"{r['python_cpu_ms'] if r['python_cpu_ms'] is not None else '':>7} "
            f"{','.join(map(str, r['statuses'])):>6}"
        )


def raise_buffer_pool(connection: Any, megabytes: int) -> None:
    """Give InnoDB a buffer pool of at least `megabytes` (it resizes online), saying so."""
    if megabytes <= 0:
        return
    with connection.cursor() as cur:
        cur.execute("SELECT @@innodb_buffer_pool_size")
        current = int(cur.fetchone()[0])
        wanted = megabytes * 1024 * 1024
        if current >= wanted:
            return
        print(
            f"raising innodb_buffer_pool_size from {current // 1024 // 1024} MB to {megabytes} MB"
            " for this run (--mysql-buffer-pool 0 leaves it alone)",
            flush=True,
        )
        cur.execute("SET GLOBAL innodb_buffer_pool_size = %s", [wanted])
        # The resize runs in the background; wait until the server reports the new size.
        for _ in range(120):
            cur.execute("SELECT @@innodb_buffer_pool_size")
            if int(cur.fetchone()[0]) >= wanted:
                return
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", required=True, choices=sorted(common.SIZES))
    parser.add_argument("--engine", default="postgresql", choices=("postgresql", "mysql"))
    parser.add_argument("--database-url", help="default: the scratch database of engine and size")
    parser.add_argument("--url", help="measure this running server instead of starting one")
    parser.add_argument("--fresh", action="store_true", help="drop and refill the scratch database")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--create-reps", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="measure only pages whose name contains this text")
    parser.add_argument("--no-queries", action="store_true", help="skip the in-process SQL count")
    parser.add_argument(
        "--mysql-buffer-pool",
        default="2048",
        metavar="MB",
        help="on MariaDB/MySQL, raise innodb_buffer_pool_size to this many MB for the run if it"
        " is smaller (SET GLOBAL, lost at the server's restart; 0 leaves the server alone)."
        " The default 128 MB holds less than the L database; a server of that size has more.",
    )
    args = parser.parse_args()

    size = common.SIZES[args.size]
    url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or common.default_url(args.engine, args.size)
    )
    engine = common.engine_of(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    server = None
    if not args.url:
        common.create_database(url, drop=args.fresh)
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "-v0"],
            cwd=common.ROOT,
            env={
                **env,
                "DJANGO_SETTINGS_MODULE": "vimbadmin.settings",
                "SECRET_KEY": "bench-only-not-secret",
            },
            check=True,
        )
    common.setup_django(url)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM mailbox")
        empty = cur.fetchone()[0] == 0
    if empty:
        if args.url:
            raise SystemExit("the database is empty: fill it with bench/fill.py first")
        print(f"filling {common.db_name(url)} ({args.size}) ...", flush=True)
        subprocess.run(  # noqa: S603 (this interpreter and this repository's script)
            [
                sys.executable,
                str(common.ROOT / "bench" / "fill.py"),
                "--size",
                args.size,
                "--database-url",
                url,
            ],
            check=True,
        )
    if engine == "mysql":
        raise_buffer_pool(connection, int(args.mysql_buffer_pool))
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM domain")
        domains = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM vimbadmin_domain_stats")
        counted = cur.fetchone()[0]
    if counted < domains:
        # A database filled before the domain counters existed: count them as cron would.
        from django.core.management import call_command

        print("counting the domain counters (manage.py domain_counters) ...", flush=True)
        call_command("domain_counters")
    base = args.url
    if not base:
        port = free_port()
        server = start_server(
            url, port, args.workers, RESULTS / f"gunicorn-{engine}-{args.size}.log"
        )
        base = f"http://127.0.0.1:{port}"
    try:
        browsers = {"super": Browser(base), "domain": Browser(base)}
        browsers["super"].login(common.SUPER_ADMIN, common.ADMIN_PASSWORD)
        browsers["domain"].login(common.DOMAIN_ADMIN, common.ADMIN_PASSWORD)
        keys = api_tokens()
        for role, key in keys.items():
            browsers[f"{role}-api"] = Browser(base, {"Authorization": f"Bearer {key}"})
        mem_before = memory(server.pid) if server else None
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        every = [*pages(size), *api_steps(size)]
        steps = [s for s in every if not args.only or args.only in s.name]
        for step in steps:
            browser = browsers[f"{step.role}-api" if step.api else step.role]
            measure(browser, step, args.warmup, args.reps)
            print(
                f"  {step.name} ({step.role}): {statistics.median(step.times) * 1000:.1f} ms",
                flush=True,
            )
        if not args.only or "create" in args.only or "toggle" in args.only:
            steps.append(measure_create(browsers["domain"], args.create_reps, stamp.lower()))
            steps.append(measure_toggle(browsers["domain"], args.reps))
        mem_after = memory(server.pid) if server else None
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    if not args.no_queries:
        count_queries(steps, keys)
    result = {
        "size": args.size,
        "engine": engine,
        "when": stamp,
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "reps": args.reps,
        "warmup": args.warmup,
        "workers": args.workers,
        "page_size": PAGE_SIZE,
        "hash_ms": round(hash_cost() * 1000, 1),
        "machine": machine(url),
        "loadavg_before": load_before,
        "memory_before": mem_before,
        "memory_after": mem_after,
        "steps": [s.summary() for s in steps],
    }
    out = RESULTS / f"{engine}-{args.size}-{stamp}.json"
    out.write_text(json.dumps(result, indent=2))
    print()
    print(f"{args.size} on {result['machine']['db_server'][:40]} ({result['machine']['rows']})")
    print_table(result["steps"])
    if mem_after:
        peak = mem_after["peak_worker_mb"], mem_after["peak_total_mb"]
        print(f"server peak RSS: worker {peak[0]} MB, all {peak[1]} MB")
    for step in result["steps"]:
        if step["beyond_hash_ms"] is not None:
            print(
                f"{step['name']}: median {step['beyond_hash_ms']} ms beyond the hash timed before"
                " each request (target: at most 30 ms)"
            )
    print(f"hash cost {result['hash_ms']} ms; written {out.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
