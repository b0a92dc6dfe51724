"""Genuine Postfix Admin databases for compatibility tests.

Debian's ``postfixadmin`` package (3.3.x) builds its own schema: there is no schema file, only the
``upgrade_N()`` functions in ``public/upgrade.php``.  This module runs that script with the PHP
command line against a scratch database on the local PostgreSQL / MariaDB server (or a SQLite
file), lets ``scripts/postfixadmin-cli`` write a few rows, and turns a database schema into a
normalised description that can be compared with the schema this project builds.

How PFA is configured without touching ``/usr/share/postfixadmin`` or ``/etc/postfixadmin``:

* ``common.php`` always loads ``/usr/share/postfixadmin/config.inc.php`` (a symlink to
  ``/etc/postfixadmin/config.inc.php``), which ``require_once('dbconfig.inc.php')`` — a relative
  name, resolved through PHP's ``include_path`` first.  Debian's real file is
  ``/etc/postfixadmin/dbconfig.inc.php`` (mode 0640, root:www-data, so unreadable for an
  unprivileged CI user).  We put a throwaway directory holding our own ``dbconfig.inc.php`` at
  the head of ``include_path`` (``php -d include_path=...``).
* ``php -d auto_prepend_file=...`` runs a generated prepend file before ``upgrade.php`` /
  ``postfixadmin-cli.php``.  It loads ``config.inc.php`` itself (so Debian's defaults and any
  ``config.local.php`` are read first) and then overrides ``$CONF`` (database settings,
  ``configured``, no DNS checks, ...).  ``common.php``'s later ``require_once`` of the same file
  is a no-op, so our overrides win.  For ``upgrade.php`` the prepend also defines
  ``POSTFIXADMIN_CLI`` so that ``common.php`` neither starts a PHP session nor sends headers.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.tools import require_tool

PFA_DIR = Path("/usr/share/postfixadmin")
PFA_UPGRADE = PFA_DIR / "public" / "upgrade.php"
PFA_CLI = PFA_DIR / "scripts" / "postfixadmin-cli.php"
PHP = "php"

DB_HOST = "127.0.0.1"
DB_USER = "root"
DB_PASSWORD = ""
PG_PORT = 5432
MYSQL_PORT = 3306

#: Highest ``upgrade_N`` function in Debian's postfixadmin 3.3.13.
PFA_EXPECTED_VERSION = 1847
#: Lowest ``config.version`` accepted as a successful build (1844 adds ``domain_admins.id``).
PFA_MIN_VERSION = 1844

ENGINES = ("postgresql", "mysql", "sqlite")
_PFA_DATABASE_TYPE = {"postgresql": "pgsql", "mysql": "mysqli", "sqlite": "sqlite"}
_DB_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
AUTO = "<autoincrement>"


class PfaGenuineError(RuntimeError):
    """PHP failed, or Postfix Admin did not leave the database in the expected state."""


# --------------------------------------------------------------------------------------------
# Connections and scratch databases


def _check(engine: str, name: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if engine != "sqlite" and not _DB_NAME_RE.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}")


def connect(engine: str, name: str | None = None) -> Any:
    """Return a DB-API connection to database ``name`` (or the server's maintenance database)."""
    if engine == "postgresql":
        import psycopg2

        conn = psycopg2.connect(
            host=DB_HOST,
            port=PG_PORT,
            user=DB_USER,
            password=DB_PASSWORD,
            dbname=name or "postgres",
        )
        conn.autocommit = True
        return conn
    if engine == "mysql":
        import MySQLdb

        kwargs: dict[str, Any] = {
            "host": DB_HOST,
            "port": MYSQL_PORT,
            "user": DB_USER,
            "password": DB_PASSWORD,
            "charset": "utf8mb4",
        }
        if name:
            kwargs["database"] = name
        conn = MySQLdb.connect(**kwargs)
        conn.autocommit(True)
        return conn
    if engine == "sqlite":
        if not name:
            raise ValueError("sqlite needs a file path")
        return sqlite3.connect(name, isolation_level=None)
    raise ValueError(f"unknown engine {engine!r}")


def drop_database(engine: str, name: str) -> None:
    """Drop scratch database ``name`` (delete the file for sqlite); no error if it is absent."""
    _check(engine, name)
    if engine == "sqlite":
        Path(name).unlink(missing_ok=True)
        return
    conn = connect(engine)
    try:
        cur = conn.cursor()
        if engine == "postgresql":
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


def _recreate_database(engine: str, name: str) -> None:
    drop_database(engine, name)
    if engine == "sqlite":
        # PFA refuses to connect to a SQLite file that does not exist yet.
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).touch()
        return
    conn = connect(engine)
    try:
        cur = conn.cursor()
        if engine == "postgresql":
            # template0 + UTF8 so a cluster initialised with the C locale (SQL_ASCII) still works.
            cur.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        else:
            # Server default character set, as a packaged PFA install would get it.
            cur.execute(f"CREATE DATABASE `{name}`")
    finally:
        conn.close()


def read_config_version(engine: str, name: str) -> int | None:
    """``config.version`` of a PFA database, or None when there is no such row."""
    conn = connect(engine, name)
    try:
        cur = conn.cursor()
        cur.execute("SELECT value FROM config WHERE name = 'version'")
        row = cur.fetchone()
    finally:
        conn.close()
    return int(row[0]) if row else None


# --------------------------------------------------------------------------------------------
# Running Postfix Admin's PHP


def _php_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "array(" + ", ".join(_php_literal(v) for v in value) + ")"
    if isinstance(value, dict):
        items = (f"{_php_literal(k)} => {_php_literal(v)}" for k, v in value.items())
        return "array(" + ", ".join(items) + ")"
    raise TypeError(f"cannot express {value!r} in PHP")


def _pfa_conf(engine: str, name: str, extra: Mapping[str, object] | None) -> dict[str, object]:
    conf: dict[str, object] = {
        "configured": True,
        "database_type": _PFA_DATABASE_TYPE[engine],
        "database_host": DB_HOST,
        "database_user": DB_USER,
        "database_password": DB_PASSWORD,
        "database_name": str(Path(name).resolve()) if engine == "sqlite" else name,
        "database_socket": "",
        "database_prefix": "",
        # Test domains such as example.org have no MX/A records (and CI may have no DNS).
        "emailcheck_resolve_domain": "NO",
        # Let callers choose any password; hashing itself is what the compatibility tests need.
        "password_validation": [],
        "mailbox_postcreation_script": "",
        "mailbox_postdeletion_script": "",
        "domain_postcreation_script": "",
        "domain_postdeletion_script": "",
    }
    if engine == "postgresql":
        conf["database_port"] = str(PG_PORT)
    elif engine == "mysql":
        conf["database_port"] = str(MYSQL_PORT)
    conf.update(extra or {})
    return conf


def _run_pfa_php(
    engine: str,
    name: str,
    script: Path,
    args: list[str],
    *,
    extra_conf: Mapping[str, object] | None = None,
    define_cli: bool,
) -> subprocess.CompletedProcess[str]:
    """Run a PFA PHP script with our config; raise PfaGenuineError on a non-zero exit."""
    require_tool(PHP)
    require_tool("postfixadmin")
    if not script.is_file():
        raise PfaGenuineError(f"{script} missing: apt-get install postfixadmin")
    conf = _pfa_conf(engine, name, extra_conf)
    with tempfile.TemporaryDirectory(prefix="pfa_genuine_") as tmp:
        tmpdir = Path(tmp)
        # Shadows Debian's /etc/postfixadmin/dbconfig.inc.php (see the module docstring).
        (tmpdir / "dbconfig.inc.php").write_text(
            "<?php\n"
            f"$dbuser = {_php_literal(conf['database_user'])};\n"
            f"$dbpass = {_php_literal(conf['database_password'])};\n"
            f"$dbname = {_php_literal(conf['database_name'])};\n"
            f"$dbserver = {_php_literal(conf['database_host'])};\n"
            f"$dbport = {_php_literal(conf.get('database_port', ''))};\n"
            f"$dbtype = {_php_literal(conf['database_type'])};\n"
            "$basepath = '';\n"
        )
        lines = ["<?php"]
        if define_cli:
            lines.append("define('POSTFIXADMIN_CLI', 1);")
        lines += [
            "global $CONF;",
            f"require_once {_php_literal(str(PFA_DIR / 'config.inc.php'))};",
        ]
        lines += [f"$CONF[{_php_literal(k)}] = {_php_literal(v)};" for k, v in conf.items()]
        prepend = tmpdir / "prepend.php"
        prepend.write_text("\n".join(lines) + "\n")
        cmd = [
            PHP,
            "-d",
            f"include_path={tmpdir}",
            "-d",
            f"auto_prepend_file={prepend}",
            "-d",
            "display_errors=stderr",
            "-d",
            "log_errors=0",
            str(script),
            *args,
        ]
        proc = subprocess.run(
            cmd,
            cwd=tmpdir,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if proc.returncode != 0:
        raise PfaGenuineError(
            f"{' '.join(cmd)} exited with {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc


def build_genuine_pfa_database(engine: str, name: str) -> None:
    """Drop and re-create ``name`` and let PFA's own ``upgrade.php`` build the schema in it.

    ``engine`` is "postgresql", "mysql" (``name`` is a database name on the local server) or
    "sqlite" (``name`` is a file path).
    """
    _check(engine, name)
    _recreate_database(engine, name)
    proc = _run_pfa_php(engine, name, PFA_UPGRADE, [], define_cli=True)
    version = read_config_version(engine, name)
    if version is None or version < PFA_MIN_VERSION:
        raise PfaGenuineError(
            f"upgrade.php left config.version={version} (expected >= {PFA_MIN_VERSION})\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )


def _pfa_cli(
    engine: str, name: str, args: list[str], extra_conf: Mapping[str, object] | None = None
) -> subprocess.CompletedProcess[str]:
    _check(engine, name)
    proc = _run_pfa_php(engine, name, PFA_CLI, args, extra_conf=extra_conf, define_cli=False)
    # postfixadmin-cli reports validation errors on stderr as "Error: ..." with exit code 1,
    # but some database errors are only logged; callers verify the row afterwards.
    if re.search(r"^(Error|Execution Exception):", proc.stderr, re.MULTILINE):
        raise PfaGenuineError(f"postfixadmin-cli {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def _row_exists(engine: str, name: str, table: str, column: str, value: str) -> bool:
    conn = connect(engine, name)
    try:
        cur = conn.cursor()
        mark = "?" if engine == "sqlite" else "%s"
        cur.execute(f"SELECT 1 FROM {table} WHERE {column} = {mark}", (value,))
        return cur.fetchone() is not None
    finally:
        conn.close()


def _encrypt_conf(encrypt: str | Mapping[str, object] | None) -> dict[str, object]:
    # A mapping sets more than the encrypt value, e.g. authlib's authlib_default_flavor.
    if isinstance(encrypt, Mapping):
        return dict(encrypt)
    return {"encrypt": encrypt} if encrypt else {}


def create_superadmin_via_pfa(
    engine: str,
    name: str,
    username: str,
    password: str,
    *,
    encrypt: str | Mapping[str, object] | None = None,
) -> None:
    """Add an active superadmin with ``postfixadmin-cli admin add``.

    ``encrypt`` overrides ``$CONF['encrypt']`` (Debian's default is ``md5crypt``), e.g.
    ``"php_crypt:SHA512"``, ``"php_crypt:BLOWFISH"``, ``"sha512.b64"``, ``"cleartext"``.
    Note: on PostgreSQL PFA 3.3 sets ``admin.superadmin`` but its ``domain_admins`` row with
    domain ``ALL`` is rejected by the foreign key to ``domain`` (PFA only logs that error).
    """
    _pfa_cli(
        engine,
        name,
        [
            "admin",
            "add",
            username,
            "--password",
            password,
            "--password2",
            password,
            "--superadmin",
            "1",
            "--active",
            "1",
        ],
        _encrypt_conf(encrypt),
    )
    if not _row_exists(engine, name, "admin", "username", username):
        raise PfaGenuineError(f"postfixadmin-cli did not create admin {username}")


def create_domain_via_pfa(
    engine: str,
    name: str,
    domain: str,
    *,
    description: str = "",
    aliases: int = 0,
    mailboxes: int = 0,
    default_aliases: bool = False,
) -> None:
    """Add an active domain with ``postfixadmin-cli domain add``."""
    _pfa_cli(
        engine,
        name,
        [
            "domain",
            "add",
            domain,
            "--description",
            description,
            "--aliases",
            str(aliases),
            "--mailboxes",
            str(mailboxes),
            "--active",
            "1",
            "--default-aliases",
            "1" if default_aliases else "0",
        ],
    )
    if not _row_exists(engine, name, "domain", "domain", domain):
        raise PfaGenuineError(f"postfixadmin-cli did not create domain {domain}")


def create_mailbox_via_pfa(
    engine: str,
    name: str,
    address: str,
    password: str,
    *,
    display_name: str = "",
    quota_mb: int = 0,
    encrypt: str | Mapping[str, object] | None = None,
    create_domain: bool = True,
) -> None:
    """Add an active mailbox (and its alias row) with ``postfixadmin-cli mailbox add``.

    The domain is created first (unless it exists or ``create_domain`` is false).  No welcome
    mail is sent.  ``encrypt`` as in :func:`create_superadmin_via_pfa`.
    """
    domain = address.rpartition("@")[2]
    if create_domain and not _row_exists(engine, name, "domain", "domain", domain):
        create_domain_via_pfa(engine, name, domain)
    _pfa_cli(
        engine,
        name,
        [
            "mailbox",
            "add",
            address,
            "--password",
            password,
            "--password2",
            password,
            "--name",
            display_name,
            "--quota",
            str(quota_mb),
            "--active",
            "1",
            "--welcome-mail",
            "0",
        ],
        _encrypt_conf(encrypt),
    )
    if not _row_exists(engine, name, "mailbox", "username", address):
        raise PfaGenuineError(f"postfixadmin-cli did not create mailbox {address}")


# --------------------------------------------------------------------------------------------
# Schema snapshots

_INT_RE = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\s*\(\s*(\d+)\s*\)")
_NUMERIC_TYPES = (
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "decimal",
    "numeric",
    "real",
    "double",
    "float",
)
_NOW_RE = re.compile(
    r"(current_timestamp|now|transaction_timestamp)"
    r"\s*(\(\s*\))?",
    re.IGNORECASE,
)
_PG_TYPES = {
    "integer": "int",
    "character varying": "varchar",
    "character": "char",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
    "double precision": "double",
}


def _norm_type(raw: str) -> str:
    t = " ".join(raw.strip().lower().split())
    for long, short in _PG_TYPES.items():
        if t == long or t.startswith(long + "("):
            t = short + t[len(long) :]
    t = re.sub(r"\s*\(\s*", "(", t)
    t = re.sub(r"\s*\)", ")", t)

    def _int(m: re.Match[str]) -> str:
        base = "int" if m.group(1) == "integer" else m.group(1)
        # tinyint(1) is MySQL's boolean; other display widths are cosmetic.
        return "tinyint(1)" if base == "tinyint" and m.group(2) == "1" else base

    t = _INT_RE.sub(_int, t)
    return "int" if t == "integer" else t


def _is_numeric(ntype: str) -> bool:
    return ntype.split("(")[0].split()[0] in _NUMERIC_TYPES


def _unquote(text: str) -> str | None:
    """Return the content of a single SQL string literal, or None if ``text`` is not one."""
    m = re.fullmatch(r"'((?:[^']|'')*)'", text, re.DOTALL)
    return m.group(1).replace("''", "'") if m else None


def _norm_default(raw: str | None, ntype: str, *, parse_dates: bool = True) -> str | None:
    """Normalise a column default (SQL text) so equivalent spellings compare equal.

    ``parse_dates`` is off for SQLite, which stores a date default as the literal text.
    """
    if raw is None:
        return None
    text = raw.strip()
    # PostgreSQL casts: 'x'::character varying, ('x'::text)::character varying, '-1'::integer
    while True:
        stripped = re.sub(r"::[a-z_ ]+(\(\d+(,\s*\d+)?\))?(\[\])?$", "", text).strip()
        if stripped.startswith("(") and stripped.endswith(")"):
            stripped = stripped[1:-1].strip()
        if stripped == text:
            break
        text = stripped
    if text.upper() == "NULL":
        return None
    if _NOW_RE.fullmatch(text):
        return "CURRENT_TIMESTAMP"
    literal = _unquote(text)
    value = literal if literal is not None else text
    base = ntype.split("(")[0]
    if base == "boolean":
        low = value.lower()
        if low in ("t", "true", "1", "y", "yes", "on"):
            return "true"
        if low in ("f", "false", "0", "n", "no", "off"):
            return "false"
    if _is_numeric(ntype) and re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
        return str(int(value)) if "." not in value else value
    if parse_dates and base in ("timestamp", "timestamptz", "datetime", "date") and literal:
        try:
            parsed = datetime.fromisoformat(literal)
        except ValueError:
            return "'" + literal.replace("'", "''") + "'"
        if base == "date":
            return f"'{parsed.date().isoformat()}'"
        if parsed.tzinfo is not None:
            return "'" + parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"
        return "'" + parsed.strftime("%Y-%m-%d %H:%M:%S") + "'"
    if literal is not None:
        return "'" + literal.replace("'", "''") + "'"
    return text


def _column(
    ntype: str, nullable: bool, default: str | None, auto: bool | str, on_update: str | None
) -> dict[str, Any]:
    return {
        "type": ntype,
        "nullable": nullable,
        "default": AUTO if auto else default,
        "auto_increment": auto,
        "on_update": on_update,
    }


def _empty_table() -> dict[str, Any]:
    return {
        "columns": {},
        "primary_key": [],
        "unique": [],
        "indexes": [],
        "foreign_keys": [],
        "triggers": [],
    }


def _finish(tables: dict[str, dict[str, Any]]) -> None:
    for t in tables.values():
        t["unique"] = sorted(t["unique"])
        t["indexes"] = sorted(t["indexes"])
        t["foreign_keys"] = sorted(t["foreign_keys"], key=lambda fk: (fk["columns"], fk["table"]))
        t["triggers"] = sorted(t["triggers"])


def _unquote_ident(text: str) -> str:
    m = re.fullmatch(r'"((?:[^"]|"")+)"', text)
    return m.group(1).replace('""', '"') if m else text


def _snapshot_postgresql(conn: Any) -> dict[str, Any]:
    cur = conn.cursor()
    tables: dict[str, dict[str, Any]] = {}
    cosmetic: dict[str, Any] = {"tables": {}}
    cur.execute(
        "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database"
        " WHERE datname = current_database()"
    )
    enc, collate, ctype = cur.fetchone()
    cosmetic["database"] = {"encoding": enc, "collate": collate, "ctype": ctype}
    cur.execute(
        """
        SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity,
               CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        ORDER BY c.relname, a.attnum
        """
    )
    for table, col, typ, notnull, default, identity, collation in cur.fetchall():
        tbl = tables.setdefault(table, _empty_table())
        ctab = cosmetic["tables"].setdefault(table, {"columns": {}, "names": {}})
        ntype = _norm_type(typ)
        auto: bool | str = False
        if identity == "a":
            auto = "always"
        elif identity == "d" or (default or "").startswith("nextval("):
            auto = True
        tbl["columns"][col] = _column(
            ntype, not notnull, None if auto else _norm_default(default, ntype), auto, None
        )
        if collation:
            ctab["columns"][col] = collation
    cur.execute(
        """
        SELECT c.relname, con.conname, con.contype,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
                     ORDER BY k.ord),
               fc.relname,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
                     ORDER BY k.ord),
               con.confupdtype, con.confdeltype, con.condeferrable, con.condeferred
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_class fc ON fc.oid = con.confrelid
        WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f')
        ORDER BY c.relname, con.conname
        """
    )
    actions = {
        "a": "NO ACTION",
        "r": "RESTRICT",
        "c": "CASCADE",
        "n": "SET NULL",
        "d": "SET DEFAULT",
    }
    for (
        table,
        conname,
        contype,
        cols,
        ftable,
        fcols,
        upd,
        dele,
        deferrable,
        deferred,
    ) in cur.fetchall():
        if table not in tables:
            continue
        tbl = tables[table]
        cosmetic["tables"][table]["names"][conname] = list(cols)
        if contype == "p":
            tbl["primary_key"] = list(cols)
        elif contype == "u":
            tbl["unique"].append(list(cols))
        else:
            tbl["foreign_keys"].append(
                {
                    "columns": list(cols),
                    "table": ftable,
                    "ref_columns": list(fcols),
                    "on_update": actions.get(upd, upd),
                    "on_delete": actions.get(dele, dele),
                }
            )
            if deferrable:
                cosmetic["tables"][table]["names"][conname] = f"{list(cols)} DEFERRABLE" + (
                    " INITIALLY DEFERRED" if deferred else ""
                )
    cur.execute(
        """
        SELECT c.relname, ic.relname, i.indisunique,
               ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                     FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
               pg_get_expr(i.indpred, i.indrelid), am.amname
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                          AND con.contype IN ('p', 'u', 'x'))
        ORDER BY c.relname, ic.relname
        """
    )
    for table, index, unique, cols, predicate, method in cur.fetchall():
        if table not in tables:
            continue
        key = [_unquote_ident(str(c)) for c in cols]
        key += [f"WHERE {predicate}"] if predicate else []
        tables[table]["unique" if unique else "indexes"].append(key)
        cosmetic["tables"][table]["names"][index] = f"{key} USING {method}"
    cur.execute(
        """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT t.tgisinternal
        ORDER BY c.relname, t.tgname
        """
    )
    for table, trigger, definition in cur.fetchall():
        if table not in tables:
            continue
        # "CREATE TRIGGER name BEFORE INSERT ON public.t FOR EACH ROW ..." without name/table
        m = re.fullmatch(r"CREATE (?:CONSTRAINT )?TRIGGER \S+ (.*?) ON \S+ (.*)", definition)
        tables[table]["triggers"].append(f"{m.group(1)} {m.group(2)}" if m else definition)
        cosmetic["tables"][table]["names"][trigger] = "trigger"
    _finish(tables)
    return {"engine": "postgresql", "tables": tables, "cosmetic": cosmetic}


def _snapshot_mysql(conn: Any) -> dict[str, Any]:
    cur = conn.cursor()
    cur.execute("SELECT VERSION()")
    server_version = str(cur.fetchone()[0])
    mariadb = "mariadb" in server_version.lower()
    cur.execute(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA"
        " WHERE SCHEMA_NAME = DATABASE()"
    )
    charset, collation = cur.fetchone()
    cosmetic: dict[str, Any] = {
        "database": {"server": server_version, "charset": charset, "collation": collation},
        "tables": {},
    }
    tables: dict[str, dict[str, Any]] = {}
    cur.execute(
        "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
    )
    for table, engine, tcollation, comment in cur.fetchall():
        tables[table] = _empty_table()
        cosmetic["tables"][table] = {
            "engine": engine,
            "collation": tcollation,
            "comment": comment,
            "columns": {},
            "names": {},
        }
    cur.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,"
        " CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    for table, col, ctype, nullable, default, extra, ccharset, ccollation in cur.fetchall():
        if table not in tables:
            continue
        ntype = _norm_type(ctype)
        extra_l = (extra or "").lower()
        auto = "auto_increment" in extra_l
        m = re.search(r"on update (\S+)", extra_l)
        on_update = _norm_default(m.group(1), ntype) if m else None
        if default is not None and not mariadb and "default_generated" not in extra_l:
            # MySQL 8 reports literals unquoted; MariaDB >= 10.2.7 quotes them.
            default = default if _is_numeric(ntype) else "'" + default.replace("'", "''") + "'"
        tables[table]["columns"][col] = _column(
            ntype,
            nullable == "YES",
            None if auto else _norm_default(default, ntype),
            auto,
            on_update,
        )
        if ccharset or ccollation:
            cosmetic["tables"][table]["columns"][col] = f"{ccharset}/{ccollation}"
    cur.execute(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE"
        " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
        " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    )
    indexes: dict[tuple[str, str], dict[str, Any]] = {}
    for table, index, non_unique, col, sub_part, itype in cur.fetchall():
        entry = indexes.setdefault(
            (table, index), {"unique": not int(non_unique), "cols": [], "type": itype}
        )
        entry["cols"].append(f"{col}({sub_part})" if sub_part else col)
    for (table, index), entry in indexes.items():
        if table not in tables:
            continue
        cosmetic["tables"][table]["names"][index] = f"{entry['cols']} USING {entry['type']}"
        if index == "PRIMARY":
            tables[table]["primary_key"] = entry["cols"]
        else:
            tables[table]["unique" if entry["unique"] else "indexes"].append(entry["cols"])
    cur.execute(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
        " k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE"
        " FROM information_schema.KEY_COLUMN_USAGE k"
        " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
        "   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
        "   AND r.TABLE_NAME = k.TABLE_NAME"
        " WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL"
        " ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    )
    fks: dict[tuple[str, str], dict[str, Any]] = {}
    # InnoDB treats RESTRICT and NO ACTION identically (both checked immediately); MariaDB
    # reports an unspecified action as RESTRICT.
    same = {"RESTRICT": "NO ACTION"}
    for table, cname, col, rtable, rcol, upd, dele in cur.fetchall():
        upd, dele = same.get(upd, upd), same.get(dele, dele)
        fk = fks.setdefault(
            (table, cname),
            {
                "columns": [],
                "table": rtable,
                "ref_columns": [],
                "on_update": upd,
                "on_delete": dele,
            },
        )
        fk["columns"].append(col)
        fk["ref_columns"].append(rcol)
    for (table, cname), fk in fks.items():
        if table in tables:
            tables[table]["foreign_keys"].append(fk)
            cosmetic["tables"][table]["names"][cname] = f"FK {fk['columns']}"
    cur.execute(
        "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION,"
        " ACTION_ORIENTATION, ACTION_STATEMENT FROM information_schema.TRIGGERS"
        " WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME"
    )
    for table, trigger, timing, event, orientation, statement in cur.fetchall():
        if table in tables:
            body = " ".join(str(statement).split())
            tables[table]["triggers"].append(f"{timing} {event} FOR EACH {orientation} {body}")
            cosmetic["tables"][table]["names"][trigger] = "trigger"
    _finish(tables)
    return {"engine": "mysql", "tables": tables, "cosmetic": cosmetic}


def _sqlite_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _snapshot_sqlite(conn: Any) -> dict[str, Any]:
    cur = conn.cursor()
    cur.execute("PRAGMA encoding")
    cosmetic: dict[str, Any] = {"database": {"encoding": cur.fetchone()[0]}, "tables": {}}
    tables: dict[str, dict[str, Any]] = {}
    cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    for table, sql in cur.fetchall():
        tbl = tables[table] = _empty_table()
        names: dict[str, Any] = {}
        cosmetic["tables"][table] = {"names": names}
        q = _sqlite_ident(table)
        cols = cur.execute(f"PRAGMA table_info({q})").fetchall()
        pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
        tbl["primary_key"] = pk
        for _cid, col, ctype, notnull, default, _pk in cols:
            rowid_alias = pk == [col] and (ctype or "").strip().lower() == "integer"
            ntype = _norm_type(ctype or "")
            auto = rowid_alias
            if rowid_alias and re.search(r"\bautoincrement\b", sql or "", re.IGNORECASE):
                names[f"{col} AUTOINCREMENT"] = True
            tbl["columns"][col] = _column(
                ntype,
                not (notnull or rowid_alias),
                None if auto else _norm_default(default, ntype, parse_dates=False),
                auto,
                None,
            )
        for _seq, index, unique, origin, partial in cur.execute(
            f"PRAGMA index_list({q})"
        ).fetchall():
            if origin == "pk":
                continue
            icols = [
                r[2] if r[2] is not None else "<expression>"
                for r in cur.execute(f"PRAGMA index_info({_sqlite_ident(index)})").fetchall()
            ]
            if partial:
                icols.append("WHERE <partial>")
            tbl["unique" if unique else "indexes"].append(icols)
            names[index] = icols
        fks: dict[int, dict[str, Any]] = {}
        for fk_id, _seq, rtable, col, rcol, upd, dele, _match in cur.execute(
            f"PRAGMA foreign_key_list({q})"
        ).fetchall():
            fk = fks.setdefault(
                fk_id,
                {
                    "columns": [],
                    "table": rtable,
                    "ref_columns": [],
                    "on_update": upd,
                    "on_delete": dele,
                },
            )
            fk["columns"].append(col)
            fk["ref_columns"].append(rcol)
        tbl["foreign_keys"] = list(fks.values())
    cur.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'")
    for table, trigger, sql in cur.fetchall():
        if table in tables:
            m = re.fullmatch(
                r"CREATE\s+(?:TEMP\w*\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+(.*?)"
                r"\s+ON\s+\S+\s+(.*)",
                sql.strip(),
                re.IGNORECASE | re.DOTALL,
            )
            text = f"{m.group(1)} {m.group(2)}" if m else sql
            tables[table]["triggers"].append(" ".join(text.split()))
            cosmetic["tables"][table]["names"][trigger] = "trigger"
    _finish(tables)
    return {"engine": "sqlite", "tables": tables, "cosmetic": cosmetic}


def schema_snapshot(engine: str, conn: Any) -> dict[str, Any]:
    """Normalised description of every table reachable through DB-API connection ``conn``.

    Returns ``{"engine", "tables", "cosmetic"}``.  ``tables[name]`` has ``columns`` (name ->
    ``type``/``nullable``/``default``/``auto_increment``/``on_update``), ``primary_key`` (column
    list), ``unique`` and ``indexes`` (column lists in index order, sorted), ``foreign_keys``,
    ``triggers`` (definition without trigger and table name; function bodies are not compared).
    ``cosmetic`` holds what is deliberately not compared: character sets and collations,
    storage engine, comments, constraint/index names, PG deferrability.
    """
    if engine == "postgresql":
        return _snapshot_postgresql(conn)
    if engine == "mysql":
        return _snapshot_mysql(conn)
    if engine == "sqlite":
        return _snapshot_sqlite(conn)
    raise ValueError(f"unknown engine {engine!r}")


def _is_allowed(allowed_extra: Mapping[str, set[str]], table: str, column: str) -> bool:
    allowed = allowed_extra.get(table, set())
    return "*" in allowed or column in allowed


def _fmt_col(col: Mapping[str, Any]) -> str:
    parts = [col["type"], "NULL" if col["nullable"] else "NOT NULL"]
    if col["default"] is not None:
        parts.append(f"DEFAULT {col['default']}")
    if col["auto_increment"] == "always":
        parts.append("GENERATED ALWAYS")
    if col["on_update"]:
        parts.append(f"ON UPDATE {col['on_update']}")
    return " ".join(parts)


def compare_snapshots(
    genuine: dict[str, Any], fresh: dict[str, Any], allowed_extra: dict[str, set[str]]
) -> list[str]:
    """Human-readable differences between a genuine PFA schema and a freshly built one.

    Every table, column (type, nullability, default, auto-increment), primary key, unique
    constraint, index and foreign key of ``genuine`` must exist identically in ``fresh``.
    ``fresh`` may have extra tables/columns only where ``allowed_extra`` lists them (table ->
    set of columns, ``{"*"}`` for a whole extra table) and extra plain indexes; it must not have
    extra unique constraints or foreign keys on genuine columns (they would reject rows that
    Postfix Admin writes).  An index of ``genuine`` also counts as present when a fresh index,
    unique constraint or primary key starts with the same columns.  ``cosmetic`` is ignored.
    """
    diffs: list[str] = []
    if genuine.get("engine") != fresh.get("engine"):
        diffs.append(f"engines differ: {genuine.get('engine')} vs {fresh.get('engine')}")
    gtables: dict[str, Any] = genuine["tables"]
    ftables: dict[str, Any] = fresh["tables"]
    for table in sorted(set(ftables) - set(gtables)):
        if "*" not in allowed_extra.get(table, set()):
            diffs.append(f"unexpected extra table {table}")
    for table in sorted(gtables):
        g = gtables[table]
        f = ftables.get(table)
        if f is None:
            diffs.append(f"missing table {table}")
            continue
        for col, gcol in g["columns"].items():
            fcol = f["columns"].get(col)
            if fcol is None:
                diffs.append(f"{table}.{col}: missing (genuine: {_fmt_col(gcol)})")
            elif fcol != gcol:
                diffs.append(f"{table}.{col}: genuine {_fmt_col(gcol)} | fresh {_fmt_col(fcol)}")
        for col in f["columns"]:
            if col not in g["columns"] and not _is_allowed(allowed_extra, table, col):
                extra = _fmt_col(f["columns"][col])
                diffs.append(f"{table}.{col}: unexpected extra column ({extra})")
        if g["primary_key"] != f["primary_key"]:
            diffs.append(
                f"{table}: primary key genuine {g['primary_key']} | fresh {f['primary_key']}"
            )
        gunique = {frozenset(u) for u in g["unique"]}
        funique = {frozenset(u) for u in f["unique"]}
        for u in sorted(gunique - funique, key=sorted):
            diffs.append(f"{table}: missing unique constraint on {sorted(u)}")
        for u in sorted(funique - gunique, key=sorted):
            if not all(_is_allowed(allowed_extra, table, c) for c in u):
                diffs.append(f"{table}: unexpected extra unique constraint on {sorted(u)}")
        covering = [f["primary_key"], *f["unique"], *f["indexes"]]
        for idx in g["indexes"]:
            if not any(c[: len(idx)] == idx for c in covering):
                diffs.append(f"{table}: missing index on {idx}")

        def _fk_key(fk: Mapping[str, Any]) -> tuple[Any, ...]:
            return (
                tuple(fk["columns"]),
                fk["table"],
                tuple(fk["ref_columns"]),
                fk["on_update"],
                fk["on_delete"],
            )

        for trig in sorted(set(g["triggers"]) - set(f["triggers"])):
            diffs.append(f"{table}: missing trigger {trig}")
        for trig in sorted(set(f["triggers"]) - set(g["triggers"])):
            diffs.append(f"{table}: unexpected extra trigger {trig}")
        gfks = {_fk_key(fk) for fk in g["foreign_keys"]}
        ffks = {_fk_key(fk) for fk in f["foreign_keys"]}
        for fk in sorted(gfks - ffks):
            diffs.append(f"{table}: missing foreign key {fk}")
        for fk in sorted(ffks - gfks):
            if not all(_is_allowed(allowed_extra, table, c) for c in fk[0]):
                diffs.append(f"{table}: unexpected extra foreign key {fk}")
    return diffs


def format_snapshot(snapshot: dict[str, Any]) -> str:
    """Readable text of a snapshot (compared part first, then the cosmetic part per table)."""
    out = [f"engine: {snapshot['engine']}"]
    cosmetic = snapshot.get("cosmetic", {})
    if cosmetic.get("database"):
        out.append(f"database (cosmetic): {cosmetic['database']}")
    for table, t in sorted(snapshot["tables"].items()):
        out.append("")
        out.append(f"TABLE {table}")
        for col, c in t["columns"].items():
            out.append(f"  {col:<24} {_fmt_col(c)}")
        out.append(f"  PRIMARY KEY {t['primary_key']}")
        out += [f"  UNIQUE {u}" for u in t["unique"]]
        out += [f"  INDEX {i}" for i in t["indexes"]]
        out += [
            f"  FOREIGN KEY {fk['columns']} -> {fk['table']}{fk['ref_columns']}"
            f" ON UPDATE {fk['on_update']} ON DELETE {fk['on_delete']}"
            for fk in t["foreign_keys"]
        ]
        out += [f"  TRIGGER {trig}" for trig in t["triggers"]]
        ct = cosmetic.get("tables", {}).get(table, {})
        for key, value in ct.items():
            if isinstance(value, dict):
                out += [f"  ~ {key}: {k} = {v}" for k, v in value.items()]
            elif value not in (None, ""):
                out.append(f"  ~ {key}: {value}")
    return "\n".join(out) + "\n"


def snapshot_database(engine: str, name: str) -> dict[str, Any]:
    """Convenience: connect to ``name``, take :func:`schema_snapshot`, close."""
    conn = connect(engine, name)
    try:
        return schema_snapshot(engine, conn)
    finally:
        conn.close()


# Manual use: python -m tests.support.pfa_genuine ENGINE NAME
if __name__ == "__main__":  # pragma: no cover
    import sys

    _engine, _name = sys.argv[1], sys.argv[2]
    build_genuine_pfa_database(_engine, _name)
    sys.stdout.write(format_snapshot(snapshot_database(_engine, _name)))
    if os.environ.get("PFA_GENUINE_KEEP") != "1":
        drop_database(_engine, _name)
