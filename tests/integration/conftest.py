"""Fixtures for the real mail stack: a scratch database, Postfix and Dovecot on loopback.

Run per engine, in a pytest process of its own:

    DATABASE_URL=postgresql://root@127.0.0.1:5432/vimb_it \
        python -m pytest tests/integration -m mailstack
    DATABASE_URL=mysql://root@127.0.0.1:3306/vimb_it \
        python -m pytest tests/integration -m mailstack

pytest-django builds a uniquely named test database with the project's `migrate`; tests use
committed transactions (`django_db(transaction=True)`) because Postfix and Dovecot read the
rows from their own connections. On SQLite the tests skip (Postfix and Dovecot cannot read it);
a missing Postfix or Dovecot, or a part of them, fails them (tests/support/tools.py).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from accounts.models import Admin
from tests.support.mailstack import (
    MailStack,
    require_stack,
    running_stack,
)

_DRIVERS = {"postgresql": "pgsql", "mysql": "mysql"}


def _driver() -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return _DRIVERS.get(engine)


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """Give this run's test database a unique name, so parallel runs never collide."""
    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["NAME"] = f"vimb_it_{os.getpid()}_{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def mailstack(django_db_setup: Any) -> Iterator[MailStack]:
    """Postfix and Dovecot reading the test database through `mailconfig`'s files."""
    require_stack(_driver())
    # After django_db_setup, settings name the test database, so the generated files do too.
    with running_stack() as stack:
        yield stack


@pytest.fixture
def stack(mailstack: MailStack, pfa_cleanup: None, settings: Any) -> MailStack:
    """The running stack, with committed data and the project's default hash scheme."""
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    return mailstack


@pytest.fixture
def actor(stack: MailStack) -> Admin:
    from accounts.services import admin_create

    return admin_create(
        actor=None,
        username=f"root-{secrets.token_hex(4)}@admins.example",
        password=secrets.token_urlsafe(16),
        superadmin=True,
        check_policy=False,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Attach the daemons' log tails to a failed test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "mailstack" in getattr(item, "fixturenames", ()):
        stack = item.funcargs.get("mailstack") if hasattr(item, "funcargs") else None
        if isinstance(stack, MailStack):
            report.sections.append(("mail stack logs", stack.logs(80)))
