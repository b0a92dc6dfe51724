"""Password expiry: Dovecot's expiry-aware query on request, the expiry shown only when it is
enforced, and a warning mail some days before, once per expiry."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from domains.models import Domain
from mailboxes.models import Mailbox, PasswordExpiryWarning
from mailserver.configs import Database, Options, dovecot_files
from tests.factories import make_domain, make_mailbox
from tests.support.mailtools import closed_port

PG = Database(driver="pgsql", host="db.internal", port=5432, name="mail", user="dovecot")
MY = Database(driver="mysql", host="127.0.0.1", port=3306, name="mail", user="dovecot")
CLAUSE = "AND (m.password_expiry > {now} OR d.password_expiry = 0)"


def _password_query(database: Database, **options: object) -> str:
    text = dovecot_files(
        Options(database=database, config_dir="/etc/dovecot", **options)  # type: ignore[arg-type]
    )["dovecot-sql.conf.ext"]
    match = re.search(r"^password_query = (.*?)(?=^\S|\Z)", text, re.S | re.M)
    assert match, text
    return " ".join(match.group(1).replace("\\\n", " ").split())


@pytest.mark.parametrize(("database", "now"), [(PG, "now()"), (MY, "UTC_TIMESTAMP()")])
def test_the_expiry_clause_is_added_only_on_request(database: Database, now: str) -> None:
    assert "password_expiry" not in _password_query(database)
    query = _password_query(database, password_expiry=True)
    assert query.endswith(CLAUSE.format(now=now)), query
    # With a second factor the clause stays, before the TOTP conditions.
    both = _password_query(database, password_expiry=True, second_factor=True)
    assert CLAUSE.format(now=now) in both
    assert "totp_exception_address" in both


def test_mailconfig_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.conf import settings

    # A DATABASES entry the command can describe; nothing ever connects to it.
    monkeypatch.setitem(
        settings.DATABASES,
        "expirytest",
        {
            "ENGINE": "django.db.backends.mysql",
            "HOST": "127.0.0.1",
            "PORT": 3306,
            "NAME": "vimbadmin",
            "USER": "vimbadmin",
            "PASSWORD": "app-password",
        },
    )
    out = io.StringIO()
    call_command("mailconfig", "dovecot", "--password-expiry", database="expirytest", stdout=out)
    assert CLAUSE.format(now="UTC_TIMESTAMP()") in " ".join(out.getvalue().split())


@pytest.fixture
def expiring(db):
    domain = make_domain("expire.example")
    Domain.objects.filter(pk=domain.pk).update(password_expiry=90)
    domain.refresh_from_db()
    soon = make_mailbox(domain, "soon", email_other="soon@home.example")
    later = make_mailbox(domain, "later")
    never_domain = make_domain("never.example")  # password_expiry 0: never expires
    never = make_mailbox(never_domain, "never")
    now = timezone.now()
    Mailbox.objects.filter(pk=soon.pk).update(password_expiry=now + datetime.timedelta(days=5))
    Mailbox.objects.filter(pk=later.pk).update(password_expiry=now + datetime.timedelta(days=40))
    Mailbox.objects.filter(pk=never.pk).update(password_expiry=now + datetime.timedelta(days=2))
    return soon


def test_detail_page_shows_the_expiry_only_when_enforced(client_a, settings, expiring) -> None:
    from accounts.models import Admin
    from domains.models import DomainAdmin

    admin = Admin.objects.get(pk="admin@alpha.example")
    DomainAdmin.objects.create(username_id=admin.pk, domain_id="expire.example", active=True)
    DomainAdmin.objects.create(username_id=admin.pk, domain_id="never.example", active=True)
    url = "/mailboxes/soon@expire.example/"
    assert "Password expires" not in client_a.get(url).content.decode()
    settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED = True
    assert "Password expires" in client_a.get(url).content.decode()
    # A domain whose expiry is 0 days never expires, whatever the mailbox's timestamp says.
    assert (
        "Password expires" not in client_a.get("/mailboxes/never@never.example/").content.decode()
    )


def _warn(*args: str) -> str:
    out = io.StringIO()
    call_command("password_expiry_warn", *args, stdout=out)
    return out.getvalue()


def test_warning_mail_once_per_expiry(settings, expiring) -> None:
    assert "not enforced" in _warn()
    assert mail.outbox == []
    settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED = True
    settings.VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS = 14
    out = _warn()
    assert "warned soon@expire.example" in out
    assert "1 mailbox(es) warned." in out
    (warning,) = mail.outbox
    assert warning.to == ["soon@expire.example", "soon@home.example"]
    assert "expires soon" in warning.subject
    assert "in 4 days" in warning.body or "in 5 days" in warning.body
    assert "/me/" in warning.body
    # Idempotent: a second run sends nothing.
    assert "0 mailbox(es) warned." in _warn()
    assert len(mail.outbox) == 1
    # A further look ahead reaches the later one; a new password's expiry is warned again.
    assert "warned later@expire.example" in _warn("--days", "45")
    Mailbox.objects.filter(pk=expiring.pk).update(
        password_expiry=timezone.now() + datetime.timedelta(days=3)
    )
    assert "warned soon@expire.example" in _warn()
    assert PasswordExpiryWarning.objects.filter(username="soon@expire.example").count() == 2


def test_a_failed_mail_is_tried_again(settings, expiring) -> None:
    settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 5
    with pytest.raises(CommandError, match=r"soon@expire\.example"):
        _warn()
    assert not PasswordExpiryWarning.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert "warned soon@expire.example" in _warn()


def test_domain_form_sets_the_expiry_days_only_when_enforced(super_client, settings, domain_a):
    url = "/domains/alpha.example/edit/"
    assert 'name="password_expiry"' not in super_client.get(url).content.decode()
    settings.VIMBADMIN_PASSWORD_EXPIRY_ENFORCED = True
    assert 'name="password_expiry"' in super_client.get(url).content.decode()
    data = {
        "description": "",
        "aliases": "0",
        "mailboxes": "0",
        "maxquota": "0",
        "quota": "0",
        "default_mailbox_quota": "0",
        "transport": domain_a.transport,
        "active": "on",
        "password_expiry": "90",
    }
    response = super_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Domain.objects.get(pk="alpha.example").password_expiry == 90
    mailbox = make_mailbox(Domain.objects.get(pk="alpha.example"), "fresh")
    left = mailbox.password_expiry - timezone.now()
    assert datetime.timedelta(days=89) < left <= datetime.timedelta(days=90)
    assert (
        "Password expires" in super_client.get("/mailboxes/fresh@alpha.example/").content.decode()
    )
