"""Every Django mail setting comes from the environment; the file backend really writes mail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Django setting -> the value read back when the environment variable below is set.
FROM_ENVIRONMENT = {
    "EMAIL_BACKEND": ("django.core.mail.backends.smtp.EmailBackend", None),
    "EMAIL_HOST": ("smtp.example.org", None),
    "EMAIL_PORT": ("465", 465),
    "EMAIL_HOST_USER": ("relay-user", None),
    "EMAIL_HOST_PASSWORD": ("relay-secret", None),
    "EMAIL_USE_TLS": ("false", False),
    "EMAIL_USE_SSL": ("true", True),
    "EMAIL_SSL_CERTFILE": ("/etc/vimbadmin/client.pem", None),
    "EMAIL_SSL_KEYFILE": ("/etc/vimbadmin/client.key", None),
    "EMAIL_TIMEOUT": ("7", 7),
    "EMAIL_FILE_PATH": ("/var/spool/vimbadmin-mail", None),
    "EMAIL_SUBJECT_PREFIX": ("[Mail admin] ", None),
    "EMAIL_USE_LOCALTIME": ("true", True),
    "DEFAULT_FROM_EMAIL": ("Mail Admin <admin@example.org>", None),
    "SERVER_EMAIL": ("errors@example.org", None),
}

SETTINGS_DUMP = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in NAMES}))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "DEFAULT_FROM_EMAIL", "SERVER_EMAIL", "DJANGO_"))
        and key not in {"DATABASE_TEST_NAME", "TIME_ZONE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="vimbadmin.settings",
        SECRET_KEY="email-settings-test-key-not-secret-0123456789abcdef",
        DATABASE_URL="sqlite:///:memory:",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_every_mail_setting_is_read_from_the_environment():
    env = _env(**{name: raw for name, (raw, _value) in FROM_ENVIRONMENT.items()})
    script = f"NAMES = {sorted(FROM_ENVIRONMENT)!r}\n{SETTINGS_DUMP}"
    result = _run([sys.executable, "-c", script], env)
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    expected = {
        name: raw if value is None else value for name, (raw, value) in FROM_ENVIRONMENT.items()
    }
    assert read == expected


def test_the_defaults_suit_a_local_mta_and_a_web_request():
    names = ["EMAIL_HOST", "EMAIL_PORT", "EMAIL_TIMEOUT", "EMAIL_FILE_PATH"]
    names += ["EMAIL_SSL_CERTFILE", "EMAIL_USE_LOCALTIME", "SERVER_EMAIL", "DEFAULT_FROM_EMAIL"]
    result = _run([sys.executable, "-c", f"NAMES = {names!r}\n{SETTINGS_DUMP}"], _env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        # A web request waits for the mail server at most this long per step (see settings).
        "EMAIL_TIMEOUT": 10,
        "EMAIL_FILE_PATH": None,
        "EMAIL_SSL_CERTFILE": None,
        "EMAIL_USE_LOCALTIME": False,
        "SERVER_EMAIL": "ViMbAdmin <postmaster@localhost>",
        "DEFAULT_FROM_EMAIL": "ViMbAdmin <postmaster@localhost>",
    }


def test_the_file_backend_configured_by_environment_writes_the_mail(tmp_path):
    spool = tmp_path / "mail"
    env = _env(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(spool),
        DEFAULT_FROM_EMAIL="Mail Admin <admin@example.org>",
        EMAIL_USE_LOCALTIME="true",
        TIME_ZONE="Asia/Tokyo",
    )
    result = _run([sys.executable, "manage.py", "sendtestemail", "olive@example.net"], env)
    assert result.returncode == 0, result.stderr
    files = list(spool.iterdir())
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes())
    assert parseaddr(message["From"]) == ("Mail Admin", "admin@example.org")
    assert message["To"] == "olive@example.net"
    assert "Test email from" in message["Subject"]
    # EMAIL_USE_LOCALTIME dates the mail in TIME_ZONE rather than UTC.
    assert message["Date"].endswith("+0900")


def test_the_file_backend_without_a_directory_stops_at_start(tmp_path):
    env = _env(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend")
    result = _run([sys.executable, "manage.py", "sendtestemail", "olive@example.net"], env)
    assert result.returncode != 0
    assert "Configuration error: EMAIL_FILE_PATH" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_and_ssl_together_stop_at_start():
    env = _env(EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")
    result = _run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "Configuration error: EMAIL_USE_TLS and EMAIL_USE_SSL" in result.stderr
