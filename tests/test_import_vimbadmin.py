"""`manage.py import_vimbadmin`: a genuine ViMbAdmin 3 database (MariaDB and PostgreSQL) comes
over with its passwords, quotas, aliases, alias domains and admins; dry runs and second runs
write nothing; bad input is one line, nothing written, a non-zero exit."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from io import StringIO
from itertools import count

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import Admin
from aliases.models import Alias
from domains.models import ALL_DOMAINS, AliasDomain, Domain, DomainAdmin, DomainSettings
from mail import passwords
from mailboxes.models import Mailbox
from mailserver.configs import ConfigError, Database, Options, dovecot_files
from pfa.models import Log
from tests.factories import make_alias, make_domain
from tests.support import vimbadmin3 as v3
from tests.support.pfa_genuine import drop_database
from tests.support.tools import require_tool
from vimbadmin3.models import KeptRow, MailboxLocation

ENGINES = ("mysql", "postgresql")
MB = 1024000  # Postfix Admin's default quota multiplier
_seq = count(1)
SALT = "s3cr3tSalt"


def _name(engine: str) -> str:
    base = os.environ.get("DATABASE_TEST_NAME", "vimb")
    return f"{base}_v3src_{engine[:2]}_{os.getpid()}_{next(_seq)}"


def _domains() -> list[v3.VDomain]:
    return [
        v3.VDomain(
            "alpha.example",
            description="Alpha Ltd",
            max_aliases=50,
            max_mailboxes=10,
            max_quota=2048 * MB,
            quota=512 * MB,
            mailboxes=[
                v3.VMailbox(
                    "anna",
                    "anna-Secret-1",
                    scheme="dovecot:BLF-CRYPT",
                    name="Anna A",
                    alt_email="anna@home.example",
                    quota=1536 * MB + 7,
                ),
                v3.VMailbox("bert", "bert-Secret-2", scheme="crypt:sha512", quota=0),
                v3.VMailbox("carl", "carl-Secret-3", scheme="crypt:md5", active=False),
                v3.VMailbox("dora", "dora-Secret-4", scheme="md5", forward=["x@elsewhere.example"]),
                v3.VMailbox(
                    "emil",
                    "emil-Secret-5",
                    scheme="plain",
                    maildir="maildir:/data/mail/special/emil:LAYOUT=fs",
                    homedir="/data/homes/emil",
                ),
            ],
            aliases={
                "team@alpha.example": "anna@alpha.example,bert@alpha.example",
                "@alpha.example": "anna@alpha.example",
            },
        ),
        v3.VDomain(
            "beta.example",
            max_quota=1000,
            quota=0,
            transport="lmtp:unix:private/dovecot-lmtp",
            mailboxes=[v3.VMailbox("finn", "finn-Secret-6", scheme="dovecot:SHA512-CRYPT")],
        ),
        v3.VDomain("alias.example", description="points at alpha"),
    ]


def _admins() -> list[v3.VAdmin]:
    return [
        v3.VAdmin("boss@admins.example", "boss-Password-1", super=True),
        v3.VAdmin("alpha-admin@admins.example", "alpha-Password-2", domains=["alpha.example"]),
        v3.VAdmin(
            "both@admins.example",
            "both-Password-3",
            active=False,
            domains=["alpha.example", "beta.example"],
        ),
    ]


@pytest.fixture(params=ENGINES)
def source(request):
    engine = request.param
    name = _name(engine)
    conn = v3.create_database(engine, name)
    try:
        ids = v3.fill(
            conn, engine, _domains(), _admins(), alias_domains=[("alias.example", "alpha.example")]
        )
        v3.add_archive(conn, engine, ids["alpha.example"], "gone@alpha.example")
    finally:
        conn.close()
    yield v3.source_url(engine, name)
    drop_database(engine, name)


# The test database holds hashes of every scheme, as one whose scheme was changed over time.
SCHEMES = ("--password-scheme", "dovecot:BLF-CRYPT,md5,plain")


def _run(*args: str) -> str:
    if "--password-scheme" not in args and "nothing" not in " ".join(args):
        args = (*args, *SCHEMES)
    out = StringIO()
    call_command("import_vimbadmin", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _refused(*args: str) -> str:
    with pytest.raises(CommandError) as info:
        _run(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def _target() -> dict[str, list[tuple]]:
    """Every row the import could write, to compare before and after."""
    return {
        "domain": sorted(Domain.objects.values_list()),
        "settings": sorted(DomainSettings.objects.values_list()),
        "mailbox": sorted(Mailbox.objects.values_list()),
        "alias": sorted(Alias.objects.values_list()),
        "alias_domain": sorted(AliasDomain.objects.values_list()),
        "admin": sorted(Admin.objects.values_list()),
        "domain_admins": sorted(DomainAdmin.objects.values_list("username", "domain", "active")),
        "log": sorted(Log.objects.values_list("id")),
        "locations": sorted(MailboxLocation.objects.values_list()),
        "kept": sorted(KeptRow.objects.values_list("source_table", "source_id")),
    }


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(source):
    before = _target()
    out = _run("--source", source)
    assert _target() == before
    assert "alpha.example: domain new; mailboxes and aliases: 7 new" in out
    assert "alias domain alias.example -> alpha.example: new" in out
    assert "admin boss@admins.example (super admin): new" in out
    # Every hash scheme found, with counts.
    for line in (
        "BLF-CRYPT: 1",
        "SHA512-CRYPT: 2",
        "MD5-CRYPT: 1",
        "PLAIN-MD5: 1",
        "PLAIN: 1",
    ):
        assert f"  {line}\n" in out
    # The default template, and the one mailbox with a location of its own.
    assert "/srv/vmail + maildir:~/mail:LAYOUT=fs: 5" in out
    assert "own: maildir:/data/mail/special/emil:LAYOUT=fs: 1" in out
    assert "Dry run: nothing was written." in out


@pytest.mark.django_db
def test_apply_imports_everything_and_a_second_run_changes_nothing(source):
    out = _run("--source", source, "--apply")
    assert "Imported:" in out

    alpha = Domain.objects.get(pk="alpha.example")
    assert (alpha.description, alpha.aliases, alpha.mailboxes) == ("Alpha Ltd", 50, 10)
    assert (alpha.maxquota, alpha.quota, alpha.active, alpha.backupmx) == (2048, 0, True, False)
    assert DomainSettings.objects.get(domain_id="alpha.example").default_mailbox_quota == 512
    beta = Domain.objects.get(pk="beta.example")
    # 1000 bytes is less than one MB: the ceiling rounds up so no mailbox passes it.
    assert (beta.maxquota, beta.transport) == (1, "lmtp:unix:private/dovecot-lmtp")

    stored = {m.username: m for m in Mailbox.objects.all()}
    assert set(stored) == {
        "anna@alpha.example",
        "bert@alpha.example",
        "carl@alpha.example",
        "dora@alpha.example",
        "emil@alpha.example",
        "finn@beta.example",
    }
    prefixes = {
        "anna@alpha.example": "{BLF-CRYPT}$2y$",
        "bert@alpha.example": "{SHA512-CRYPT}$6$",
        "carl@alpha.example": "{MD5-CRYPT}$1$",
        "dora@alpha.example": "{PLAIN-MD5}",
        "emil@alpha.example": "{PLAIN}",
        "finn@beta.example": "{SHA512-CRYPT}$6$",
    }
    secrets = {m.local: m.password for d in _domains() for m in d.mailboxes}
    for username, prefix in prefixes.items():
        assert stored[username].password.startswith(prefix), username
        assert passwords.verify_password(
            secrets[username.partition("@")[0]], stored[username].password
        )
    anna = stored["anna@alpha.example"]
    assert anna.quota == 1536 * MB + 7  # bytes in both schemas: exact
    assert (anna.name, anna.email_other) == ("Anna A", "anna@home.example")
    assert anna.maildir == "alpha.example/anna/"
    assert not stored["carl@alpha.example"].active
    assert Alias.objects.get(pk="carl@alpha.example").active is False
    # Own alias rows, forwarding kept.
    assert Alias.objects.get(pk="anna@alpha.example").goto == "anna@alpha.example"
    assert (
        Alias.objects.get(pk="dora@alpha.example").goto == "dora@alpha.example,x@elsewhere.example"
    )
    # Multi-destination alias and catch-all.
    assert (
        Alias.objects.get(pk="team@alpha.example").goto == "anna@alpha.example,bert@alpha.example"
    )
    assert Alias.objects.get(pk="@alpha.example").goto == "anna@alpha.example"
    # The @a -> @b alias became an alias domain, not an alias row.
    assert AliasDomain.objects.get(pk="alias.example").target_domain_id == "alpha.example"
    assert not Alias.objects.filter(pk="@alias.example").exists()
    # Only the mailbox off the template keeps a location of its own.
    assert list(MailboxLocation.objects.values_list("username", "home", "mail")) == [
        (
            "emil@alpha.example",
            "/data/homes/emil",
            "maildir:/data/mail/special/emil:LAYOUT=fs",
        )
    ]

    boss = Admin.objects.get(pk="boss@admins.example")
    assert boss.superadmin and boss.password.startswith("{BLF-CRYPT}$2a$09$")
    assert DomainAdmin.objects.filter(username_id=boss.pk, domain_id=ALL_DOMAINS).exists()
    both = Admin.objects.get(pk="both@admins.example")
    assert not both.active and not both.superadmin
    assert sorted(
        DomainAdmin.objects.filter(username_id=both.pk).values_list("domain_id", flat=True)
    ) == [
        "alpha.example",
        "beta.example",
    ]
    assert Log.objects.filter(action="create_mailbox").count() == 6

    before = _target()
    again = _run("--source", source, "--apply")
    assert _target() == before
    assert "alpha.example: domain identical; mailboxes and aliases: 7 identical" in again
    assert "admin boss@admins.example (super admin): identical" in again


@pytest.mark.django_db
def test_imported_admins_log_in_with_their_old_passwords_and_see_their_domains(source):
    _run("--source", source, "--apply")
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": "alpha-admin@admins.example", "password": "alpha-Password-2"},
    )
    assert response.status_code == 302
    page = client.get("/domains/").content.decode()
    assert "alpha.example" in page
    assert "beta.example" not in page
    # The old bcrypt hash was replaced on login by one in the configured scheme.
    assert not Admin.objects.get(pk="alpha-admin@admins.example").password.startswith(
        "{BLF-CRYPT}$2a$"
    )
    boss = Client()
    response = boss.post(
        "/accounts/login/", {"username": "boss@admins.example", "password": "boss-Password-1"}
    )
    assert response.status_code == 302
    page = boss.get("/domains/").content.decode()
    assert "alpha.example" in page and "beta.example" in page


@pytest.mark.django_db
def test_imported_mailbox_owner_logs_in_with_the_old_password(source):
    _run("--source", source, "--apply")
    client = Client()
    response = client.post(
        "/me/login/", {"address": "dora@alpha.example", "password": "dora-Secret-4"}
    )
    assert response.status_code == 302
    # Re-hashed into the configured scheme on that login.
    assert Mailbox.objects.get(pk="dora@alpha.example").password.startswith("{SHA512-CRYPT}")


@pytest.mark.django_db
def test_domains_option_limits_the_run(source):
    _run("--source", source, "--apply", "--domains", "beta.example")
    # Admins come along (the super admin with Postfix Admin's ALL pseudo-domain), each with the
    # domains of theirs that were imported.
    assert list(Domain.objects.values_list("domain", flat=True)) == ["ALL", "beta.example"]
    assert list(
        DomainAdmin.objects.filter(username_id="both@admins.example").values_list(
            "domain_id", flat=True
        )
    ) == ["beta.example"]
    assert list(Mailbox.objects.values_list("username", flat=True)) == ["finn@beta.example"]


@pytest.mark.django_db
def test_unreachable_source_is_one_line_and_writes_nothing(db):
    before = _target()
    message = _refused("--source", "postgresql://root@127.0.0.1:1/nothing", "--apply")
    assert "Cannot connect to the ViMbAdmin database 127.0.0.1:1/nothing" in message
    assert _target() == before


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ENGINES)
def test_a_database_that_is_not_vimbadmin_is_refused(engine):
    name = _name(engine)
    conn = v3.create_database(engine, name)
    try:
        conn.cursor().execute("DROP TABLE dbversion")
        if engine == "mysql":
            conn.commit()
    finally:
        conn.close()
    try:
        before = _target()
        message = _refused("--source", v3.source_url(engine, name), "--apply")
        assert "is not a ViMbAdmin 3 database (no dbversion.version)" in message
        assert _target() == before
    finally:
        drop_database(engine, name)


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ENGINES)
def test_an_unknown_db_version_is_refused(engine):
    name = _name(engine)
    conn = v3.create_database(engine, name, dbversion=7)
    try:
        v3.fill(conn, engine, [v3.VDomain("seven.example")])
    finally:
        conn.close()
    try:
        before = _target()
        message = _refused("--source", v3.source_url(engine, name), "--apply")
        assert "ViMbAdmin database version 7, which this importer does not know" in message
        assert _target() == before
    finally:
        drop_database(engine, name)


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ENGINES)
def test_salted_schemes_need_the_salt_and_then_verify(engine):
    name = _name(engine)
    conn = v3.create_database(engine, name)
    try:
        v3.fill(
            conn,
            engine,
            [
                v3.VDomain(
                    "salt.example",
                    mailboxes=[v3.VMailbox("sam", "sam-Secret-7", scheme="md5-salted")],
                )
            ],
            salt=SALT,
        )
    finally:
        conn.close()
    url = v3.source_url(engine, name)
    try:
        before = _target()
        message = _refused("--source", url, "--apply", "--password-scheme", "md5-salted")
        assert "needs ViMbAdmin's global salt" in message and "--password-salt" in message
        assert _target() == before
        _run("--source", url, "--apply", "--password-scheme", "md5-salted", "--password-salt", SALT)
        stored = Mailbox.objects.get(pk="sam@salt.example").password
        # Dovecot's SMD5: the same digest, followed by the salt.
        assert stored.startswith("{SMD5}")
        assert passwords.verify_password("sam-Secret-7", stored)
        assert not passwords.verify_password("sam-Secret-8", stored)
    finally:
        drop_database(engine, name)


@pytest.mark.django_db
def test_a_conflicting_address_refuses_that_domain_only(source):
    beta = make_domain("beta.example")
    make_alias(beta, "finn", ["someone@else.example"])
    before = _target()
    dry = StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "import_vimbadmin", "--source", source, *SCHEMES, stdout=dry, stderr=StringIO()
        )
    assert "finn@beta.example is an alias in this database but a mailbox in ViMbAdmin" in str(
        info.value
    )
    assert _target() == before
    message = _refused("--source", source, "--apply")
    assert "finn@beta.example is an alias in this database" in message
    # Nothing of beta.example was written; the other domains were imported.
    assert not Mailbox.objects.filter(domain_id="beta.example").exists()
    assert Mailbox.objects.filter(domain_id="alpha.example").count() == 5
    assert Alias.objects.get(pk="finn@beta.example").goto == "someone@else.example"


@pytest.mark.django_db
def test_all_or_nothing_writes_nothing_on_a_conflict(source):
    beta = make_domain("beta.example")
    make_alias(beta, "finn", ["someone@else.example"])
    before = _target()
    message = _refused("--source", source, "--apply", "--all-or-nothing")
    assert "Nothing was written." in message
    assert _target() == before


@pytest.mark.parametrize(
    ("scheme", "prefix"),
    [
        ("dovecot:BLF-CRYPT", "{BLF-CRYPT}"),
        ("dovecot:SSHA512", "{SSHA512}"),
        ("crypt:sha512", "{SHA512-CRYPT}"),
        ("crypt:md5", "{MD5-CRYPT}"),
        ("md5", "{PLAIN-MD5}"),
        ("md5-salted", "{SMD5}"),
        ("sha1", "{SHA1.HEX}"),
        ("sha1-salted", "{SSHA}"),
        ("plain", "{PLAIN}"),
    ],
)
def test_dovecot_verifies_every_translated_hash(scheme, prefix):
    doveadm = require_tool("doveadm")
    secret = "Old-Passw0rd"
    stored = v3.vimbadmin_hash(scheme, secret, salt=SALT)
    schemes = passwords.check_vimbadmin_scheme(scheme, SALT)
    prefixed = passwords.vimbadmin_mailbox_hash(stored, schemes, salt=SALT)
    assert prefixed.startswith(prefix)
    assert passwords.verify_password(secret, prefixed)
    assert not passwords.verify_password(secret + "x", prefixed)
    for candidate, verified in ((secret, True), (secret + "x", False)):
        result = subprocess.run(
            [doveadm, "pw", "-t", prefixed, "-p", candidate],
            capture_output=True,
            text=True,
            check=False,
        )
        assert ("(verified)" in result.stdout) is verified, (result.stdout, result.stderr)


@pytest.mark.django_db
def test_dry_run_prints_the_mailconfig_command_that_finds_the_mail(source):
    out = _run("--source", source)
    assert (
        "manage.py mailconfig dovecot --mail-root /srv/vmail "
        "--mail-location maildir:~/mail:LAYOUT=fs --uid 2000 --gid 2000 --mailbox-locations"
    ) in out


def test_mailconfig_refuses_a_mail_location_it_cannot_write():
    database = Database(driver="pgsql", host="db.internal", port=5432, name="mail", user="u")
    options = Options(database=database, config_dir="/etc/dovecot", mail_location="maildir:~/ x")
    with pytest.raises(ConfigError, match="The mail location must look like"):
        dovecot_files(options)


@pytest.mark.django_db
def test_log_rows_come_over_with_postfix_admin_keys_and_nothing_is_dropped(source):
    dry = _run("--source", source)
    assert "Log rows to import: 6" in dry
    assert "  mailbox_pref: 6 (xpiInfo.ext_no: 6)" in dry
    assert "  admin_pref: 3 (auth.last_login_at: 3)" in dry
    assert "  archive: 1 (ARCHIVED: 1)" in dry
    _run("--source", source, "--apply")
    imported = Log.objects.filter(username__endswith="(ViMbAdmin 3)")
    rows = {(r.action, r.domain, r.username, r.data) for r in imported}
    assert (
        "create_domain",
        "alpha.example",
        "unknown (ViMbAdmin 3)",
        "DOMAIN_ADD: admin added domain alpha.example",
    ) in rows
    assert (
        "edit_admin",
        "beta.example",
        "both@admins.example (ViMbAdmin 3)",
        "ADMIN_TO_DOMAIN_ADD: both@admins.example added to beta.example",
    ) in rows
    assert len(rows) == 6
    assert {r.timestamp for r in imported} == {v3.STAMP.replace(tzinfo=datetime.UTC)}
    # The log page shows them to the super admin, as any other row.
    client = Client()
    client.force_login(Admin.objects.get(pk="boss@admins.example"))
    assert (
        "ADMIN_TO_DOMAIN_ADD: both@admins.example added to beta.example"
        in client.get("/log/").content.decode()
    )
    kept = {(k.source_table, k.owner) for k in KeptRow.objects.exclude(source_table="log")}
    assert ("mailbox_pref", "anna@alpha.example") in kept
    assert ("admin_pref", "boss@admins.example") in kept
    archive = KeptRow.objects.get(source_table="archive")
    assert archive.owner == "gone@alpha.example"
    assert json.loads(archive.data)["maildir_file"] == "/srv/archives/maildir-1.tar.bz2"
    # A second run brings none of them twice.
    again = _run("--source", source, "--apply")
    assert "Log rows to import: 0" in again
    assert Log.objects.filter(username__endswith="(ViMbAdmin 3)").count() == 6


@pytest.mark.django_db
def test_dates_are_read_in_the_source_time_zone(source):
    _run("--source", source, "--apply", "--source-time-zone", "Europe/Berlin")
    created = Mailbox.objects.get(pk="anna@alpha.example").created
    # 03:02:01 in Berlin (summer time) is 01:02:01 UTC.
    assert created == datetime.datetime(2019, 5, 4, 1, 2, 1, tzinfo=datetime.UTC)
    assert "Unknown time zone" in _refused("--source", source, "--source-time-zone", "Mars/Base")


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ENGINES)
def test_an_internationalised_domain_comes_over_as_punycode_once(engine):
    name = _name(engine)
    conn = v3.create_database(engine, name)
    try:
        v3.fill(
            conn,
            engine,
            [v3.VDomain("bücher.example", mailboxes=[v3.VMailbox("jan", "jan-Secret-9")])],
        )
    finally:
        conn.close()
    url = v3.source_url(engine, name)
    try:
        _run("--source", url, "--apply")
        assert Mailbox.objects.get(pk="jan@xn--bcher-kva.example").domain_id == (
            "xn--bcher-kva.example"
        )
        before = _target()
        again = _run("--source", url, "--apply")
        assert (
            "xn--bcher-kva.example: domain identical; mailboxes and aliases: 1 identical" in again
        )
        assert _target() == before
    finally:
        drop_database(engine, name)
