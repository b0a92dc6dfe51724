"""Running management commands in-process, as the CLI tests call them."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    """Run a command and return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args: str) -> Any:
    """Run a command with --json and return the parsed output."""
    return json.loads(run(*args, "--json"))


def refused(*args: str) -> CommandError:
    """Run a command that must refuse, and return its error."""
    with pytest.raises(CommandError) as caught:
        run(*args)
    return caught.value
