#!/usr/bin/env python3
"""Take the screenshots under docs/screenshots/: the main pages of every role at 1280 and 390 px,
in the light and the dark theme.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--lang en]

It builds a throw-away SQLite database with a small, realistic installation (an IDN domain, a
`.home.arpa` domain, an alias domain, a domain admin, aliases, a vacation), serves it with
`manage.py runserver` on a free loopback port, and drives Debian's Chromium with Playwright (no
browser is downloaded). Nothing outside the temporary directory and the output folder is touched.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

BASE_DIR = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# One throw-away password for every demo account of the temporary database.
PASSWORD = "Shot-" + secrets.token_urlsafe(16)

# (file name, role, path): each page is taken at both widths in both themes.
PAGES = [
    ("login", None, "/accounts/login/"),
    ("domains", "super", "/domains/"),
    ("domain-detail", "super", "/domains/example.org/"),
    ("domain-new", "super", "/domains/new/"),
    ("mailboxes", "super", "/mailboxes/"),
    ("mailbox-new", "super", "/mailboxes/new/"),
    ("aliases", "super", "/aliases/"),
    ("log", "super", "/log/"),
    ("admins", "super", "/accounts/admins/"),
    ("domain-admin-home", "domainadmin", "/domains/"),
    ("owner-overview", "owner", "/me/"),
    ("owner-vacation", "owner", "/me/vacation/"),
]
# role: (login, login page, the login form's address field)
LOGINS = {
    "super": ("admin@example.org", "/accounts/login/", "username"),
    "domainadmin": ("boss@bücher.example", "/accounts/login/", "username"),
    "owner": ("anna@example.org", "/me/login/", "address"),
}
WIDTHS: dict[str, ViewportSize] = {
    "1280": {"width": 1280, "height": 900},
    "390": {"width": 390, "height": 844},
}
THEMES: tuple[Literal["light"], Literal["dark"]] = ("light", "dark")


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(  # noqa: S603 (this interpreter and manage.py, fixed arguments)
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


def populate(env: dict[str, str]) -> None:
    """A small installation, written through the project's own CLI (so through its services)."""
    manage(env, "migrate", "--no-input", "-v0")
    manage(
        env, "admin", "add", "admin@example.org", "--superadmin", "--password-stdin", stdin=PASSWORD
    )
    domains = [
        ("example.org", "Main company domain", "50", "200"),
        ("bücher.example", "Bookshop (IDN)", "10", "30"),
        ("lab.home.arpa", "Home lab", "5", "10"),
    ]
    for name, description, mailboxes, aliases in domains:
        manage(
            env,
            "domain",
            "add",
            name,
            "--description",
            description,
            "--mailboxes",
            mailboxes,
            "--aliases",
            aliases,
            "--maxquota",
            "2048",
            "--quota",
            "20480",
            "--default-mailbox-quota",
            "1024",
        )
    manage(
        env,
        "domain",
        "add",
        "backup.example",
        "--description",
        "Backup MX for a customer",
        "--backupmx",
        "--no-default-aliases",
    )
    manage(env, "domain", "add", "example.net", "--no-default-aliases")
    manage(env, "aliasdomain", "add", "example.net", "example.org")
    people = [
        ("anna@example.org", "Anna Berg"),
        ("bruno@example.org", "Bruno Costa"),
        ("chloé@example.org", "Chloé Dubois"),
        ("info@bücher.example", "Bücher Info"),
        ("jörg@bücher.example", "Jörg Müller"),
        ("pi@lab.home.arpa", "Raspberry Pi"),
    ]
    for address, name in people:
        manage(
            env,
            "mailbox",
            "add",
            address,
            "--name",
            name,
            "--password-stdin",
            "--no-input",
            stdin=PASSWORD,
        )
    manage(
        env,
        "alias",
        "add",
        "sales@example.org",
        "--target",
        "anna@example.org",
        "--target",
        "bruno@example.org",
    )
    manage(
        env,
        "alias",
        "add",
        "team@bücher.example",
        "--target",
        "jörg@bücher.example",
        "--target",
        "info@bücher.example",
    )
    manage(
        env,
        "admin",
        "add",
        "boss@bücher.example",
        "--domain",
        "bücher.example",
        "--domain",
        "lab.home.arpa",
        "--password-stdin",
        stdin=PASSWORD,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (loopback URL built here)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url}")


def shoot(base: str, out: Path, lang: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("Debian's chromium is needed (scripts/system-deps.sh installs it)")
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for width_name, viewport in WIDTHS.items():
            for theme in THEMES:
                contexts = {}
                for name, role, path in PAGES:
                    if role not in contexts:
                        context = browser.new_context(
                            viewport=viewport,
                            color_scheme=theme,
                            locale=lang,
                            extra_http_headers={"Accept-Language": lang},
                        )
                        page = context.new_page()
                        if role is not None:
                            username, login_path, field = LOGINS[role]
                            page.goto(base + login_path)
                            page.locator(f"input[name={field}]").fill(username)
                            page.locator("input[name=password]").fill(PASSWORD)
                            with page.expect_navigation():
                                page.locator("main form button[type=submit]").first.click()
                        contexts[role] = page
                    page = contexts[role]
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}-{width_name}-{theme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                for page in contexts.values():
                    page.context.close()
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "docs" / "screenshots")
    parser.add_argument("--lang", default="en", help="the browser's Accept-Language")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vimb-shots-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/shots.sqlite3",
            "SECURE_COOKIES": "false",
            "DEBUG": "false",
            "SECRET_KEY": "screenshots-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "VIMBADMIN_BASE_URL": f"http://127.0.0.1:{port}",
        }
        populate(env)
        server = subprocess.Popen(  # noqa: S603 (this interpreter and manage.py)
            [PYTHON, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/accounts/login/", server)
            written = shoot(base, options.out, options.lang)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{len(written)} screenshots in {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
