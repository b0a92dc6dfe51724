"""Read an uploaded CSV file into rows, or refuse it with a message the admin can act on.

UTF-8 (with or without the BOM Excel writes) and UTF-16 with a BOM are read; commas,
semicolons (Excel in many locales) and tabs are recognised from the header line. Column names
are compared in lower case. A cell the CSV export guarded against formulas ('=...) is read
back without its quote.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

KINDS = ("domains", "mailboxes", "aliases")
REQUIRED = {
    "domains": ("domain",),
    "mailboxes": ("username",),
    "aliases": ("address", "targets"),
}
DEFAULT_MAX_BYTES = 2_000_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvRefused(Exception):
    """The file cannot be imported at all; the message says why."""


@dataclass
class CsvRows:
    """The columns of a file and its data rows, each with its row number (the header is 1)."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


def max_bytes() -> int:
    """Return the largest file accepted (VIMBADMIN_IMPORT_MAX_BYTES)."""
    return int(getattr(settings, "VIMBADMIN_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        if b"\x00" in data:
            raise CsvRefused(_("This is not a CSV file (it holds binary data)."))
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CsvRefused(
            _('The file is not in a known encoding (byte %(position)s): save it as "CSV UTF-8".')
            % {"position": exc.start + 1}
        ) from exc


def _unguarded(value: str) -> str:
    value = value.strip()
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def read_csv(data: bytes, *, kind: str) -> CsvRows:
    """Return the rows of an uploaded file, or raise CsvRefused."""
    if len(data) > max_bytes():
        raise CsvRefused(
            _("The file is too large: at most %(most)s bytes.") % {"most": f"{max_bytes():,}"}
        )
    text = _decode(data)
    if not text.strip():
        raise CsvRefused(_("The file is empty."))
    header = text.lstrip().splitlines()[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        lines = list(reader)
    except csv.Error as exc:
        raise CsvRefused(_("This is not a readable CSV file: %(error)s") % {"error": exc}) from exc
    while lines and not any(cell.strip() for cell in lines[0]):
        lines.pop(0)
    columns = [name.strip().lower() for name in lines[0]]
    missing = [name for name in REQUIRED[kind] if name not in columns]
    if missing:
        raise CsvRefused(
            _("Required columns are missing: %(missing)s (the first line names the columns).")
            % {"missing": ", ".join(missing)}
        )
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = {
            name: _unguarded(cells[i]) if i < len(cells) else "" for i, name in enumerate(columns)
        }
        if len(cells) > len(columns):
            row["__extra__"] = "1"
        rows.append((number, row))
    return CsvRows(columns=columns, rows=rows)
