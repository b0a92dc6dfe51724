"""Genuine ViMbAdmin 3 databases on MariaDB and PostgreSQL, filled as ViMbAdmin writes them.

The DDL follows ViMbAdmin 3's Doctrine mappings as described in
`shared/reference/vimbadmin.md` section 2: surrogate ids, capitalised `Domain_id` foreign keys
without cascades, byte quotas, the four preference tables, `archive`, `log` and `dbversion`.
On PostgreSQL Doctrine leaves identifiers unquoted, so they are folded to lower case there.

Rows are written the way ViMbAdmin writes them: mailbox hashes without their `{SCHEME}`
prefix (`doveadm pw -s BLF-CRYPT` with the prefix stripped, PHP crypt() strings, md5 hex,
plain text), admins with `$2a$` bcrypt, maildir strings from the default template, the own
alias row of every mailbox, `@a -> @b` alias domains and log sentences.
"""

from __future__ import annotations

import datetime
import hashlib
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from passlib.hash import bcrypt, md5_crypt, sha512_crypt

from tests.support.pfa_genuine import DB_HOST, MYSQL_PORT, PG_PORT, connect, drop_database
from tests.support.tools import require_tool

# ViMbAdmin 3's tables as Doctrine maps them: (column, type, NULL allowed, default); "id" is the
# surrogate key. Types are Doctrine's: bigint, integer, string(n), text, boolean, datetime.
_TABLES: dict[str, list[tuple[str, str, bool, str | None]]] = {
    "dbversion": [
        ("version", "integer", False, None),
        ("name", "string(255)", False, None),
        ("applied_on", "datetime", False, None),
    ],
    "domain": [
        ("domain", "string(255)", False, None),
        ("description", "string(255)", True, None),
        ("max_aliases", "integer", False, "0"),
        ("alias_count", "bigint", False, "0"),
        ("max_mailboxes", "integer", False, "0"),
        ("mailbox_count", "bigint", False, "0"),
        ("max_quota", "bigint", False, "0"),
        ("quota", "bigint", False, "0"),
        ("transport", "string(255)", False, "'virtual'"),
        ("backupmx", "boolean", False, "0"),
        ("active", "boolean", False, "1"),
        ("homedir", "string(255)", True, None),
        ("maildir", "string(255)", True, None),
        ("uid", "integer", True, None),
        ("gid", "integer", True, None),
        ("created", "datetime", False, None),
        ("modified", "datetime", True, None),
    ],
    "mailbox": [
        ("username", "string(255)", False, None),
        ("password", "string(255)", False, None),
        ("name", "string(255)", True, None),
        ("alt_email", "string(255)", True, None),
        ("quota", "bigint", False, "0"),
        ("local_part", "string(255)", False, None),
        ("active", "boolean", False, "0"),
        ("access_restriction", "string(100)", False, "'ALL'"),
        ("homedir", "string(255)", True, None),
        ("maildir", "string(255)", True, None),
        ("uid", "bigint", True, None),
        ("gid", "bigint", True, None),
        ("homedir_size", "bigint", True, None),
        ("maildir_size", "bigint", True, None),
        ("size_at", "datetime", True, None),
        ("delete_pending", "boolean", True, "0"),
        ("created", "datetime", False, None),
        ("modified", "datetime", True, None),
        ("Domain_id", "bigint", True, None),
    ],
    "alias": [
        ("address", "string(255)", False, None),
        ("goto", "text", False, None),
        ("active", "boolean", False, "1"),
        ("created", "datetime", False, None),
        ("modified", "datetime", True, None),
        ("Domain_id", "bigint", True, None),
    ],
    "admin": [
        ("username", "string(255)", True, None),
        ("password", "string(255)", False, None),
        ("super", "boolean", False, "0"),
        ("active", "boolean", False, "1"),
        ("created", "datetime", False, None),
        ("modified", "datetime", True, None),
    ],
    "log": [
        ("action", "string(100)", False, None),
        ("data", "text", True, None),
        ("timestamp", "datetime", False, None),
        ("Admin_id", "bigint", True, None),
        ("Domain_id", "bigint", True, None),
    ],
    "archive": [
        ("username", "string(255)", False, None),
        ("status", "string(255)", False, None),
        ("archived_at", "datetime", False, None),
        ("status_changed_at", "datetime", True, None),
        ("homedir_server", "string(255)", True, None),
        ("maildir_server", "string(255)", True, None),
        ("homedir_file", "string(255)", True, None),
        ("maildir_file", "string(255)", True, None),
        ("homedir_orig_size", "bigint", True, None),
        ("maildir_orig_size", "bigint", True, None),
        ("homedir_size", "bigint", True, None),
        ("maildir_size", "bigint", True, None),
        ("data", "text", False, None),
        ("Domain_id", "bigint", True, None),
        ("Admin_id", "bigint", True, None),
    ],
}
for _table, _owner in (
    ("admin_pref", "Admin_id"),
    ("domain_pref", "Domain_id"),
    ("mailbox_pref", "Mailbox_id"),
    ("alias_pref", "Alias_id"),
):
    _TABLES[_table] = [
        ("attribute", "string(255)", False, None),
        ("ix", "integer", False, "0"),
        ("op", "string(2)", False, "':='"),
        ("value", "text", True, None),
        ("expire", "bigint", False, "0"),
        (_owner, "bigint", True, None),
    ]
# (name, table, columns, unique)
_INDEXES = [
    ("IX_Domain_1", "domain", "domain", True),
    ("IX_Username_1", "mailbox", "username", True),
    ("IDX_A69FE20B93AE8C46", "mailbox", "Domain_id", False),
    ("IX_Address_1", "alias", "address", True),
    ("IDX_E16C6B9493AE8C46", "alias", "Domain_id", False),
    ("IX_Username_1", "admin", "username", True),
    ("IDX_CD8319A6F82CA5DA", "domain_admins", "Admin_id", False),
    ("IDX_CD8319A693AE8C46", "domain_admins", "Domain_id", False),
    ("IX_AdminPreference_1", "admin_pref", "Admin_id, attribute, ix", True),
    ("IX_DomainPreference_1", "domain_pref", "Domain_id, attribute, ix", False),
    ("IX_MailboxPreference_1", "mailbox_pref", "Mailbox_id, attribute, ix", False),
    ("IX_AliasPreference_1", "alias_pref", "Alias_id, attribute, ix", False),
    ("IDX_8F3F68C5F82CA5DA", "log", "Admin_id", False),
    ("IDX_8F3F68C593AE8C46", "log", "Domain_id", False),
    ("UNIQ_D5FC5D9CF85E0677", "archive", "username", True),
    ("IDX_D5FC5D9C93AE8C46", "archive", "Domain_id", False),
    ("IDX_D5FC5D9CF82CA5DA", "archive", "Admin_id", False),
]
# (table, column, referenced table): Doctrine's foreign keys, without cascades.
_FOREIGN_KEYS = [
    ("mailbox", "Domain_id", "domain"),
    ("alias", "Domain_id", "domain"),
    ("domain_admins", "Admin_id", "admin"),
    ("domain_admins", "Domain_id", "domain"),
    ("log", "Admin_id", "admin"),
    ("log", "Domain_id", "domain"),
    ("archive", "Domain_id", "domain"),
    ("archive", "Admin_id", "admin"),
    ("admin_pref", "Admin_id", "admin"),
    ("domain_pref", "Domain_id", "domain"),
    ("mailbox_pref", "Mailbox_id", "mailbox"),
    ("alias_pref", "Alias_id", "alias"),
]


def _type(engine: str, doctrine: str) -> str:
    mysql = engine == "mysql"
    if doctrine.startswith("string"):
        return "VARCHAR" + doctrine[len("string") :]
    return {
        "bigint": "BIGINT",
        "integer": "INT",
        "text": "LONGTEXT" if mysql else "TEXT",
        "boolean": "TINYINT(1)" if mysql else "BOOLEAN",
        "datetime": "DATETIME" if mysql else "TIMESTAMP(0) WITHOUT TIME ZONE",
    }[doctrine]


def _default(engine: str, doctrine: str, value: str) -> str:
    if doctrine == "boolean" and engine == "postgresql":
        return "true" if value == "1" else "false"
    return value


def _statements(engine: str) -> list[str]:
    """Return Doctrine's DDL for ViMbAdmin 3 on MySQL/MariaDB or PostgreSQL."""
    mysql = engine == "mysql"
    out = []
    for table, columns in _TABLES.items():
        if table == "dbversion":
            key = "id INT AUTO_INCREMENT NOT NULL" if mysql else "id SERIAL NOT NULL"
        else:
            key = "id BIGINT AUTO_INCREMENT NOT NULL" if mysql else "id BIGSERIAL NOT NULL"
        parts = [key]
        for name, doctrine, null, default in columns:
            text = f"{name} {_type(engine, doctrine)}"
            if default is not None:
                text += f" DEFAULT {_default(engine, doctrine, default)}"
            elif null:
                text += " DEFAULT NULL"
            text += "" if null else " NOT NULL"
            parts.append(text)
        parts.append("PRIMARY KEY(id)")
        tail = (
            " DEFAULT CHARACTER SET utf8 COLLATE utf8_unicode_ci ENGINE = InnoDB" if mysql else ""
        )
        out.append(f"CREATE TABLE {table} ({', '.join(parts)}){tail}")
    tail = " DEFAULT CHARACTER SET utf8 COLLATE utf8_unicode_ci ENGINE = InnoDB" if mysql else ""
    out.append(
        "CREATE TABLE domain_admins (Admin_id BIGINT NOT NULL, Domain_id BIGINT NOT NULL, "
        f"PRIMARY KEY(Admin_id, Domain_id)){tail}"
    )
    for name, table, indexed, unique in _INDEXES:
        # PostgreSQL index names share one namespace per schema.
        index = name if mysql else f"{name}_{table}"
        out.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {index} ON {table} ({indexed})")
    for number, (table, column, target) in enumerate(_FOREIGN_KEYS, 1):
        out.append(
            f"ALTER TABLE {table} ADD CONSTRAINT FK_V3_{number} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id)"
        )
    return out


def source_url(engine: str, name: str) -> str:
    """Return the DATABASE_URL-style address of a scratch source database."""
    if engine == "postgresql":
        return f"postgresql://root@{DB_HOST}:{PG_PORT}/{name}"
    return f"mysql://root@{DB_HOST}:{MYSQL_PORT}/{name}"


def create_database(engine: str, name: str, *, dbversion: int | None = 1) -> Any:
    """(Re)create an empty ViMbAdmin 3 database and return an autocommit connection to it."""
    drop_database(engine, name)
    conn = connect(engine)
    try:
        cur = conn.cursor()
        if engine == "postgresql":
            cur.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        else:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8 COLLATE utf8_unicode_ci")
    finally:
        conn.close()
    conn = connect(engine, name)
    cur = conn.cursor()
    for statement in _statements(engine):
        cur.execute(statement)
    if dbversion is not None:
        cur.execute(
            "INSERT INTO dbversion (version, name, applied_on) VALUES (%s, %s, %s)",
            [dbversion, "Venus", datetime.datetime(2015, 3, 1, 12, 0, 0)],  # noqa: DTZ001 (a naive DATETIME, as PHP writes it)
        )
    return conn


# --------------------------------------------------------------------------------------------
# Hashes as ViMbAdmin stores them


def doveadm_hash(scheme: str, password: str) -> str:
    """Hash as ViMbAdmin's `dovecot:SCHEME` does: `doveadm pw -s SCHEME`, prefix stripped."""
    doveadm = require_tool("doveadm")
    out = subprocess.run(
        [doveadm, "pw", "-s", scheme],
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    prefix = "{" + scheme + "}"
    assert out.startswith(prefix), out
    return out[len(prefix) :]


def vimbadmin_hash(scheme: str, password: str, *, salt: str = "") -> str:
    """Return what ViMbAdmin stores in mailbox.password for `password_scheme = scheme`."""
    secret = password.encode()
    if scheme.startswith("dovecot:"):
        return doveadm_hash(scheme.split(":", 1)[1], password)
    if scheme == "crypt:sha512":
        return sha512_crypt.using(rounds=5000, salt_size=12).hash(password)
    if scheme == "crypt:md5":
        return md5_crypt.hash(password)
    if scheme == "md5":
        return hashlib.md5(secret).hexdigest()  # noqa: S324 (what ViMbAdmin stores)
    if scheme == "md5-salted":
        return hashlib.md5(secret + salt.encode()).hexdigest()  # noqa: S324
    if scheme == "sha1":
        return hashlib.sha1(secret).hexdigest()  # noqa: S324
    if scheme == "sha1-salted":
        return hashlib.sha1(secret + salt.encode()).hexdigest()  # noqa: S324
    if scheme in ("plain", "plaintext"):
        return password
    raise ValueError(scheme)


def admin_hash(password: str) -> str:
    """ViMbAdmin's admin hash: bcrypt, cost 9, written by PHP as `$2a$`."""
    return bcrypt.using(ident="2a", rounds=9).hash(password)


# --------------------------------------------------------------------------------------------
# Rows


# ViMbAdmin writes naive DATETIMEs (its PHP time zone; UTC here).
STAMP = datetime.datetime(2019, 5, 4, 3, 2, 1)  # noqa: DTZ001
MAILDIR_TEMPLATE = "maildir:/srv/vmail/%d/%u/mail:LAYOUT=fs"
HOMEDIR_TEMPLATE = "/srv/vmail/%d/%u"


@dataclass
class VMailbox:
    local: str
    password: str
    scheme: str = "dovecot:BLF-CRYPT"
    name: str = ""
    alt_email: str = ""
    quota: int = 0
    active: bool = True
    maildir: str | None = None
    homedir: str | None = None
    forward: list[str] = field(default_factory=list)


@dataclass
class VDomain:
    domain: str
    description: str = ""
    max_aliases: int = 0
    max_mailboxes: int = 0
    max_quota: int = 0
    quota: int = 0
    transport: str = "virtual"
    backupmx: bool = False
    active: bool = True
    mailboxes: list[VMailbox] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class VAdmin:
    username: str
    password: str
    super: bool = False
    active: bool = True
    domains: list[str] = field(default_factory=list)


def _expand(template: str, domain: str, local: str) -> str:
    return template.replace("%d", domain).replace("%u", local).replace("%m", f"{local}@{domain}")


def _insert(cur: Any, engine: str, table: str, row: dict[str, Any]) -> int:
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    if engine == "postgresql":
        cur.execute(sql + " RETURNING id", list(row.values()))
        return int(cur.fetchone()[0])
    cur.execute(sql, list(row.values()))
    return int(cur.lastrowid)


def fill(
    conn: Any,
    engine: str,
    domains: Iterable[VDomain],
    admins: Iterable[VAdmin] = (),
    *,
    salt: str = "",
    alias_domains: Iterable[tuple[str, str]] = (),
) -> dict[str, int]:
    """Write domains, mailboxes (with their own alias rows), aliases, alias domains and admins
    as ViMbAdmin does; return the domains' ids."""
    cur = conn.cursor()
    ids: dict[str, int] = {}
    for d in domains:
        ids[d.domain] = did = _insert(
            cur,
            engine,
            "domain",
            {
                "domain": d.domain,
                "description": d.description,
                "max_aliases": d.max_aliases,
                "max_mailboxes": d.max_mailboxes,
                "max_quota": d.max_quota,
                "quota": d.quota,
                "transport": d.transport,
                "backupmx": d.backupmx,
                "active": d.active,
                "alias_count": len(d.aliases),
                "mailbox_count": len(d.mailboxes),
                "created": STAMP,
                "modified": STAMP,
            },
        )
        for m in d.mailboxes:
            address = f"{m.local}@{d.domain}"
            mid = _insert(
                cur,
                engine,
                "mailbox",
                {
                    "username": address,
                    "password": vimbadmin_hash(m.scheme, m.password, salt=salt),
                    "name": m.name,
                    "alt_email": m.alt_email,
                    "quota": m.quota,
                    "local_part": m.local,
                    "active": m.active,
                    "access_restriction": "ALL",
                    "homedir": m.homedir or _expand(HOMEDIR_TEMPLATE, d.domain, m.local),
                    "maildir": m.maildir or _expand(MAILDIR_TEMPLATE, d.domain, m.local),
                    "uid": 2000,
                    "gid": 2000,
                    "delete_pending": False,
                    "created": STAMP,
                    "modified": STAMP,
                    "Domain_id": did,
                },
            )
            _insert(
                cur,
                engine,
                "mailbox_pref",
                {"attribute": "xpiInfo.ext_no", "value": "42", "Mailbox_id": mid},
            )
            _insert(
                cur,
                engine,
                "alias",
                {
                    "address": address,
                    "goto": ",".join([address, *m.forward]),
                    "active": m.active,
                    "created": STAMP,
                    "modified": STAMP,
                    "Domain_id": did,
                },
            )
        for address, goto in d.aliases.items():
            _insert(
                cur,
                engine,
                "alias",
                {
                    "address": address,
                    "goto": goto,
                    "active": True,
                    "created": STAMP,
                    "modified": STAMP,
                    "Domain_id": did,
                },
            )
    for source, target in alias_domains:
        _insert(
            cur,
            engine,
            "alias",
            {
                "address": f"@{source}",
                "goto": f"@{target}",
                "active": True,
                "created": STAMP,
                "modified": STAMP,
                "Domain_id": ids[source],
            },
        )
    for a in admins:
        aid = _insert(
            cur,
            engine,
            "admin",
            {
                "username": a.username,
                "password": admin_hash(a.password),
                "super": a.super,
                "active": a.active,
                "created": STAMP,
                "modified": STAMP,
            },
        )
        for name in a.domains:
            cur.execute(
                "INSERT INTO domain_admins (Admin_id, Domain_id) VALUES (%s, %s)", [aid, ids[name]]
            )
        _insert(
            cur,
            engine,
            "admin_pref",
            {"attribute": "auth.last_login_at", "value": "1546300800", "Admin_id": aid},
        )
        for name in a.domains:
            _insert(
                cur,
                engine,
                "log",
                {
                    "action": "ADMIN_TO_DOMAIN_ADD",
                    "data": f"{a.username} added to {name}",
                    "timestamp": STAMP,
                    "Admin_id": aid,
                    "Domain_id": ids[name],
                },
            )
    for name, did in ids.items():
        _insert(
            cur,
            engine,
            "log",
            {
                "action": "DOMAIN_ADD",
                "data": f"admin added domain {name}",
                "timestamp": STAMP,
                "Admin_id": None,
                "Domain_id": did,
            },
        )
    if engine == "mysql":
        conn.commit()
    return ids


def add_archive(conn: Any, engine: str, domain_id: int, username: str) -> None:
    """Write an archived mailbox's row as ViMbAdmin's archive cron leaves it."""
    _insert(
        conn.cursor(),
        engine,
        "archive",
        {
            "username": username,
            "status": "ARCHIVED",
            "archived_at": STAMP,
            "status_changed_at": STAMP,
            "maildir_server": "1",
            "maildir_file": "/srv/archives/maildir-1.tar.bz2",
            "maildir_size": 4096,
            "data": 'a:1:{s:7:"mailbox";s:3:"...";}',
            "Domain_id": domain_id,
        },
    )
    if engine == "mysql":
        conn.commit()


def snapshot(engine: str, name: str, tables: Iterable[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the named tables, sorted, to compare before and after a run."""
    conn = connect(engine, name)
    try:
        cur = conn.cursor()
        out = {}
        for table in tables:
            cur.execute(f"SELECT * FROM {table}")
            out[table] = sorted(tuple(str(v) for v in row) for row in cur.fetchall())
        return out
    finally:
        conn.close()
