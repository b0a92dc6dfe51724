"""Two or more requests at the same moment, each on its own database connection.

The race tests prove that a row lock makes the second request wait for the first and then see
its row. SQLite cannot take part: `needs_row_locks` marks them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

needs_row_locks = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason=(
        "SQLite has no row locks (select_for_update is a no-op) and its shared-cache in-memory "
        "test database answers a second writer with 'database table is locked' instead of "
        "queueing it; the proof runs on PostgreSQL and MariaDB."
    ),
)


def start_race(calls: list[Callable[[], object]]) -> tuple[list[threading.Thread], list[object]]:
    """Start the calls in threads with their own connections, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def finish_race(threads: list[threading.Thread], outcomes: list[object]) -> list[object]:
    """Wait for the racing threads; return what each call returned or raised."""
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing request never finished (deadlock?)"
    return outcomes


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment in threads with their own connections; return outcomes."""
    return finish_race(*start_race(calls))


def split(outcomes: list[object]) -> tuple[list[object], list[ValidationError]]:
    """Return the successful outcomes and the ValidationErrors; anything else fails the test."""
    errors = [o for o in outcomes if isinstance(o, ValidationError)]
    others = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ValidationError)
    ]
    assert not others, f"unexpected failures: {others!r}"
    return [o for o in outcomes if not isinstance(o, Exception)], errors
