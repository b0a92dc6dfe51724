"""Server error pages: a database that gave up on a lock or a long statement says it is busy."""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

# PostgreSQL SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# deadlock_detected. The transaction was rolled back; trying again later may well succeed.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01"})
# MariaDB/MySQL error numbers: lock wait timeout, deadlock, max_statement_time (MariaDB) and
# max_execution_time (MySQL) exceeded.
BUSY_MYSQL_ERRORS = frozenset({1205, 1213, 1969, 3024})
# SQLite primary result codes (the low byte of extended ones): SQLITE_BUSY, SQLITE_LOCKED.
BUSY_SQLITE_CODES = frozenset({5, 6})


def database_busy(exc: BaseException | None) -> bool:
    """Tell whether an error is the database giving up on a lock wait or a statement in time."""
    if not isinstance(exc, DatabaseError):
        return False
    # Django re-raises the driver's exception as its own, with the original as the cause.
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate in BUSY_SQLSTATES
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in BUSY_SQLITE_CODES
    args: tuple[object, ...] = getattr(cause, "args", ())
    return bool(args) and isinstance(args[0], int) and args[0] in BUSY_MYSQL_ERRORS


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unhandled error: 503 "busy" for a database timeout, else the plain 500 page.

    Django calls this while handling the exception (which it logs with its traceback), so the
    exception is at hand; the page renders without the database, which may be the problem.
    """
    if database_busy(sys.exc_info()[1]):
        body = loader.get_template("503.html").render()
        return HttpResponse(body, status=503, headers={"Retry-After": "10"})
    return defaults.server_error(request)
