"""Server errors are logged with their tracebacks when DEBUG is off, and never shown to the user.

The server runs as in production (gunicorn, DEBUG=false) in a subprocess, on a database without
tables, so that a login fails inside Django the way a broken or unreachable database makes it.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRACEBACK = "Traceback (most recent call last)"


def free_port() -> int:
    """Return a loopback port that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment of a production-like server on an empty SQLite database in tmp_path."""
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "EMAIL_", "VIMBADMIN_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="vimbadmin.settings",
        DATABASE_URL=f"sqlite:///{empty}",
        DEBUG="false",
        SECRET_KEY="error-logging-test-key-not-secret-0123456789abcdefghij",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="false",
    )
    env.update(extra)
    return env


class Server:
    """A gunicorn process serving the app; `stderr()` is its output after it stopped."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        bind = f"127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "vimbadmin.wsgi", "-w", "1", "-b", bind],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited:\n{log.read_text()}") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def stderr(self) -> str:
        self.stop()
        return self.log.read_text()


@pytest.fixture
def serve(tmp_path) -> Iterator:
    servers: list[Server] = []

    def start(env: dict[str, str]) -> Server:
        server = Server(env, tmp_path / f"server{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def post_login(server: Server) -> tuple[int, str]:
    """Open the login page, then post its form as a browser would; return status and body."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(server.url("/accounts/login/"), timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": "root@example.org",
            "password": "Any-Password-At-All-42",
        }
    ).encode()
    try:
        response = opener.open(server.url("/accounts/login/"), data=data, timeout=60)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    return response.status, response.read().decode()


def test_a_server_error_is_logged_with_its_traceback_and_hidden_from_the_user(tmp_path, serve):
    errors = tmp_path / "errors.log"
    server = serve(production_env(tmp_path, VIMBADMIN_ERROR_LOG_FILE=str(errors)))
    status, body = post_login(server)
    stderr = server.stderr()

    assert status == 500
    assert "the error was logged" in body
    for secret in (TRACEBACK, "OperationalError", "no such table"):
        assert secret not in body
    for log in (stderr, errors.read_text()):
        assert "django.request ERROR Internal Server Error: /accounts/login/" in log
        assert TRACEBACK in log
        assert "OperationalError: no such table" in log


def test_without_an_error_log_file_errors_still_reach_stderr(tmp_path, serve):
    server = serve(production_env(tmp_path))
    status, _body = post_login(server)
    stderr = server.stderr()
    assert status == 500
    assert "Internal Server Error: /accounts/login/" in stderr
    assert TRACEBACK in stderr
