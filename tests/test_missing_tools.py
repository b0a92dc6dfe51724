"""A test whose real tool is missing fails; only an explicit, per-tool opt-out makes it a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import ALLOW_MISSING, require_tool

ROOT = Path(__file__).resolve().parent.parent
NO_SUCH_TOOL = "vimbadmin-no-such-tool"


def test_a_missing_tool_fails_the_test(monkeypatch):
    monkeypatch.delenv(ALLOW_MISSING, raising=False)
    with pytest.raises(pytest.fail.Exception, match=f"{NO_SUCH_TOOL} is missing"):
        require_tool(NO_SUCH_TOOL)


def test_only_the_tools_named_in_the_opt_out_are_skipped(monkeypatch):
    monkeypatch.setenv(ALLOW_MISSING, "php, doveadm")
    with pytest.raises(pytest.fail.Exception):
        require_tool(NO_SUCH_TOOL)
    monkeypatch.setenv(ALLOW_MISSING, f"php,{NO_SUCH_TOOL}")
    with pytest.raises(pytest.skip.Exception, match=ALLOW_MISSING):
        require_tool(NO_SUCH_TOOL)


def test_a_present_tool_is_found_where_it_is():
    php = require_tool("php")
    assert os.access(php, os.X_OK)
    assert Path(require_tool("postfixadmin")).name == "upgrade.php"


def test_the_dovecot_check_fails_without_doveadm_on_path():
    # The real test in a pytest of its own, with nothing on PATH: it fails instead of skipping.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (ALLOW_MISSING, "DATABASE_URL", "DATABASE_TEST_NAME")
    }
    env["PATH"] = ""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_passwords.py",
            "-k",
            "test_doveadm_accepts_written_hash and ARGON2ID",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "doveadm is missing" in output
    assert "1 failed" in output
    assert "skipped" not in output
