"""The fail2ban filter shipped in contrib/ matches exactly the lines failed logins write."""

import logging
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.support.tools import require_tool

FILTER = Path(__file__).resolve().parent.parent / "contrib" / "fail2ban" / "vimbadmin.conf"
pytestmark = pytest.mark.django_db


def _formatted_auth_lines(caplog) -> list[str]:
    spec = settings.LOGGING["formatters"]["plain"]["format"]
    formatter = logging.Formatter(spec)
    return [formatter.format(r) for r in caplog.records if r.name == "vimbadmin.auth"]


def test_filter_matches_failed_logins_and_nothing_else(client, superadmin, tmp_path, caplog):
    fail2ban_regex = require_tool("fail2ban-regex")
    caplog.set_level(logging.INFO, logger="vimbadmin.auth")
    url = reverse("accounts:login")
    client.post(
        url, {"username": "root@admins.example", "password": "wrong"}, REMOTE_ADDR="203.0.113.9"
    )
    client.post(
        url, {"username": "nobody@evil.example", "password": "x"}, REMOTE_ADDR="198.51.100.7"
    )
    client.post(
        url,
        {"username": "root@admins.example", "password": "Correct-Horse-Battery-9"},
        REMOTE_ADDR="192.0.2.1",
    )
    lines = _formatted_auth_lines(caplog)
    assert len(lines) >= 3
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [fail2ban_regex, "--print-all-matched", str(log), str(FILTER)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    matched = [line for line in result.stdout.splitlines() if "auth failure" in line]
    assert "2 matched" in result.stdout, result.stdout
    assert any("203.0.113.9" in line for line in matched)
    assert any("198.51.100.7" in line for line in matched)
    assert not any("192.0.2.1" in line for line in matched)
