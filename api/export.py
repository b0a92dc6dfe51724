"""CSV export of the lists: the rows the list shows with its filters (search, domain), every
page, streamed in key order a page of rows at a time, so that a million rows use flat memory.

Each export view is its list view with another answer: the same get_queryset(), so the same
scope, filters and sticky domain. Password hashes are never a column. Free-text cells that a
spreadsheet would run as a formula are prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from aliases.views import AliasListView
from auditlog.views import LogListView
from core.listing.pagination import MAX_PER_PAGE, keyset_page
from domains.selectors import alias_count_of
from domains.views import AliasDomainListView, DomainListView
from mailboxes.views import MailboxListView

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like object csv.writer writes one line to, handed back as a string."""

    def write(self, value: str) -> str:
        return value


def as_text(value: Any) -> str:
    """Return a free-text cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(value: Any) -> str:
    return value.isoformat() if value else ""


def csv_lines(
    queryset: QuerySet,
    *,
    key: str,
    columns: list[tuple[str, Callable[[Any], Any]]],
    descending: bool = False,
) -> Iterator[str]:
    """Yield the header and one CSV line per row, reading the rows in pages by key."""
    writer = csv.writer(_Line())
    yield writer.writerow([name for name, _cell in columns])
    after = None
    while True:
        rows, after = keyset_page(
            queryset, key=key, after=after, size=MAX_PER_PAGE, descending=descending
        )
        for row in rows:
            yield writer.writerow([cell(row) for _name, cell in columns])
        if after is None:
            return


def _streamed(lines: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


MAILBOX_COLUMNS: list[tuple[str, Callable[[Any], Any]]] = [
    ("username", lambda r: r.username),
    ("name", lambda r: as_text(r.name)),
    ("domain", lambda r: r.domain_id),
    ("quota_bytes", lambda r: r.quota),
    ("used_bytes", lambda r: "" if r.used_bytes is None else r.used_bytes),
    ("email_other", lambda r: as_text(r.email_other)),
    ("active", lambda r: int(r.active)),
    ("created", lambda r: _when(r.created)),
    ("modified", lambda r: _when(r.modified)),
]
ALIAS_COLUMNS: list[tuple[str, Callable[[Any], Any]]] = [
    ("address", lambda r: r.address),
    ("domain", lambda r: r.domain_id),
    ("targets", lambda r: ",".join(r.targets)),
    ("active", lambda r: int(r.active)),
    ("created", lambda r: _when(r.created)),
    ("modified", lambda r: _when(r.modified)),
]
DOMAIN_COLUMNS: list[tuple[str, Callable[[Any], Any]]] = [
    ("domain", lambda r: r.domain),
    ("description", lambda r: as_text(r.description)),
    ("aliases", lambda r: r.aliases),
    ("mailboxes", lambda r: r.mailboxes),
    ("maxquota", lambda r: r.maxquota),
    ("quota", lambda r: r.quota),
    ("transport", lambda r: as_text(r.transport or "")),
    ("backupmx", lambda r: int(r.backupmx)),
    ("active", lambda r: int(r.active)),
    ("mailbox_count", lambda r: r.mailbox_count),
    ("alias_count", alias_count_of),
    ("created", lambda r: _when(r.created)),
]
ALIAS_DOMAIN_COLUMNS: list[tuple[str, Callable[[Any], Any]]] = [
    ("alias_domain", lambda r: r.alias_domain_id),
    ("target_domain", lambda r: r.target_domain_id),
    ("active", lambda r: int(r.active)),
    ("created", lambda r: _when(r.created)),
]
LOG_COLUMNS: list[tuple[str, Callable[[Any], Any]]] = [
    ("timestamp", lambda r: _when(r.timestamp)),
    ("admin", lambda r: as_text(r.username)),
    ("domain", lambda r: r.domain),
    ("action", lambda r: r.action),
    ("data", lambda r: as_text(r.data)),
]


class CsvExportMixin:
    """Answer a list view's GET with its rows as CSV instead of the page."""

    export_key: str
    export_columns: list[tuple[str, Callable[[Any], Any]]]
    export_name: str
    export_descending = False

    if TYPE_CHECKING:  # the list view's, after this class in the order

        def get_queryset(self) -> QuerySet: ...

    # Any: the list views declare HttpResponse, and a streamed answer is another kind of
    # HttpResponseBase (which Django's View accepts).
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        lines = csv_lines(
            self.get_queryset(),
            key=self.export_key,
            columns=self.export_columns,
            descending=self.export_descending,
        )
        return _streamed(lines, self.export_name)


class MailboxExportView(CsvExportMixin, MailboxListView):
    """The mailbox list as CSV."""

    export_key, export_columns, export_name = "username", MAILBOX_COLUMNS, "mailboxes"


class AliasExportView(CsvExportMixin, AliasListView):
    """The alias list as CSV."""

    export_key, export_columns, export_name = "address", ALIAS_COLUMNS, "aliases"


class DomainExportView(CsvExportMixin, DomainListView):
    """The domain list as CSV."""

    # In the list's order: by the Unicode name (domain_list's sort_name).
    export_key, export_columns, export_name = "sort_name", DOMAIN_COLUMNS, "domains"


class AliasDomainExportView(CsvExportMixin, AliasDomainListView):
    """The alias domain list as CSV."""

    export_key, export_columns = "sort_name", ALIAS_DOMAIN_COLUMNS
    export_name = "alias-domains"


class LogExportView(CsvExportMixin, LogListView):
    """The log as CSV, newest first."""

    export_key, export_columns, export_name = "id", LOG_COLUMNS, "log"
    export_descending = True
