"""`manage.py mailconfig`: the Postfix and Dovecot files it generates, checked as text.

The real daemons read the same files in tests/integration; here each rule is pinned down
without them: inactive rows and inactive domains are refused, the SQL dialect fits the engine,
passwords stay off the command line and out of error messages.
"""

from __future__ import annotations

import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from mailserver.configs import (
    DOVECOT_FILES,
    POSTFIX_FILES,
    POSTFIX_MAPS,
    ConfigError,
    Database,
    Options,
    database_from_settings,
    dovecot_files,
    postfix_files,
)

PG = Database(driver="pgsql", host="db.internal", port=5432, name="mail", user="postfix")
MY = Database(driver="mysql", host="127.0.0.1", port=3306, name="mail", user="postfix")


def opts(database: Database = PG, **kwargs: object) -> Options:
    values: dict[str, object] = {"config_dir": "/etc/postfix/sql", **kwargs}
    return Options(database=database, **values)  # type: ignore[arg-type]


def query_of(text: str) -> str:
    """Return a Postfix map's query as one line (continuation lines joined)."""
    match = re.search(r"^query = (.*?)(?=^\S|\Z)", text, re.S | re.M)
    assert match, text
    return " ".join(match.group(1).split())


def dovecot_setting(text: str, key: str) -> str:
    """Return a Dovecot setting's value with backslash continuations joined."""
    match = re.search(rf"^{key} = (.*?)(?<!\\)$", text, re.S | re.M)
    assert match, text
    return " ".join(match.group(1).replace("\\\n", " ").split())


# -- Postfix --------------------------------------------------------------------------------


@pytest.mark.parametrize("database", [PG, MY], ids=["pgsql", "mysql"])
def test_postfix_writes_one_file_per_map_and_the_main_cf_lines(database: Database) -> None:
    files = postfix_files(opts(database))

    assert tuple(files) == POSTFIX_FILES
    for name in POSTFIX_MAPS:
        assert "dbname = mail" in files[name]
        assert "user = postfix" in files[name]
        # No password given, so no password line (an empty one would be sent as is).
        assert not re.search(r"^password", files[name], re.M)


@pytest.mark.parametrize("database", [PG, MY], ids=["pgsql", "mysql"])
def test_every_postfix_lookup_requires_active_rows_and_an_active_domain(
    database: Database,
) -> None:
    true = "true" if database.driver == "pgsql" else "1"
    files = postfix_files(opts(database))
    queries = {name: query_of(files[name]) for name in POSTFIX_MAPS}

    assert queries["virtual_mailbox_domains.cf"] == (
        f"SELECT domain FROM domain WHERE domain = '%s' AND active = {true} "
        f"AND backupmx = {'false' if true == 'true' else '0'}"
    )
    assert f"active = {true} AND backupmx = {true}" in queries["relay_domains.cf"]
    assert f"active = {true}" in queries["transport_maps.cf"]
    for name in ("virtual_alias_maps.cf", "virtual_mailbox_maps.cf", "sender_login_maps.cf"):
        assert "JOIN domain d ON d.domain = " in queries[name], name
        assert re.search(rf"\b[am]\.active = {true} AND d\.active = {true}", queries[name]), name
    for name in (
        "virtual_alias_domain_maps.cf",
        "virtual_alias_domain_catchall_maps.cf",
        "virtual_alias_domain_mailbox_maps.cf",
    ):
        query = queries[name]
        # The alias_domain row, the alias domain, the target domain and the row found.
        assert f"ad.active = {true} AND sd.active = {true} AND td.active = {true}" in query, name
        assert "JOIN domain sd ON sd.domain = ad.alias_domain" in query
        assert "JOIN domain td ON td.domain = ad.target_domain" in query
        assert re.search(rf"AND [am]\.active = {true}$", query), name
        assert "ad.alias_domain = '%d'" in query


def test_postgresql_maps_use_booleans_and_the_concat_operator() -> None:
    files = postfix_files(opts(PG))
    joined = "\n".join(files.values())

    assert "JOIN alias a ON a.address = '%u' || '@' || ad.target_domain" in joined
    assert "JOIN alias a ON a.address = '@' || ad.target_domain" in joined
    assert "CONCAT" not in joined
    assert not re.search(r"active = ['\d]", joined)
    assert "hosts = inet:db.internal:5432" in files["virtual_alias_maps.cf"]


def test_mysql_maps_use_tinyint_flags_and_concat() -> None:
    files = postfix_files(opts(MY))
    joined = "\n".join(files.values())

    assert "JOIN alias a ON a.address = CONCAT('%u', '@', ad.target_domain)" in joined
    assert "JOIN mailbox m ON m.username = CONCAT('%u', '@', ad.target_domain)" in joined
    assert "||" not in joined
    assert "= true" not in joined
    assert "= false" not in joined
    assert "hosts = inet:127.0.0.1:3306" in files["virtual_alias_maps.cf"]


def test_postfix_queries_use_only_postfix_expansions() -> None:
    for text in postfix_files(opts(MY)).values():
        if "query = " in text:
            # A stray % would be expanded (or rejected) by Postfix.
            assert set(re.findall(r"%.", query_of(text))) <= {"%s", "%u", "%d"}


def test_main_cf_lists_maps_in_postfix_admin_order_with_absolute_paths() -> None:
    text = postfix_files(opts(PG, mail_root="/srv/vmail", uid=2000, gid=3000))["main.cf.snippet"]
    flat = re.sub(r",\n\s+", ", ", text)
    d = "pgsql:/etc/postfix/sql"

    assert f"virtual_mailbox_domains = {d}/virtual_mailbox_domains.cf\n" in flat
    assert (
        f"virtual_alias_maps = {d}/virtual_alias_maps.cf, {d}/virtual_alias_domain_maps.cf, "
        f"{d}/virtual_alias_domain_catchall_maps.cf\n"
    ) in flat
    assert (
        f"virtual_mailbox_maps = {d}/virtual_mailbox_maps.cf, "
        f"{d}/virtual_alias_domain_mailbox_maps.cf\n"
    ) in flat
    assert f"relay_domains = {d}/relay_domains.cf\n" in flat
    assert f"transport_maps = {d}/transport_maps.cf\n" in flat
    assert f"smtpd_sender_login_maps = {d}/sender_login_maps.cf\n" in flat
    assert "virtual_mailbox_base = /srv/vmail\n" in flat
    assert "virtual_uid_maps = static:2000\n" in flat
    assert "virtual_gid_maps = static:3000\n" in flat
    assert "proxy:" not in flat.replace("--proxy", "")
    # The read-only role suggestion is a comment, never an active line.
    grants = [line for line in text.splitlines() if "GRANT" in line]
    assert grants
    assert all(line.startswith("#") for line in grants)
    assert "GRANT SELECT ON domain, mailbox, alias, alias_domain" in text
    assert "INSERT" not in text


def test_proxy_flag_wraps_every_map() -> None:
    text = postfix_files(opts(MY, proxy=True))["main.cf.snippet"]
    refs = re.findall(r"(\S*mysql:/etc/postfix/sql/\S+?\.cf)", text)

    assert len(refs) == len(POSTFIX_MAPS)
    assert all(ref.startswith("proxy:mysql:") for ref in refs)


def test_transport_map_turns_virtual_into_the_class_default() -> None:
    query = query_of(postfix_files(opts(PG))["transport_maps.cf"])

    assert "CASE WHEN transport = 'virtual' THEN ':' ELSE transport END" in query
    assert "transport IS NOT NULL AND transport <> ''" in query


# -- Dovecot --------------------------------------------------------------------------------


def test_dovecot_files_and_sql_driver() -> None:
    files = dovecot_files(opts(PG, config_dir="/etc/dovecot"))

    assert tuple(files) == DOVECOT_FILES
    sql = files["dovecot-sql.conf.ext"]
    assert "\ndriver = pgsql\n" in sql
    assert "\nconnect = host=db.internal port=5432 dbname=mail user=postfix\n" in sql
    assert "\ndefault_pass_scheme = CRYPT\n" in sql
    auth = files["10-auth-sql.conf"]
    assert auth.count("args = /etc/dovecot/dovecot-sql.conf.ext") == 2
    assert "passdb {" in auth
    assert "userdb {" in auth


@pytest.mark.parametrize("database", [PG, MY], ids=["pgsql", "mysql"])
def test_password_and_user_queries_refuse_inactive_mailboxes_and_domains(
    database: Database,
) -> None:
    true = "true" if database.driver == "pgsql" else "1"
    sql = dovecot_files(opts(database))["dovecot-sql.conf.ext"]
    where = (
        "FROM mailbox m JOIN domain d ON d.domain = m.domain "
        f"WHERE m.username = '%u' AND m.active = {true} AND d.active = {true}"
    )

    assert dovecot_setting(sql, "password_query") == (
        f"SELECT m.username AS user, m.password {where}"
    )
    assert dovecot_setting(sql, "user_query").endswith(where)
    assert dovecot_setting(sql, "iterate_query") == (
        "SELECT m.username AS user FROM mailbox m JOIN domain d ON d.domain = m.domain "
        f"WHERE m.active = {true} AND d.active = {true}"
    )


def test_user_query_builds_home_uid_gid_and_quota_rule_per_engine() -> None:
    pg = dovecot_setting(
        dovecot_files(opts(PG, mail_root="/srv/vmail/", uid=2000, gid=3000))[
            "dovecot-sql.conf.ext"
        ],
        "user_query",
    )
    my = dovecot_setting(
        dovecot_files(opts(MY, mail_root="/srv/vmail"))["dovecot-sql.conf.ext"], "user_query"
    )

    assert "SELECT '/srv/vmail/' || m.maildir AS home, 2000 AS uid, 3000 AS gid," in pg
    # 0 (unlimited) and -1 (disabled) return NULL, which Dovecot skips: no limit.
    assert "CASE WHEN m.quota > 0 THEN '*:bytes=' || m.quota END AS quota_rule" in pg
    assert "SELECT CONCAT('/srv/vmail/', m.maildir) AS home, 5000 AS uid, 5000 AS gid," in my
    assert "CASE WHEN m.quota > 0 THEN CONCAT('*:bytes=', m.quota) END AS quota_rule" in my


def test_mail_location_and_valid_uid_range_follow_the_options() -> None:
    text = dovecot_files(opts(PG, uid=2000, gid=3000))["10-mail-vimbadmin.conf"]

    assert "mail_location = maildir:~/\n" in text
    assert "first_valid_uid = 2000\nlast_valid_uid = 2000\n" in text
    assert "first_valid_gid = 3000\nlast_valid_gid = 3000\n" in text


def test_quota_dict_maps_storage_to_bytes_and_messages_to_messages() -> None:
    files = dovecot_files(opts(MY, config_dir="/etc/dovecot", mail_user="vmail"))
    dict_sql = files["dovecot-dict-sql.conf.ext"]
    maps = re.findall(r"map \{(.*?)\}", dict_sql, re.S)
    parsed = [dict(line.strip().split(" = ", 1) for line in m.strip().splitlines()) for m in maps]

    assert parsed == [
        {
            "pattern": "priv/quota/storage",
            "table": "quota2",
            "username_field": "username",
            "value_field": "bytes",
        },
        {
            "pattern": "priv/quota/messages",
            "table": "quota2",
            "username_field": "username",
            "value_field": "messages",
        },
    ]
    assert "\nconnect = host=127.0.0.1 port=3306 dbname=mail user=postfix\n" in dict_sql
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON mail.quota2" in dict_sql
    quota = files["90-quota-vimbadmin.conf"]
    assert "quota = dict:User quota::proxy::sqlquota" in quota
    assert "sqlquota = mysql:/etc/dovecot/dovecot-dict-sql.conf.ext" in quota
    assert "user = vmail" in quota


# -- connection parameters and passwords ----------------------------------------------------


def test_password_goes_into_connect_strings_and_maps_only_when_set() -> None:
    database = Database(
        driver="pgsql", host="db", port=None, name="mail", user="ro", password="S3cret!pw"
    )
    pf = postfix_files(opts(database))
    dc = dovecot_files(opts(database))

    assert "password = S3cret!pw\n" in pf["virtual_alias_maps.cf"]
    assert "hosts = inet:db\n" in pf["virtual_alias_maps.cf"]
    assert (
        "connect = host=db dbname=mail user=ro password=S3cret!pw\n" in dc["dovecot-sql.conf.ext"]
    )
    # Snippets that Dovecot includes into its main config never carry it.
    for name in ("10-auth-sql.conf", "10-mail-vimbadmin.conf", "90-quota-vimbadmin.conf"):
        assert "S3cret" not in dc[name]
    assert "S3cret" not in pf["main.cf.snippet"]


def test_socket_hosts() -> None:
    pg = Database(driver="pgsql", host="/run/postgresql", port=None, name="m", user="u")
    my = Database(driver="mysql", host="/run/mysqld/mysqld.sock", port=None, name="m", user="u")

    assert "hosts = unix:/run/postgresql\n" in postfix_files(opts(pg))["relay_domains.cf"]
    assert "hosts = unix:/run/mysqld/mysqld.sock\n" in postfix_files(opts(my))["relay_domains.cf"]
    assert (
        "connect = host=/run/postgresql dbname=m user=u\n"
        in (dovecot_files(opts(pg))["dovecot-sql.conf.ext"])
    )


def test_database_from_settings_refuses_sqlite() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL or MySQL/MariaDB"):
        database_from_settings({"ENGINE": "django.db.backends.sqlite3", "NAME": "/x/db.sqlite3"})


def test_database_from_settings_uses_the_app_password_only_for_the_app_user() -> None:
    db = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db",
        "PORT": "6432",
        "NAME": "mail",
        "USER": "app",
        "PASSWORD": "app-secret",
    }

    assert database_from_settings(db) == Database(
        driver="pgsql", host="db", port=6432, name="mail", user="app", password="app-secret"
    )
    readonly = database_from_settings(db, user="ro")
    assert readonly.user == "ro"
    assert readonly.password == ""
    assert database_from_settings(db, user="ro", password="ro-pw").password == "ro-pw"


def test_unsafe_password_is_refused_without_being_echoed() -> None:
    db = {"ENGINE": "django.db.backends.mysql", "NAME": "mail", "USER": "app"}

    with pytest.raises(ConfigError) as excinfo:
        database_from_settings(db, user="ro", password="has space#1")

    assert "password" in str(excinfo.value)
    assert "has space" not in str(excinfo.value)


@pytest.mark.parametrize("path", ["relative/dir", "/with space", "/a,b"])
def test_paths_must_be_absolute_and_plain(path: str) -> None:
    with pytest.raises(ConfigError):
        postfix_files(opts(PG, mail_root=path))


# -- the command ----------------------------------------------------------------------------


@pytest.fixture
def pg_alias(monkeypatch: pytest.MonkeyPatch) -> str:
    """A DATABASES entry the command can describe; nothing ever connects to it."""
    monkeypatch.setitem(
        django_settings.DATABASES,
        "mailtest",
        {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": 5432,
            "NAME": "vimbadmin",
            "USER": "vimbadmin",
            "PASSWORD": "app-password",
        },
    )
    return "mailtest"


def test_command_refuses_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        django_settings.DATABASES,
        "sqlitetest",
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3"},
    )

    with pytest.raises(CommandError, match="PostgreSQL or MySQL/MariaDB"):
        call_command("mailconfig", "postfix", database="sqlitetest", stdout=StringIO())


def test_command_prints_every_file_with_a_header(pg_alias: str) -> None:
    out = StringIO()
    call_command("mailconfig", "dovecot", database=pg_alias, stdout=out)
    text = out.getvalue()

    assert re.findall(r"^# ==> (\S+) <==$", text, re.M) == list(DOVECOT_FILES)
    assert "args = /etc/dovecot/dovecot-sql.conf.ext" in text
    # Without --db-user the application's own account is used.
    assert "user=vimbadmin password=app-password" in text


def test_command_writes_private_files_into_output(pg_alias: str, tmp_path: Path) -> None:
    out = StringIO()
    target = tmp_path / "sql"
    call_command(
        "mailconfig", "postfix", database=pg_alias, output=str(target), proxy=True, stdout=out
    )

    assert sorted(p.name for p in target.iterdir()) == sorted(POSTFIX_FILES)
    for path in target.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name
    main_cf = (target / "main.cf.snippet").read_text()
    # Paths inside default to the output directory, so the files work where they were written.
    assert f"proxy:pgsql:{target}/virtual_alias_maps.cf" in main_cf
    assert postfix_files(
        opts(
            database_from_settings(django_settings.DATABASES[pg_alias]),
            config_dir=str(target),
            proxy=True,
        )
    ) == {p.name: p.read_text() for p in target.iterdir()}
    assert "app-password" not in out.getvalue()


def test_command_config_dir_overrides_paths(pg_alias: str, tmp_path: Path) -> None:
    call_command(
        "mailconfig",
        "dovecot",
        database=pg_alias,
        output=str(tmp_path),
        config_dir="/etc/dovecot/vimbadmin",
        stdout=StringIO(),
    )

    auth = (tmp_path / "10-auth-sql.conf").read_text()
    assert "args = /etc/dovecot/vimbadmin/dovecot-sql.conf.ext" in auth


def test_command_reads_the_role_password_from_a_file(pg_alias: str, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("Ro-Pass-123\n")
    out = StringIO()

    call_command(
        "mailconfig",
        "postfix",
        database=pg_alias,
        db_user="mailreader",
        db_password_file=str(secret),
        stdout=out,
    )

    text = out.getvalue()
    assert "user = mailreader\npassword = Ro-Pass-123\n" in text
    assert "app-password" not in text


def test_command_reads_the_role_password_from_the_environment(
    pg_alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIMBADMIN_MAILCONFIG_DB_PASSWORD", "Env-Pass-456")
    out = StringIO()

    call_command("mailconfig", "dovecot", database=pg_alias, db_user="mailreader", stdout=out)

    assert "user=mailreader password=Env-Pass-456" in out.getvalue()
    assert "app-password" not in out.getvalue()


def test_command_without_role_password_writes_none(
    pg_alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIMBADMIN_MAILCONFIG_DB_PASSWORD", raising=False)
    out = StringIO()

    call_command("mailconfig", "postfix", database=pg_alias, db_user="mailreader", stdout=out)

    assert "password" not in re.sub(r"(?m)^#.*$", "", out.getvalue())


def test_command_has_no_password_option() -> None:
    from mailserver.management.commands.mailconfig import Command

    parser = Command().create_parser("manage.py", "mailconfig")
    options = {opt for action in parser._actions for opt in action.option_strings}
    assert "--db-password-file" in options
    assert not {opt for opt in options if opt.endswith("password")}


# -- Dovecot: app passwords and TOTP (Postfix Admin 4) ---------------------------------------


@pytest.mark.parametrize("database", [PG, MY], ids=["pgsql", "mysql"])
def test_second_factor_adds_the_app_password_passdb_first(database: Database) -> None:
    files = dovecot_files(opts(database, config_dir="/etc/dovecot", second_factor=True))

    assert tuple(files) == (*DOVECOT_FILES, "dovecot-sql-app-passwords.conf.ext")
    auth = files["10-auth-sql.conf"]
    assert auth.index("dovecot-sql-app-passwords.conf.ext") < auth.index(
        "args = /etc/dovecot/dovecot-sql.conf.ext"
    )
    query = dovecot_setting(files["dovecot-sql-app-passwords.conf.ext"], "password_query")
    assert "JOIN mailbox_app_password a ON a.username = m.username" in query
    typed = (
        "'{SHA512.HEX}' || encode(sha512(convert_to('%w', 'UTF8')), 'hex')"
        if database.driver == "pgsql"
        else "CONCAT('{SHA512.HEX}', SHA2('%w', 512))"
    )
    assert f"AND a.password_hash = {typed} LIMIT 1" in query


@pytest.mark.parametrize("database", [PG, MY], ids=["pgsql", "mysql"])
def test_second_factor_limits_the_main_password_to_exception_addresses(
    database: Database,
) -> None:
    sql = dovecot_files(opts(database, second_factor=True))["dovecot-sql.conf.ext"]
    query = dovecot_setting(sql, "password_query")

    assert (
        "AND (m.totp_secret IS NULL OR m.totp_secret = '' OR EXISTS (SELECT 1 FROM "
        "totp_exception_address e WHERE (e.username IS NULL OR e.username = m.username OR "
        "e.username = m.domain) AND "
    ) in query
    # Networks too, by value (what matches is tested on the engines: test_exception_networks).
    if database.driver == "pgsql":
        assert "AND vimbadmin_inet('%r') <<= vimbadmin_inet(e.ip) ))" in query
    else:
        assert "HEX(INET6_ATON('%r'))" in query
        assert "e.ip = '%r'" not in query
    # The suggested read-only role may read what the query reads.
    grants = " ".join(line for line in sql.splitlines() if line.startswith("#   GRANT SELECT"))
    assert "totp_exception_address" in grants
    assert "mailbox_app_password" in grants
    assert "totp_exception_address" not in dovecot_files(opts(database))["dovecot-sql.conf.ext"]
    # The userdb is unchanged: delivery does not depend on the second factor.
    assert "totp" not in dovecot_setting(sql, "user_query")


def test_without_second_factor_nothing_reads_postfix_admin_4_tables() -> None:
    files = dovecot_files(opts(PG))
    assert "dovecot-sql-app-passwords.conf.ext" not in files
    assert "totp" not in "".join(files.values())


def test_command_second_factor_flag(pg_alias: str) -> None:
    out = StringIO()
    call_command("mailconfig", "dovecot", database=pg_alias, second_factor=True, stdout=out)

    assert "# ==> dovecot-sql-app-passwords.conf.ext <==" in out.getvalue()
