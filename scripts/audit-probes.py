#!/usr/bin/env python3
"""Rerun the probes of the December 2026 security audit against a live server.

Usage (from the checkout, with the project's virtualenv):

    .venv/bin/python scripts/audit-probes.py --engine postgresql
    .venv/bin/python scripts/audit-probes.py --engine mysql \\
        --database-url mysql://root@127.0.0.1:3306/vimb_audit_probes
    DATABASE_URL=... .venv/bin/python scripts/audit-probes.py --base-url http://127.0.0.1:8000 \\
        --smtp-port 2525

By default it creates (drops and recreates) a scratch database, runs `manage.py migrate`,
creates the audit's tenants through the project's services, starts gunicorn from this
virtualenv (2 sync workers, --timeout 60, DEBUG off) with its mail going to an SMTP server the
script runs itself (which can capture, stay silent or hang up), and stops it all at the end.

With --base-url it probes a running instance instead. DATABASE_URL must then name that
instance's database (the fixtures are created there, under fresh domain names, and a few probes
hold row locks or count rows). Probes that read mail need the instance's EMAIL_HOST/EMAIL_PORT
to point at --smtp-port; the probe of the error log (M1) needs a server of its own. Those say
SKIPPED otherwise.

One line per finding: FIXED, STILL PRESENT or SKIPPED, with the evidence. The exit status is 1
if any finding is still present, 2 if the script itself failed. Only the standard library and
the project's own code are used.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import html
import http.client
import os
import re
import secrets
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Probe-passw0rd-" + secrets.token_hex(4)
NEW_PASSWORD = "Probe-new-passw0rd-" + secrets.token_hex(4)
LOCKED = "Too many failed attempts"
WORKER_TIMEOUT = 60

# --------------------------------------------------------------------------------------------
# A small HTTP client: cookies, CSRF, a chosen source address (127.0.0.x on loopback)


class FormParser(HTMLParser):
    """Collect the fields of the page's forms as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                self.fields.setdefault(self._select, value)
            if "selected" in a:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def text(self) -> str:
        return html.unescape(self.body)

    def messages(self) -> list[str]:
        """The texts of the page's alerts and field errors, as the user reads them."""
        found = re.findall(
            r'<(div|p|li|span)[^>]*class="[^"]*(?:alert|invalid-feedback|errorlist)[^"]*"[^>]*>'
            r"(.*?)</\1>",
            self.body,
            flags=re.S,
        )
        texts = (html.unescape(re.sub(r"<[^>]+>", " ", inner)) for _tag, inner in found)
        return [" ".join(text.split()) for text in texts if text.strip()]

    def form(self) -> dict[str, str]:
        parser = FormParser()
        parser.feed(self.body)
        return parser.fields


class Browser:
    """One browser: its own cookies, talking from one source address."""

    def __init__(self, base_url: str, source: str = "", host: str = "") -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.source = source
        self.host_header = host
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, data: dict[str, str] | None = None, timeout: float = 90
    ) -> Response:
        source = (self.source, 0) if self.source else None
        conn = http.client.HTTPConnection(
            self.host, self.port, timeout=timeout, source_address=source
        )
        body = urlencode(data).encode() if data is not None else None
        headers = {"Host": self.host_header or f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            content = raw.read().decode("utf-8", "replace")
        finally:
            conn.close()
        seconds = time.monotonic() - started
        for value in raw.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        headers_lower = {k.lower(): v for k, v in raw.getheaders()}
        return Response(raw.status, headers_lower, content, seconds)

    def get(self, path: str, **kw: object) -> Response:
        return self.request("GET", path, **kw)  # type: ignore[arg-type]

    def post_form(self, path: str, values: dict[str, str | None], *, fill: bool = True) -> Response:
        """GET the page, fill its form (CSRF token and defaults), override, and POST it."""
        page = self.get(path)
        fields = page.form() if fill else {}
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if token:
            fields["csrfmiddlewaretoken"] = token.group(1)
        for key, value in values.items():
            if value is None:
                fields.pop(key, None)
            else:
                fields[key] = value
        return self.request("POST", path, fields)

    def login(self, username: str, password: str = PASSWORD) -> Response:
        return self.post_form("/accounts/login/", {"username": username, "password": password})

    def owner_login(self, address: str, password: str = PASSWORD) -> Response:
        return self.post_form("/me/login/", {"address": address, "password": password})


# --------------------------------------------------------------------------------------------
# An SMTP server of the script's own: capture, silent, or hang up at once


class SMTPSink:
    """A loopback SMTP server whose behaviour can be switched while the web server runs."""

    def __init__(self, port: int = 0) -> None:
        self.mode = "capture"
        self.messages: list[tuple[list[str], str]] = []
        self._held: list[socket.socket] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                if sink.mode == "refuse":
                    return
                if sink.mode == "silent":
                    sink._held.append(self.connection)
                    # Keep the socket open until the mode changes or the script ends.
                    while sink.mode == "silent":
                        time.sleep(0.2)
                    return
                sink._converse(self)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _converse(self, handler: socketserver.StreamRequestHandler) -> None:
        def say(line: str) -> None:
            handler.wfile.write((line + "\r\n").encode())
            handler.wfile.flush()

        say("220 probe-sink ESMTP")
        recipients: list[str] = []
        while True:
            line = handler.rfile.readline().decode("utf-8", "replace").strip()
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 probe-sink")
            elif verb == "RCPT":
                recipients.append(re.sub(r".*<(.*)>.*", r"\1", line))
                say("250 ok")
            elif verb == "DATA":
                say("354 go on")
                data = []
                while True:
                    chunk = handler.rfile.readline().decode("utf-8", "replace")
                    if chunk in (".\r\n", ".\n", ""):
                        break
                    data.append(chunk)
                with self._cond:
                    self.messages.append((recipients, "".join(data)))
                    self._cond.notify_all()
                recipients = []
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode != "silent":
            for conn in self._held:
                with contextlib.suppress(OSError):
                    conn.close()
            self._held.clear()

    def wait_for(
        self, predicate: Callable[[list[str], str], bool], timeout: float, since: int = 0
    ) -> str | None:
        """Return the first message captured after `since` that matches, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for recipients, text in self.messages[since:]:
                    if predicate(recipients, text):
                        return text
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)


def addressed_to(address: str, recipients: list[str], _text: str) -> bool:
    return address in recipients


def link_in(text: str) -> str:
    # Quoted-printable soft line breaks would split a long link.
    text = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
    found = re.search(r"https?://\S+/password-reset/\S+", text)
    return found.group(0) if found else ""


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Finding:
    key: str
    title: str
    state: str = "SKIPPED"
    evidence: list[str] = field(default_factory=list)

    def present(self, condition: bool, evidence: str) -> None:
        """Record one check: `condition` true means the flaw showed."""
        self.evidence.append(("PRESENT: " if condition else "") + evidence)
        if condition:
            self.state = "STILL PRESENT"
        elif self.state == "SKIPPED":
            self.state = "FIXED"


def is_5xx(response: Response) -> bool:
    return response.status >= 500


# --------------------------------------------------------------------------------------------
# The probes


class Probes:
    def __init__(self, base_url: str, tag: str, sink: SMTPSink | None, log_path: Path | None):
        self.base = base_url.rstrip("/")
        self.tag = tag
        self.sink = sink
        self.log_path = log_path
        self.ip_counter = 20
        # The audit's tenants, under names of this run.
        self.a = f"a-{tag}.example"
        self.aa = f"aa-{tag}.example"
        self.b = f"b-{tag}.example"
        self.u = f"u-{tag}.example"
        self.t = f"t-{tag}.test"
        self.root = f"root-{tag}@ops.example"
        self.boss = f"boss@{self.a}"
        self.adm_a = f"adm-a-{tag}@ops.example"
        self.adm_b = f"adm-b-{tag}@ops.example"
        self.adm_c = f"adm-c-{tag}@ops.example"
        self.adm_d = f"adm-d-{tag}@ops.example"
        self.adm_e = f"adm-e-{tag}@ops.example"
        self.adm_r = f"adm-r-{tag}@ops.example"
        self.adm_s = f"adm-s-{tag}@ops.example"
        self.alice = f"alice@{self.a}"
        self.bob = f"bob@{self.b}"

    def browser(self, host: str = "") -> Browser:
        """A browser from a loopback address of its own, so counters per address start afresh."""
        self.ip_counter += 1
        n = self.ip_counter
        source = f"127.0.{n // 250 + 1}.{n % 250 + 1}" if self._loopback() else ""
        return Browser(self.base, source, host)

    def _loopback(self) -> bool:
        return (urlsplit(self.base).hostname or "").startswith("127.")

    # ---------------------------------------------------------------------- fixtures

    def create_fixtures(self) -> None:
        from accounts.services import admin_create
        from domains.models import Domain
        from domains.services import domain_create
        from mailboxes.services import mailbox_create

        def dom(name: str, **kw: Any) -> Domain:
            kw.setdefault("create_default_aliases", False)
            return domain_create(actor=None, domain=name, **kw)

        a, aa, b = dom(self.a), dom(self.aa), dom(self.b)
        u = dom(self.u, maxquota=0, quota=0, mailboxes=0, aliases=0)
        dom(self.t)
        admin_create(actor=None, username=self.root, password=PASSWORD, superadmin=True)
        admin_create(actor=None, username=self.boss, password=PASSWORD, superadmin=True)
        admin_create(actor=None, username=self.adm_a, password=PASSWORD, domains=[a, aa, u])
        admin_create(actor=None, username=self.adm_b, password=PASSWORD, domains=[b])
        for name in (self.adm_c, self.adm_d, self.adm_e, self.adm_r, self.adm_s):
            admin_create(actor=None, username=name, password=PASSWORD, domains=[])
        mailbox_create(
            actor=None,
            domain=a,
            local_part="alice",
            password=PASSWORD,
            email_other="alice@home.example",
        )
        mailbox_create(
            actor=None,
            domain=b,
            local_part="bob",
            password=PASSWORD,
            email_other="bob@home.example",
        )

    # ---------------------------------------------------------------------- H1

    def h1(self, f: Finding) -> None:
        from aliases.models import Alias

        adm = self.browser()
        adm.login(self.adm_a)
        r = adm.post_form(
            "/aliases/new/",
            {"domain": self.a, "local_part": "boss", "targets": "thief@ext.example"},
        )
        made = Alias.objects.filter(address=self.boss).exists()
        f.present(
            r.status == 302 or made,
            f"domain admin creates alias {self.boss} (a super admin's login) -> thief@ext.example: "
            f"HTTP {r.status}, alias row {'exists' if made else 'absent'}",
        )
        if self.sink is None:
            f.evidence.append("reset mail to the super admin: not checked (no --smtp-port)")
            return
        self.sink.set_mode("capture")
        anon = self.browser()
        r = anon.post_form("/accounts/password-reset/", {"email": self.boss})
        mail = self.sink.wait_for(lambda to, text: self.boss in text or self.boss in to, 8)
        f.present(
            mail is not None and bool(link_in(mail)),
            f"anonymous reset for super admin {self.boss}: HTTP {r.status}, "
            f"{'a link was mailed' if mail else 'no link mailed within 8 s'}",
        )

    # ---------------------------------------------------------------------- M1

    def m1(self, f: Finding, start_broken: Callable[[], tuple[str, Path, Callable[[], None]]]):
        base, log, stop = start_broken()
        try:
            b = Browser(base)
            r = b.post_form(
                "/accounts/login/", {"username": self.adm_a, "password": "wrong-password-1"}
            )
            time.sleep(1)
            logged = log.read_text(errors="replace")
            has_trace = "Traceback" in logged
            f.present(
                r.status >= 500 and not has_trace,
                f"login POST against a server whose database port is closed: HTTP {r.status}; "
                f"its stderr {'has' if has_trace else 'has no'} traceback",
            )
        finally:
            stop()

    # ---------------------------------------------------------------------- M2

    def m2(self, f: Finding) -> None:
        usual = self.browser()
        r = usual.login(self.adm_b)
        if r.status != 302:
            f.evidence.append(f"could not log in as {self.adm_b} first: HTTP {r.status}")
            f.state = "STILL PRESENT"
            return
        attacker = self.browser()
        answers = [attacker.login(self.adm_b, f"wrong-password-{i}").status for i in range(6)]
        again = self.browser()
        again.source = usual.source
        r = again.login(self.adm_b)
        f.present(
            r.status != 302,
            f"6 wrong passwords for {self.adm_b} from {attacker.source} (HTTP {answers}); then "
            f"the right one from the usual address {usual.source}: HTTP {r.status}"
            + (" (logged in)" if r.status == 302 else f" {LOCKED in r.text() and 'locked'}"),
        )

    # ---------------------------------------------------------------------- M3

    def m3(self, f: Finding) -> None:
        if self.sink is None:
            f.evidence.append("needs the instance's mail on --smtp-port")
            return
        cases = (
            ("admin", "/accounts/password-reset/", "email", self.adm_a, f"ghost@{self.a}"),
            ("mailbox", "/me/password-reset/", "address", self.alice, f"ghost@{self.a}"),
        )
        for mode in ("refuse", "silent"):
            self.sink.set_mode(mode)
            for realm, url, fieldname, known, unknown in cases:
                seen = {}
                for address in (known, unknown):
                    b = self.browser()
                    r = b.post_form(url, {fieldname: address})
                    seen[address] = r
                rk, ru = seen[known], seen[unknown]
                f.present(
                    is_5xx(rk)
                    or is_5xx(ru)
                    or rk.status != ru.status
                    or rk.location != ru.location
                    or max(rk.seconds, ru.seconds) > 3.0,
                    f"SMTP {mode}, {realm} reset: known HTTP {rk.status} in {rk.seconds:.2f} s, "
                    f"unknown HTTP {ru.status} in {ru.seconds:.2f} s",
                )
        self.sink.set_mode("capture")

    # ---------------------------------------------------------------------- M4

    def m4(self, f: Finding) -> None:
        long = "L" * 5000
        pages = {}
        for who in (f"ghost@{self.a}", self.root):
            b = self.browser()
            r = b.login(who, long)
            pages[who] = r
            f.present(is_5xx(r), f"login {who} with a 5000-character password: HTTP {r.status}")
        said = {who: (r.status, r.messages()) for who, r in pages.items()}
        f.present(
            len({repr(answer) for answer in said.values()}) != 1,
            f"answers for an unknown and an existing account: {said}",
        )
        sup = self.browser()
        sup.login(self.root)
        r = sup.post_form(
            "/accounts/admins/new/",
            {
                "username": f"long-{self.tag}@ops.example",
                "password": "x" * 10000,
                "password2": "x" * 10000,
            },
        )
        f.present(is_5xx(r), f"admin create with a 10,000-character password: HTTP {r.status}")
        r = sup.post_form(
            "/accounts/password/",
            {"old_password": PASSWORD, "password": "y" * 10000, "password2": "y" * 10000},
        )
        f.present(is_5xx(r), f"own password change to 10,000 characters: HTTP {r.status}")

    # ---------------------------------------------------------------------- L1

    def l1(self, f: Finding) -> None:
        b = self.browser()
        b.login(self.adm_c)
        answers = []
        for i in range(8):
            r = b.post_form(
                "/accounts/password/",
                {
                    "old_password": f"guess-{i}-wrong",
                    "password": NEW_PASSWORD,
                    "password2": NEW_PASSWORD,
                },
            )
            text = r.text()
            answers.append("locked" if LOCKED in text else "wrong" if r.status == 200 else r.status)
        f.present(
            "locked" not in answers[:7],
            f"8 wrong current passwords on /accounts/password/: {answers}",
        )

    # ---------------------------------------------------------------------- L2

    def l2(self, f: Finding) -> None:
        from domains.models import Domain

        b = self.browser()
        b.login(self.root)
        for i, quota in enumerate(
            ("99999999999T", "9223372036854775807B", "9" * 29, "9223372036854775808")
        ):
            r = b.post_form(
                "/mailboxes/new/",
                {
                    "domain": self.u,
                    "local_part": f"q{i}",
                    "quota": quota,
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "send_welcome": None,
                },
            )
            f.present(is_5xx(r), f"mailbox quota {quota} in an unlimited domain: HTTP {r.status}")
        r = b.post_form(f"/domains/{self.u}/edit/", {"default_mailbox_quota": "9007199254740992"})
        f.present(is_5xx(r), f"domain default quota 9007199254740992: HTTP {r.status}")
        stored = Domain.objects.get(domain=self.u)
        if r.status == 302:
            r = b.post_form(
                "/mailboxes/new/",
                {
                    "domain": self.u,
                    "local_part": "qdefault",
                    "quota": "",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "send_welcome": None,
                },
            )
            f.present(is_5xx(r), f"mailbox with the default quota: HTTP {r.status}")
        del stored
        for i, quota in enumerate(("9000000000000000000B", "1000000000000000000B")):
            r = b.post_form(
                "/mailboxes/new/",
                {
                    "domain": self.u,
                    "local_part": f"big{i}",
                    "quota": quota,
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "send_welcome": None,
                },
            )
            f.present(is_5xx(r), f"mailbox of {quota} (domain total past 2^63): HTTP {r.status}")

    # ---------------------------------------------------------------------- L3, L4

    def l3(self, f: Finding) -> None:
        b = self.browser()
        b.login(self.adm_a)
        for query in (
            "date_to=9999-12-31",
            "date_from=0001-01-01",
            "page=99999999999999999999",
            "page=9223372036854775808",
        ):
            r = b.get(f"/log/?{query}")
            f.present(is_5xx(r), f"GET /log/?{query}: HTTP {r.status}")

    def l4(self, f: Finding) -> None:
        b = self.browser()
        b.login(self.adm_a)
        paths = [
            "/mailboxes/?domain=a%00b",
            "/aliases/?domain=a%00b",
            "/mailboxes/a%00b/",
            "/aliases/a%00b/",
            "/domains/a%00b/",
            "/log/?domain=a%00b",
            "/mailboxes/?q=a%00b",
        ]
        sup = self.browser()
        sup.login(self.root)
        for path in paths:
            r = b.get(path)
            f.present(is_5xx(r), f"domain admin GET {path}: HTTP {r.status}")
        r = sup.get("/accounts/admins/a%00b/")
        f.present(is_5xx(r), f"super admin GET /accounts/admins/a%00b/: HTTP {r.status}")

    # ---------------------------------------------------------------------- L5

    def l5(self, f: Finding) -> None:
        from django.db import connections, transaction

        from domains.models import Domain

        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            try:
                with transaction.atomic():
                    list(Domain.objects.select_for_update().filter(domain=self.a))
                    held.set()
                    release.wait(WORKER_TIMEOUT + 30)
            finally:
                connections.close_all()

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        if not held.wait(20):
            f.evidence.append("could not take the row lock")
            f.state = "STILL PRESENT"
            return
        b = self.browser()
        b.login(self.adm_a)
        try:
            r = b.post_form(
                "/mailboxes/new/",
                {
                    "domain": self.a,
                    "local_part": "locked-out",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "send_welcome": None,
                },
            )
            status = f"HTTP {r.status} after {r.seconds:.1f} s"
            busy = "busy" in r.text().lower()
            f.present(
                r.seconds >= WORKER_TIMEOUT - 5 or (r.status >= 500 and not busy),
                f"mailbox create while another connection holds the domain row: {status}"
                + (", a 'busy' page" if busy else ""),
            )
        except (OSError, http.client.HTTPException) as exc:
            f.present(True, f"mailbox create while the domain row is locked: {exc!r}")
        finally:
            release.set()
            holder.join(10)

    # ---------------------------------------------------------------------- L6

    def l6(self, f: Finding) -> None:
        if not self._loopback():
            f.evidence.append("needs 127.0.0.x source addresses (a loopback --base-url)")
            return
        browsers = []
        for _ in range(40):
            b = self.browser()
            page = b.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
            browsers.append((b, token.group(1) if token else ""))
        start = threading.Barrier(40)

        def attempt(item: tuple[Browser, str]) -> str:
            b, token = item
            start.wait(30)
            r = b.request(
                "POST",
                "/accounts/login/",
                {"csrfmiddlewaretoken": token, "username": self.adm_d, "password": "wrong-pw-x"},
            )
            if r.status != 200:
                return f"HTTP {r.status}"
            # Any other refusal of the form is a checked (wrong) password.
            return "locked" if LOCKED in r.text() else "checked"

        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(attempt, browsers))
        checked = answers.count("checked")
        others = [a for a in answers if a not in ("checked", "locked")]
        f.present(
            checked > 5 or bool(others),
            f"40 concurrent wrong logins for {self.adm_d} from 40 addresses: {checked} "
            f"passwords checked, {answers.count('locked')} held back (limit 5)"
            + (f", other answers {others[:3]}" if others else ""),
        )

    # ---------------------------------------------------------------------- L7

    def l7(self, f: Finding) -> None:
        if self.sink is None:
            f.evidence.append("needs the instance's mail on --smtp-port")
            return
        self.sink.set_mode("capture")
        for realm, url, fieldname, who, to in (
            ("admin", "/accounts/password-reset/", "email", self.adm_r, self.adm_r),
            ("mailbox", "/me/password-reset/", "address", self.alice, "alice@home.example"),
        ):
            before = len(self.sink.messages)
            b = self.browser(host="localhost:31337")
            r = b.post_form(url, {fieldname: who})
            mail = self.sink.wait_for(partial(addressed_to, to), 15, before)
            link = link_in(mail or "")
            f.present(
                "31337" in link or not link,
                f"{realm} reset sent with Host: localhost:31337 (HTTP {r.status}): link "
                f"{link[: len(self.base) + 30] + '…' if link else 'not received'}",
            )

    # ---------------------------------------------------------------------- L8

    def l8(self, f: Finding) -> None:
        from aliases.models import Alias

        b = self.browser()
        b.login(self.root)
        name = f"rfc2142-{self.tag}.example"
        r = b.post_form("/domains/new/", {"domain": name, "create_default_aliases": "on"})
        aliases = sorted(Alias.objects.filter(domain_id=name).values_list("address", flat=True))
        f.present(
            r.status != 302 or not any(a.startswith("postmaster@") for a in aliases),
            f"new domain with the RFC 2142 aliases ticked: HTTP {r.status}, aliases {aliases}",
        )
        r = b.post_form(
            "/mailboxes/new/",
            {
                "domain": self.t,
                "local_part": "tina",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "send_welcome": None,
            },
        )
        f.present(r.status != 302, f"mailbox tina@{self.t}: HTTP {r.status}")
        special = self.browser().login(f"nobody@corp-{self.tag}.local", "whatever-wrong-1")
        plain = self.browser().login(f"nobody@corp-{self.tag}.example", "whatever-wrong-1")
        f.present(
            special.messages() != plain.messages(),
            f"login with unknown nobody@…local: {special.messages()}; with unknown "
            f"nobody@…example: {plain.messages()}",
        )

    # ---------------------------------------------------------------------- L9

    def _admin_link(self, who: str) -> str:
        assert self.sink is not None
        before = len(self.sink.messages)
        b = self.browser()
        b.post_form("/accounts/password-reset/", {"email": who})
        mail = self.sink.wait_for(
            lambda rcpt, text: (
                (rcpt, text) in self.sink.messages[before:]  # type: ignore[union-attr]
                and who in " ".join(rcpt)
            ),
            15,
        )
        return link_in(mail or "")

    def l9(self, f: Finding) -> None:
        from accounts.models import Admin
        from accounts.services import admin_update

        if self.sink is None:
            f.evidence.append("needs the instance's mail on --smtp-port")
            return
        self.sink.set_mode("capture")
        link = self._admin_link(self.adm_r)
        if not link:
            f.present(True, f"no admin reset link for {self.adm_r} arrived")
            return
        admin_update(
            actor=None, admin=Admin.objects.get(pk=self.adm_r), email_other="other@home.example"
        )
        path = urlsplit(link).path
        b = self.browser()
        r = b.get(path)
        if r.status == 302:
            r = b.get(r.location)
        shows_form = 'name="password2"' in r.body
        f.present(
            shows_form,
            f"admin link after the alternative address changed: "
            f"{'still shows the form' if shows_form else 'refused'} (HTTP {r.status})",
        )
        link = self._admin_link(self.adm_s)
        if not link:
            f.present(True, f"no admin reset link for {self.adm_s} arrived")
            return
        path = urlsplit(link).path
        tries = []
        for _ in range(3):
            pair = []
            for _ in range(2):
                b = self.browser()
                r = b.get(path)
                form_url = r.location or path
                page = b.get(form_url)
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
                pair.append((b, form_url, token.group(1) if token else ""))
            gate = threading.Barrier(2)

            def use(item: tuple[Browser, str, str], gate: threading.Barrier = gate) -> int:
                b, url, token = item
                gate.wait(10)
                return b.request(
                    "POST",
                    url,
                    {
                        "csrfmiddlewaretoken": token,
                        "password": NEW_PASSWORD,
                        "password2": NEW_PASSWORD,
                    },
                ).status

            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                tries.append(list(pool.map(use, pair)))
            link = self._admin_link(self.adm_s)
            path = urlsplit(link).path
        both = sum(1 for t in tries if t.count(302) == 2)
        f.present(both > 0, f"one admin link used by two clients at once, 3 tries: {tries}")

    # ---------------------------------------------------------------------- L10

    def l10(self, f: Finding) -> None:
        adm = self.browser()
        adm.login(self.adm_a)
        sup = self.browser()
        sup.login(self.root)
        owner = self.browser()
        owner.owner_login(self.alice)
        for b, path in (
            (adm, f"/mailboxes/{self.alice}/password/"),
            (adm, "/mailboxes/"),
            (sup, "/accounts/admins/"),
            (owner, "/me/"),
        ):
            r = b.get(path)
            cache = r.headers.get("cache-control", "")
            f.present(
                r.status != 200 or "no-store" not in cache,
                f"GET {path}: HTTP {r.status}, Cache-Control: {cache or '(none)'}",
            )

    # ---------------------------------------------------------------------- L11

    def l11(self, f: Finding) -> None:
        from accounts.models import AuthEvent

        flood = self.browser()
        for i in range(6):
            flood.login(self.adm_e, f"wrong-password-{i}")
        before = AuthEvent.objects.count()
        page = flood.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        data = {
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "username": self.adm_e,
            "password": "wrong-again",
        }
        answers = [flood.request("POST", "/accounts/login/", data) for _ in range(100)]
        added = AuthEvent.objects.count() - before
        locked = sum(1 for r in answers if LOCKED in r.text())
        f.present(
            added > 10,
            f"100 logins against a locked account from one address ({locked} held back): "
            f"{added} new auth event rows",
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "prune_auth_events", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        f.present(
            done.returncode != 0,
            f"manage.py prune_auth_events: {'exists' if done.returncode == 0 else 'missing'}",
        )

    # ---------------------------------------------------------------------- I1, I2

    def i1(self, f: Finding) -> None:
        b = self.browser()
        b.login(self.adm_a)
        name = "\u202etxt.exe\u202c"
        r = b.post_form(f"/mailboxes/{quote(self.alice)}/edit/", {"name": name})
        if r.status != 302:
            f.present(is_5xx(r), f"mailbox name with U+202E: refused (HTTP {r.status})")
            return
        page = b.get(f"/mailboxes/{quote(self.alice)}/")
        raw = "\u202e" in page.body
        isolated = bool(re.search(r"<bdi[^>]*>\s*\u202e", page.body))
        f.present(
            raw and not isolated,
            f"mailbox name with U+202E accepted; detail page "
            f"{'shows it raw' if raw and not isolated else 'isolates or drops it'}",
        )

    def i2(self, f: Finding) -> None:
        from aliases.services import alias_create
        from domains.models import Domain

        alias_create(
            actor=None,
            domain=Domain.objects.get(domain=self.a),
            local_part="secret-project",
            targets=[self.bob],
        )
        owner = self.browser()
        r = owner.owner_login(self.bob)
        page = owner.get("/me/")
        shown = f"secret-project@{self.a}" in page.text()
        f.present(
            shown,
            f"bob's /me/ (login HTTP {r.status}, page HTTP {page.status}) "
            f"{'lists' if shown else 'does not list'} secret-project@{self.a}",
        )


# --------------------------------------------------------------------------------------------
# Setting up a server of the script's own


def create_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing database name {name!r}")
    if parts.scheme.startswith("postgres"):
        import psycopg2

        conn = psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or "",
            dbname="postgres",
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'")
        conn.close()
    elif parts.scheme.startswith("mysql"):
        import MySQLdb

        conn = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            passwd=parts.password or "",
        )
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        conn.close()
    else:
        raise SystemExit("--database-url must be postgresql:// or mysql://")


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme.startswith("postgres"):
        import psycopg2

        conn = psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or "",
            dbname="postgres",
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
    else:
        import MySQLdb

        conn = MySQLdb.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            passwd=parts.password or "",
        )
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    out = log.open("w")
    # The virtualenv's own gunicorn, with fixed arguments.
    process = subprocess.Popen(  # noqa: S603
        [
            str(gunicorn),
            "vimbadmin.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            str(WORKER_TIMEOUT),
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ended at start:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    stop_process(process)
    raise SystemExit("gunicorn did not listen within 60 s")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def server_env(database_url: str, port: int, smtp_port: int, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "SECURE_COOKIES": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VIMBADMIN_BASE_URL": f"http://127.0.0.1:{port}",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "10",
            "VIMBADMIN_AUTH_LOG_FILE": str(workdir / "auth.log"),
            "STATIC_ROOT": str(workdir / "static"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DATABASE_TEST_NAME", None)
    return env


FINDINGS = [
    ("H1", "a domain admin takes over an admin through mail routing", "h1"),
    ("M1", "unhandled exceptions logged nowhere", "m1"),
    ("M2", "anyone can lock any admin out", "m2"),
    ("M3", "reset with SMTP down: 500, enumeration, request waits for SMTP", "m3"),
    ("M4", "passwords over 4096 bytes: 500 and enumeration", "m4"),
    ("L1", "admin's own password change is an unthrottled oracle", "l1"),
    ("L2", "quota overflow gives 500", "l2"),
    ("L3", "log page 500 on edge dates and page numbers", "l3"),
    ("L4", "NUL byte in filters and identifiers gives 500", "l4"),
    ("L5", "no lock or statement timeout: dropped connections", "l5"),
    ("L6", "lockout check races past the limit", "l6"),
    ("L7", "reset links built from the Host header", "l7"),
    ("L8", "RFC 2142 aliases never created; special-use addresses refused", "l8"),
    ("L9", "admin reset links outlive the address and can be used twice at once", "l9"),
    ("L10", "no Cache-Control: no-store on logged-in pages", "l10"),
    ("L11", "auth event table grows without bound", "l11"),
    ("I1", "bidi overrides shown raw", "i1"),
    ("I2", "owner page lists other tenants' aliases", "i2"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgresql", "mysql"], default="postgresql")
    parser.add_argument("--database-url", help="scratch database (dropped and recreated)")
    parser.add_argument("--base-url", help="probe this running instance instead")
    parser.add_argument("--smtp-port", type=int, default=0, help="with --base-url: mail sink port")
    parser.add_argument("--only", help="comma-separated findings, e.g. H1,M3")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="audit-probes-"))
    processes: list[subprocess.Popen] = []
    own_server = not args.base_url
    database_url = args.database_url or (
        os.environ.get("DATABASE_URL", "") if args.base_url else ""
    )
    if not database_url:
        if args.base_url:
            raise SystemExit("--base-url needs DATABASE_URL (the instance's database)")
        database_url = {
            "postgresql": "postgresql://root@127.0.0.1:5432/vimb_audit_probes",
            "mysql": "mysql://root@127.0.0.1:3306/vimb_audit_probes",
        }[args.engine]

    sink: SMTPSink | None = None
    if own_server:
        sink = SMTPSink()
        port = free_port()
        env = server_env(database_url, port, sink.port, workdir)
        base_url = f"http://127.0.0.1:{port}"
        print(f"# scratch database {database_url}; server {base_url}; files in {workdir}")
        create_database(database_url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    else:
        base_url = args.base_url.rstrip("/")
        if args.smtp_port:
            sink = SMTPSink(args.smtp_port)
        env = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k not in ("DATABASE_TEST_NAME",)})
    os.environ["DJANGO_SETTINGS_MODULE"] = "vimbadmin.settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()

    probes = Probes(base_url, secrets.token_hex(3), sink, None)
    results: list[Finding] = []
    try:
        probes.create_fixtures()
        if own_server:
            processes.append(start_gunicorn(env, port, workdir / "gunicorn.log"))

        def start_broken() -> tuple[str, Path, Callable[[], None]]:
            broken_port = free_port()
            parts = urlsplit(database_url)
            wrong = database_url.replace(
                f"{parts.hostname}:{parts.port}", f"{parts.hostname}:{free_port()}"
            )
            if wrong == database_url:
                wrong = database_url.replace(parts.hostname or "", f"{parts.hostname}:1", 1)
            broken_env = {**env, "DATABASE_URL": wrong}
            log = workdir / "broken.log"
            process = start_gunicorn(broken_env, broken_port, log)
            return f"http://127.0.0.1:{broken_port}", log, lambda: stop_process(process)

        wanted = {k.strip().upper() for k in args.only.split(",")} if args.only else None
        for key, title, method in FINDINGS:
            if wanted and key not in wanted:
                continue
            finding = Finding(key, title)
            try:
                if key == "M1":
                    if own_server:
                        probes.m1(finding, start_broken)
                    else:
                        finding.evidence.append("needs a server of the script's own")
                else:
                    getattr(probes, method)(finding)
            except Exception as exc:
                finding.state = "ERROR"
                finding.evidence.append(f"probe failed: {exc!r}")
                traceback.print_exc(limit=3)
            results.append(finding)
            print(
                f"{finding.key:<4} {finding.state:<13} {finding.title}: "
                + "; ".join(finding.evidence),
                flush=True,
            )
    finally:
        for process in processes:
            stop_process(process)
        if own_server:
            from django.db import connections

            connections.close_all()
            log = workdir / "gunicorn.log"
            if log.exists():
                errors = [
                    line
                    for line in log.read_text(errors="replace").splitlines()
                    if " ERROR " in line or " CRITICAL " in line
                ]
                print(f"# server log {log}: {len(errors)} error line(s)")
                for line in errors:
                    print(f"#   {line[:160]}")
            if not args.keep:
                drop_database(database_url)

    present = [f.key for f in results if f.state == "STILL PRESENT"]
    failed = [f.key for f in results if f.state == "ERROR"]
    print(
        f"# {len(results)} findings probed: {len(present)} still present"
        + (f" ({', '.join(present)})" if present else "")
        + (f", {len(failed)} probe errors ({', '.join(failed)})" if failed else "")
    )
    if failed:
        return 2
    return 1 if present else 0


if __name__ == "__main__":
    sys.exit(main())
