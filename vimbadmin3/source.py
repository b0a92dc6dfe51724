"""Read a ViMbAdmin 3 database (MySQL/MariaDB or PostgreSQL) into plain rows, read-only.

The schema is ViMbAdmin 3's Doctrine mapping (surrogate ids, `Domain_id` foreign keys, byte
quotas); `dbversion` says which revision of it the database holds. Every problem becomes a
SourceError whose text is one line telling the operator what to do.
"""

from __future__ import annotations

import contextvars
import datetime
from dataclasses import dataclass, field
from typing import Any

import dj_database_url
from django.core.exceptions import ValidationError

from mail.names import normalize_domain

# ViMbAdmin_Version::DBVERSION values whose schema this reader knows ("Venus", 3.0 to 3.4).
KNOWN_DB_VERSIONS = frozenset({1})
# The tables every ViMbAdmin 3 database has, and a column each that a Postfix Admin one lacks.
_SIGNATURE = {
    "domain": "max_quota",
    "mailbox": "Domain_id",
    "alias": "Domain_id",
    "admin": "super",
    "domain_admins": "Admin_id",
    "log": "Admin_id",
    "dbversion": "version",
}
PREFERENCE_TABLES = {
    "admin_pref": "Admin_id",
    "domain_pref": "Domain_id",
    "mailbox_pref": "Mailbox_id",
    "alias_pref": "Alias_id",
}


class SourceError(Exception):
    """The source cannot be read as a ViMbAdmin 3 database; the text says what to do."""


@dataclass(frozen=True)
class VDomain:
    id: int
    domain: str
    description: str
    max_aliases: int
    max_mailboxes: int
    max_quota: int
    quota: int
    transport: str
    backupmx: bool
    active: bool
    created: datetime.datetime | None
    modified: datetime.datetime | None


@dataclass(frozen=True)
class VMailbox:
    id: int
    domain_id: int | None
    username: str
    password: str
    name: str
    alt_email: str
    quota: int
    local_part: str
    active: bool
    homedir: str
    maildir: str
    uid: int | None
    gid: int | None
    created: datetime.datetime | None
    modified: datetime.datetime | None


@dataclass(frozen=True)
class VAlias:
    id: int
    domain_id: int | None
    address: str
    goto: str
    active: bool
    created: datetime.datetime | None
    modified: datetime.datetime | None


@dataclass(frozen=True)
class VAdmin:
    id: int
    username: str
    password: str
    super: bool
    active: bool
    created: datetime.datetime | None
    modified: datetime.datetime | None


@dataclass(frozen=True)
class VLog:
    id: int
    action: str
    data: str
    timestamp: datetime.datetime | None
    admin_id: int | None
    domain_id: int | None


@dataclass(frozen=True)
class VKept:
    """A preference or archive row: kept whole, as column name -> text."""

    table: str
    id: int
    owner_id: int | None
    values: dict[str, str | None]


@dataclass
class Source:
    """Everything the import reads, with the ids ViMbAdmin links rows by."""

    url_label: str
    db_version: int
    domains: list[VDomain] = field(default_factory=list)
    mailboxes: list[VMailbox] = field(default_factory=list)
    aliases: list[VAlias] = field(default_factory=list)
    admins: list[VAdmin] = field(default_factory=list)
    domain_admins: list[tuple[int, int]] = field(default_factory=list)
    logs: list[VLog] = field(default_factory=list)
    kept: list[VKept] = field(default_factory=list)

    def domain_names(self) -> dict[int, str]:
        return {d.id: d.domain for d in self.domains}


def _label(config: dict[str, Any]) -> str:
    # Never the password.
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"{config.get('HOST') or 'localhost'}{port}/{config.get('NAME')}"


def connect(url: str) -> tuple[Any, str, str]:
    """Open a read-only connection to the source; return it, the engine and a printable label."""
    try:
        config = dict(dj_database_url.parse(url))
    except Exception:  # dj-database-url raises several types for a bad URL.
        raise SourceError(
            "--source is not a database URL; use mysql://user:password@host/vimbadmin or "
            "postgresql://user:password@host/vimbadmin."
        ) from None
    engine = str(config.get("ENGINE", "")).rsplit(".", 1)[-1]
    label = _label(config)
    try:
        if engine == "postgresql":
            import psycopg2

            conn = psycopg2.connect(
                host=config.get("HOST") or None,
                port=config.get("PORT") or None,
                user=config.get("USER") or None,
                password=config.get("PASSWORD") or None,
                dbname=config.get("NAME"),
                connect_timeout=10,
            )
            conn.set_session(readonly=True, autocommit=True)
        elif engine == "mysql":
            import MySQLdb

            kwargs: dict[str, Any] = {
                "host": config.get("HOST") or "localhost",
                "user": config.get("USER") or "",
                "password": config.get("PASSWORD") or "",
                "database": config.get("NAME") or "",
                "charset": "utf8mb4",
                "connect_timeout": 10,
            }
            if config.get("PORT"):
                kwargs["port"] = int(str(config["PORT"]))
            conn = MySQLdb.connect(**kwargs)
        else:
            raise SourceError(
                "--source must be a mysql:// or postgresql:// URL: ViMbAdmin 3 runs on "
                "MySQL/MariaDB or PostgreSQL."
            )
    except SourceError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"Cannot connect to the ViMbAdmin database {label} ({reason}); check --source."
        ) from None
    return conn, engine, label


def _columns(cur: Any, engine: str, table: str) -> set[str] | None:
    if engine == "postgresql":
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
    else:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s",
            [table],
        )
    found = {str(row[0]).lower() for row in cur.fetchall()}
    return found or None


def _check_schema(cur: Any, engine: str, label: str) -> int:
    for table, column in _SIGNATURE.items():
        columns = _columns(cur, engine, table)
        if columns is None or column.lower() not in columns:
            raise SourceError(
                f"{label} is not a ViMbAdmin 3 database (no {table}.{column}); point --source "
                "at the database ViMbAdmin's application.ini names."
            )
    cur.execute("SELECT version FROM dbversion ORDER BY id DESC")
    row = cur.fetchone()
    if row is None:
        raise SourceError(
            f"{label} has an empty dbversion table: finish ViMbAdmin's setup, or restore the row "
            "it wrote, before importing."
        )
    version = int(row[0])
    if version not in KNOWN_DB_VERSIONS:
        known = ", ".join(str(v) for v in sorted(KNOWN_DB_VERSIONS))
        raise SourceError(
            f"{label} holds ViMbAdmin database version {version}, which this importer does not "
            f"know (it reads version {known}); nothing was imported."
        )
    return version


def _domain(value: Any) -> str:
    """Return a domain name as the project stores it (punycode), or as found if it is none."""
    text = _text(value).strip().lower()
    try:
        return normalize_domain(text)
    except ValidationError:
        return text


def _address(value: Any) -> str:
    """Return an address (or `@domain`) with its domain as the project stores it."""
    local, at, domain = _text(value).strip().lower().rpartition("@")
    return f"{local}@{_domain(domain)}" if at else domain


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _rows(cur: Any, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql)
    zone = _ZONE.get()
    # ViMbAdmin's DATETIMEs are naive, in the time zone of its PHP (date.timezone).
    return [
        tuple(
            v.replace(tzinfo=zone) if isinstance(v, datetime.datetime) and v.tzinfo is None else v
            for v in row
        )
        for row in cur.fetchall()
    ]


_ZONE: contextvars.ContextVar[datetime.tzinfo] = contextvars.ContextVar(
    "vimbadmin3_source_zone", default=datetime.UTC
)


def read(url: str, *, time_zone: datetime.tzinfo = datetime.UTC) -> Source:
    """Read every row the import needs from a ViMbAdmin 3 database; naive dates are in
    `time_zone` (ViMbAdmin's PHP date.timezone)."""
    conn, engine, label = connect(url)
    token = _ZONE.set(time_zone)
    try:
        cur = conn.cursor()
        version = _check_schema(cur, engine, label)
        source = Source(url_label=label, db_version=version)
        for r in _rows(
            cur,
            "SELECT id, domain, description, max_aliases, max_mailboxes, max_quota, quota, "
            "transport, backupmx, active, created, modified FROM domain ORDER BY id",
        ):
            source.domains.append(
                VDomain(
                    int(r[0]),
                    _domain(r[1]),
                    _text(r[2]),
                    int(r[3] or 0),
                    int(r[4] or 0),
                    int(r[5] or 0),
                    int(r[6] or 0),
                    _text(r[7]),
                    bool(r[8]),
                    bool(r[9]),
                    r[10],
                    r[11],
                )
            )
        for r in _rows(
            cur,
            "SELECT id, Domain_id, username, password, name, alt_email, quota, local_part, "
            "active, homedir, maildir, uid, gid, created, modified FROM mailbox ORDER BY id",
        ):
            source.mailboxes.append(
                VMailbox(
                    int(r[0]),
                    r[1],
                    _address(r[2]),
                    _text(r[3]),
                    _text(r[4]),
                    _text(r[5]).strip(),
                    int(r[6] or 0),
                    _text(r[7]).strip().lower(),
                    bool(r[8]),
                    _text(r[9]),
                    _text(r[10]),
                    r[11],
                    r[12],
                    r[13],
                    r[14],
                )
            )
        for r in _rows(
            cur,
            "SELECT id, Domain_id, address, goto, active, created, modified FROM alias ORDER BY id",
        ):
            source.aliases.append(
                VAlias(
                    int(r[0]),
                    r[1],
                    _address(r[2]),
                    _text(r[3]),
                    bool(r[4]),
                    r[5],
                    r[6],
                )
            )
        for r in _rows(
            cur, "SELECT id, username, password, super, active, created, modified FROM admin"
        ):
            source.admins.append(
                VAdmin(
                    int(r[0]),
                    _address(r[1]),
                    _text(r[2]),
                    bool(r[3]),
                    bool(r[4]),
                    r[5],
                    r[6],
                )
            )
        source.domain_admins = [
            (int(r[0]), int(r[1]))
            for r in _rows(cur, "SELECT Admin_id, Domain_id FROM domain_admins ORDER BY 1, 2")
        ]
        for r in _rows(
            cur, "SELECT id, action, data, timestamp, Admin_id, Domain_id FROM log ORDER BY id"
        ):
            source.logs.append(VLog(int(r[0]), _text(r[1]), _text(r[2]), r[3], r[4], r[5]))
        for table, owner in PREFERENCE_TABLES.items():
            source.kept.extend(_kept(cur, engine, table, owner))
        if _columns(cur, engine, "archive") is not None:
            source.kept.extend(_kept(cur, engine, "archive", "Domain_id"))
        return source
    finally:
        _ZONE.reset(token)
        conn.close()


def _kept(cur: Any, engine: str, table: str, owner: str) -> list[VKept]:
    if _columns(cur, engine, table) is None:
        return []
    cur.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 (fixed table names)
    names = [str(d[0]).lower() for d in cur.description]
    out = []
    for row in cur.fetchall():
        values = dict(zip(names, row, strict=True))
        owner_id = values.get(owner.lower())
        out.append(
            VKept(
                table=table,
                id=int(values["id"]),
                owner_id=int(owner_id) if owner_id is not None else None,
                values={k: None if v is None else str(v) for k, v in values.items()},
            )
        )
    return out
