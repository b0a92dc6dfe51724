"""Read gettext catalogues (.po) without a third-party library: what the translation tests need.

Each entry is keyed by (context, msgid, msgid_plural) and holds its msgstr forms and flags.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

Key = tuple[str, str, str]


@dataclass
class Entry:
    context: str = ""
    msgid: str = ""
    plural: str = ""
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> Key:
        return (self.context, self.msgid, self.plural)


def _string(text: str) -> str:
    # A .po string is a C string literal; Python's literal syntax reads the same escapes.
    return ast.literal_eval(text) if text else ""


def read_po(path: Path) -> dict[Key, Entry]:
    """Return the entries of a catalogue (the header, msgid "", left out), in file order."""
    entries: dict[Key, Entry] = {}
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started
        if started and entry.msgid and not entry.obsolete:
            entries[entry.key] = entry
        entry, started = Entry(), False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        if keyword == "msgctxt":
            if started and entry.msgid:
                finish()
            started, target = True, ("context", 0)
        elif keyword == "msgid":
            if started and entry.msgid:
                finish()
            started, target = True, ("msgid", 0)
        elif keyword == "msgid_plural":
            target = ("plural", 0)
        elif keyword == "msgstr":
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            target = ("msgstr", int(keyword[7:-1]))
        elif keyword:
            raise ValueError(f"{path}: cannot read {raw!r}")
        if target is None:
            continue
        text = _string(rest)
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, name, getattr(entry, name) + text)
    finish()
    return entries


def nplurals(path: Path) -> int:
    """Return the number of plural forms the catalogue's header declares."""
    text = path.read_text(encoding="utf-8")
    start = text.index("nplurals=") + len("nplurals=")
    return int(text[start : text.index(";", start)])
