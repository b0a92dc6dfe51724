"""What `migrate` installs or upgrades of the derived structures, after every run.

Migrations pfa 0002-0005 once did this by importing this package, so what a migration did
changed with the code. They are empty now; `sync` runs instead, from the post_migrate signal
(pfa.apps), and is versioned the way the structures are (pfa.derived.triggers):

- On a schema the project created (pfa.schema.marked_fresh): every list index, search index
  and trigger-maintained table the engine has a use for is installed, then the mark is
  dropped. Where the database refuses (no TRIGGER privilege, binary logging without SUPER, no
  right to create pg_trgm), a notice says so and `migrate` goes on: the lists and searches
  work, only slower. A run that stopped half-way leaves the mark, so the next one finishes.
- On every database: each trigger-maintained table that exists but is outdated (trigger bodies
  or version of an earlier release, a lost trigger) is installed anew, since its readers no
  longer use it. Its operator installed it, so an adopted database gets it back.

An adopted Postfix Admin database gets nothing else: its operator decides, with
`manage.py install_derived`.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from pfa.derived import TRIGGER_TABLES, indexes
from pfa.derived.triggers import MISSING, OUTDATED, IncompleteFill
from pfa.schema import clear_fresh_mark, marked_fresh


def sync(
    connection: BaseDatabaseWrapper,
    *,
    fresh: bool | None = None,
    out: TextIO | None = None,
    verbosity: int = 1,
) -> None:
    """Install the derived structures on a fresh schema and upgrade outdated ones anywhere.

    `fresh` overrides the schema's mark (None: read it). Needs autocommit on MariaDB/MySQL.
    """
    out = out or sys.stdout
    tables = set(connection.introspection.table_names())
    if not {"mailbox", "alias"} <= tables:
        return  # Postfix Admin's schema is not there yet (a migrate of other apps only).
    if fresh is None:
        fresh = marked_fresh(connection)
    if fresh:
        _add_indexes(connection, out)
    for structure in TRIGGER_TABLES:
        if connection.vendor not in structure.vendors:
            continue
        state = structure.state(connection)
        if state == OUTDATED or (state == MISSING and fresh):
            try:
                rows = structure.install(connection)
            except (DatabaseError, LookupError) as exc:
                # LookupError: a source column of a type the tables cannot copy.
                out.write(
                    _(
                        "\n  Notice: %(label)s not created: the database refused the triggers "
                        "(%(error)s). Lists and searches work, but slower on large domains. "
                        "See `manage.py install_derived`.\n"
                    )
                    % {"label": structure.label, "error": str(exc).strip()}
                )
                continue
            except IncompleteFill as exc:
                out.write(
                    _(
                        "\n  Notice: %(label)s not created: its fill was incomplete (%(error)s)."
                        " Lists and searches work, but slower on large domains. Run "
                        "`manage.py install_derived --search --apply` to build it again.\n"
                    )
                    % {"label": structure.label, "error": str(exc)}
                )
                continue
            if verbosity:
                done = _("upgraded") if state == OUTDATED else _("created")
                out.write(
                    _("  %(done)s %(label)s and the triggers on %(sources)s (%(rows)d rows)\n")
                    % {
                        "done": done,
                        "label": structure.label,
                        "sources": " and ".join(structure.sources),
                        "rows": rows,
                    }
                )
    if fresh and marked_fresh(connection):
        clear_fresh_mark(connection)


def _add_indexes(connection: BaseDatabaseWrapper, out: TextIO) -> None:
    """Create the list indexes and, where the extension may be had, the trigram ones."""
    with connection.cursor() as cursor:
        for index in indexes.missing(connection):
            cursor.execute(index.create_sql(connection))
    if not indexes.search_wanted(connection):
        return
    if not indexes.has_trigram_extension(connection):
        try:
            # A savepoint: a refused CREATE EXTENSION must not spoil a surrounding transaction.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(indexes.CREATE_EXTENSION_SQL)
        except DatabaseError as exc:
            out.write(
                _(
                    "\n  Notice: the search indexes were not created: the database user may not "
                    "create the pg_trgm extension (%(error)s). Searches work, but read whole "
                    "domains. See `manage.py install_derived --search`.\n"
                )
                % {"error": str(exc).strip()}
            )
            return
    with connection.cursor() as cursor:
        for index in indexes.missing_search(connection):
            cursor.execute(index.create_sql(connection))


def after_migrate(using: str, verbosity: int = 1, **kwargs: Any) -> None:
    """The post_migrate receiver: sync after `migrate`, not after `flush` (which sends the
    same signal without a plan, between tests)."""
    if "plan" not in kwargs:
        return
    from django.db import connections

    sync(connections[using], out=kwargs.get("stdout"), verbosity=verbosity)
