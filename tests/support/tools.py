"""The real tools the tests run, and one rule for a missing one: the test fails.

A test that proves something with Dovecot, PHP, Postfix, Chromium, fail2ban or Postfix Admin
cannot pass without it, and a skip would let `make test` report success with the proof
never made. `scripts/system-deps.sh` installs every tool on CI and on a developer machine.

A developer without some of them may opt out explicitly, per tool:

    VIMBADMIN_TESTS_ALLOW_MISSING=doveadm,php python -m pytest

which turns those failures into skips. `.ci/run` never sets it. The names are those of TOOLS
below, `chromium`, and `mailstack` for what else the mail stack needs (Postfix's and Dovecot's
database drivers, their system users, root).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ALLOW_MISSING = "VIMBADMIN_TESTS_ALLOW_MISSING"
# Daemons and their control commands live in sbin, which a user's PATH may lack.
_SBIN = ("/usr/sbin", "/sbin")


@dataclass(frozen=True)
class Tool:
    """A command on PATH (or in sbin), or a file that a package installs."""

    install: str
    command: str | None = None
    file: str | None = None

    def find(self) -> str | None:
        if self.file is not None:
            return self.file if Path(self.file).exists() else None
        search = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
        return shutil.which(self.command or "", path=search)


def _chromium() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


TOOLS: dict[str, Tool] = {
    "doveadm": Tool("Debian's dovecot-core", command="doveadm"),
    "dovecot": Tool("Debian's dovecot-core", command="dovecot"),
    "doveconf": Tool("Debian's dovecot-core", command="doveconf"),
    "postfix": Tool("Debian's postfix", command="postfix"),
    "postconf": Tool("Debian's postfix", command="postconf"),
    "php": Tool("Debian's php-cli", command="php"),
    "fail2ban-regex": Tool("Debian's fail2ban", command="fail2ban-regex"),
    "npm": Tool("Debian's npm", command="npm"),
    "postfixadmin": Tool(
        "Debian's postfixadmin", file="/usr/share/postfixadmin/public/upgrade.php"
    ),
    "vacation.pl": Tool(
        "Debian's postfixadmin",
        file="/usr/share/doc/postfixadmin/examples/VIRTUAL_VACATION/vacation.pl",
    ),
}


def allowed_missing() -> set[str]:
    """Return the tools the environment allows to be missing."""
    return {name.strip() for name in os.environ.get(ALLOW_MISSING, "").split(",") if name.strip()}


def missing(name: str, problem: str) -> NoReturn:
    """Fail the test for a missing tool, or skip it when the tool is explicitly allowed to be."""
    if name in allowed_missing():
        pytest.skip(f"{problem} ({ALLOW_MISSING} allows {name} to be missing)")
    pytest.fail(
        f"{problem}. The tests need the real tool: run scripts/system-deps.sh, or set "
        f"{ALLOW_MISSING}={name} to skip what needs it on this machine.",
        pytrace=False,
    )


def require_tool(name: str) -> str:
    """Return the path of a tool the test needs; fail the test when it is missing.

    A name that TOOLS does not list is looked up as a command.
    """
    if name == "chromium":
        tool = Tool("Debian's chromium (never a browser download)", file=_chromium())
    else:
        tool = TOOLS.get(name, Tool(f"the package that provides {name}", command=name))
    found = tool.find()
    if found is None:
        where = tool.file or f"{tool.command} on PATH or in sbin"
        missing(name, f"{name} is missing ({where}): install {tool.install}")
    return found
