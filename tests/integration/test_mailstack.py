"""What Postfix and Dovecot do with rows the services write: delivery, logins, (de)activation.

Each test makes its own domains (unique names), so tests never depend on each other's rows.
Refusals are checked where a sender sees them: at RCPT TO, with a 5xx code.
"""

from __future__ import annotations

import secrets
import smtplib
import subprocess

import bcrypt
import pytest
from django.db import connection
from django.test import Client

from accounts.models import Admin
from aliases.services import alias_create, alias_set_active
from domains.models import Domain
from domains.services import (
    alias_domain_create,
    alias_domain_set_active,
    domain_create,
    domain_set_active,
)
from mail.passwords import WRITABLE_SCHEMES
from mail.quota import MAX_QUOTA_BYTES, parse_quota
from mailboxes.models import Mailbox
from mailboxes.services import (
    mailbox_create,
    mailbox_purge,
    mailbox_set_active,
    mailbox_set_password,
)
from tests.support.mailstack import MailStack

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]

MB = 1024 * 1024


def new_password() -> str:
    return secrets.token_urlsafe(15)


def make_domain(actor: Admin) -> Domain:
    return domain_create(
        actor=actor,
        domain=f"d{secrets.token_hex(5)}.example",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=False,
    )


def make_mailbox(
    actor: Admin, domain: Domain, local_part: str = "alice", quota_bytes: int = 0
) -> tuple[Mailbox, str]:
    password = new_password()
    mailbox = mailbox_create(
        actor=actor,
        domain=domain,
        local_part=local_part,
        password=password,
        quota_bytes=quota_bytes,
    )
    return mailbox, password


def assert_refused(stack: MailStack, recipient: str) -> None:
    """The recipient is refused at RCPT with a permanent (5xx) error."""
    with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        stack.send([recipient])
    code = excinfo.value.recipients[recipient][0]
    assert 500 <= code < 600, excinfo.value.recipients


def assert_delivered(stack: MailStack, recipient: str, mailbox: Mailbox, password: str) -> None:
    subject = stack.send([recipient])
    assert stack.wait_for(mailbox.username, password, subject), (
        f"{recipient} -> {mailbox.username}: {subject} not in INBOX"
    )


# -- delivery -------------------------------------------------------------------------------


def test_new_mailbox_receives_mail_in_imap_inbox(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)

    subject = stack.send([mailbox.username])

    assert stack.wait_for(mailbox.username, password, subject)
    # Dovecot stored it where the mailbox row says: mail root + maildir.
    maildir = stack.mail_root / mailbox.maildir
    assert any(any((maildir / sub).iterdir()) for sub in ("new", "cur"))


def test_unknown_recipient_is_refused_at_rcpt(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    make_mailbox(actor, domain)

    assert_refused(stack, f"nobody-here@{domain.domain}")
    assert stack.rcpt_code(f"nobody-here@{domain.domain}") == 550


def test_alias_with_two_destinations_delivers_to_both(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    alice, alice_pw = make_mailbox(actor, domain, "alice")
    bob, bob_pw = make_mailbox(actor, domain, "bob")
    alias_create(
        actor=actor, domain=domain, local_part="team", targets=[alice.username, bob.username]
    )

    subject = stack.send([f"team@{domain.domain}"])

    assert stack.wait_for(alice.username, alice_pw, subject)
    assert stack.wait_for(bob.username, bob_pw, subject)


def test_catchall_takes_unknown_addresses_but_not_mailboxes(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    catcher, catcher_pw = make_mailbox(actor, domain, "catcher")
    other, other_pw = make_mailbox(actor, domain, "other")
    alias_create(actor=actor, domain=domain, local_part="", targets=[catcher.username])

    to_unknown = stack.send([f"anything-{secrets.token_hex(3)}@{domain.domain}"])
    to_other = stack.send([other.username])

    assert stack.wait_for(catcher.username, catcher_pw, to_unknown)
    assert stack.wait_for(other.username, other_pw, to_other)
    # The mailbox's own alias row keeps the catch-all from swallowing its mail.
    assert to_other not in stack.inbox_subjects(catcher.username, catcher_pw)


def test_alias_domain_delivers_to_mailboxes_and_catchall_of_target(
    stack: MailStack, actor: Admin
) -> None:
    target = make_domain(actor)
    alias_dom = make_domain(actor)
    alice, alice_pw = make_mailbox(actor, target, "alice")
    catcher, catcher_pw = make_mailbox(actor, target, "catcher")
    alias_create(actor=actor, domain=target, local_part="", targets=[catcher.username])
    alias_domain_create(actor=actor, alias_domain=alias_dom, target_domain=target)

    to_alice = stack.send([f"alice@{alias_dom.domain}"])
    to_unknown = stack.send([f"whoever@{alias_dom.domain}"])

    assert stack.wait_for(alice.username, alice_pw, to_alice)
    assert stack.wait_for(catcher.username, catcher_pw, to_unknown)
    assert to_alice not in stack.inbox_subjects(catcher.username, catcher_pw)


# -- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", WRITABLE_SCHEMES)
def test_imap_login_with_each_writable_scheme(
    stack: MailStack, actor: Admin, settings: object, scheme: str
) -> None:
    settings.VIMBADMIN_PASSWORD_SCHEME = scheme  # type: ignore[attr-defined]
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)
    assert mailbox.password.startswith(f"{{{scheme}}}")

    assert stack.can_login(mailbox.username, password)
    assert not stack.can_login(mailbox.username, password + "x")


def test_password_change_takes_effect_at_once(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    mailbox, old = make_mailbox(actor, domain)
    assert stack.can_login(mailbox.username, old)

    new = new_password()
    mailbox_set_password(actor=actor, mailbox=mailbox, password=new)

    assert stack.can_login(mailbox.username, new)
    assert not stack.can_login(mailbox.username, old)


def _openssl_passwd(flag: str, password: str) -> str:
    # The password goes through stdin, never the command line.
    result = subprocess.run(
        ["openssl", "passwd", flag, "-stdin"],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


LEGACY_HASHERS = {
    "md5crypt $1$": lambda pw: _openssl_passwd("-1", pw),
    "sha256crypt $5$": lambda pw: _openssl_passwd("-5", pw),
    "sha512crypt $6$": lambda pw: _openssl_passwd("-6", pw),
    "bcrypt $2y$": lambda pw: (
        bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=5)).decode().replace("$2b$", "$2y$", 1)
    ),
}


@pytest.mark.parametrize("kind", LEGACY_HASHERS)
def test_unprefixed_legacy_crypt_hash_logs_in(stack: MailStack, actor: Admin, kind: str) -> None:
    """Postfix Admin 3.3 stored crypt() hashes without a {SCHEME} prefix."""
    domain = make_domain(actor)
    mailbox, _ = make_mailbox(actor, domain)
    password = new_password()
    legacy = LEGACY_HASHERS[kind](password)
    assert legacy.startswith(kind.split()[1])
    Mailbox.objects.filter(pk=mailbox.pk).update(password=legacy)

    assert stack.can_login(mailbox.username, password)
    assert not stack.can_login(mailbox.username, password + "x")


# Encrypt values whose format a login here writes over the {ARGON2ID} of a mailbox made before
# the setting, and how the stored value then starts.
PFA_REHASHED = {
    "md5crypt": "$1$",
    "php_crypt:SHA512": "$6$",
    "php_crypt:BLOWFISH": "$2y$10$",
    "php_crypt:SHA512:10000:{SHA512-CRYPT}": "{SHA512-CRYPT}$6$rounds=10000$",
    "sha512.b64": "{SHA512-CRYPT.B64}",
}


@pytest.mark.parametrize(("value", "start"), PFA_REHASHED.items())
def test_mailbox_rehashed_for_postfix_admin_still_logs_in_over_imap(
    stack: MailStack, actor: Admin, settings: object, value: str, start: str
) -> None:
    """A login here re-hashes for Postfix Admin (VIMBADMIN_PFA_ENCRYPT); Dovecot still reads it."""
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)
    assert mailbox.password.startswith("{ARGON2ID}")
    settings.VIMBADMIN_PFA_ENCRYPT = value  # type: ignore[attr-defined]

    response = Client().post("/me/login/", {"address": mailbox.username, "password": password})

    assert response.status_code == 302
    stored = Mailbox.objects.get(pk=mailbox.pk).password
    assert stored.startswith(start), stored
    assert stack.can_login(mailbox.username, password)
    assert not stack.can_login(mailbox.username, password + "x")


def test_password_set_for_postfix_admin_logs_in_over_imap(
    stack: MailStack, actor: Admin, settings: object
) -> None:
    settings.VIMBADMIN_PFA_ENCRYPT = "dovecot:MD5-CRYPT"  # type: ignore[attr-defined]
    domain = make_domain(actor)
    mailbox, _ = make_mailbox(actor, domain)
    password = new_password()
    mailbox_set_password(actor=actor, mailbox=mailbox, password=password)
    assert Mailbox.objects.get(pk=mailbox.pk).password.startswith("{MD5-CRYPT}$1$")
    assert stack.can_login(mailbox.username, password)


# -- (de)activation and purge ---------------------------------------------------------------


def test_deactivated_mailbox_stops_receiving_and_login_until_reactivated(
    stack: MailStack, actor: Admin
) -> None:
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)

    mailbox_set_active(actor=actor, mailbox=mailbox, active=False)
    assert_refused(stack, mailbox.username)
    assert not stack.can_login(mailbox.username, password)

    mailbox_set_active(actor=actor, mailbox=mailbox, active=True)
    assert stack.can_login(mailbox.username, password)
    assert_delivered(stack, mailbox.username, mailbox, password)


def test_deactivated_alias_stops_receiving_until_reactivated(
    stack: MailStack, actor: Admin
) -> None:
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)
    alias = alias_create(actor=actor, domain=domain, local_part="info", targets=[mailbox.username])

    alias_set_active(actor=actor, alias=alias, active=False)
    assert_refused(stack, alias.address)

    alias_set_active(actor=actor, alias=alias, active=True)
    assert_delivered(stack, alias.address, mailbox, password)


def test_deactivated_alias_domain_stops_receiving_until_reactivated(
    stack: MailStack, actor: Admin
) -> None:
    target = make_domain(actor)
    alias_dom = make_domain(actor)
    mailbox, password = make_mailbox(actor, target)
    alias_create(actor=actor, domain=target, local_part="", targets=[mailbox.username])
    link = alias_domain_create(actor=actor, alias_domain=alias_dom, target_domain=target)

    alias_domain_set_active(actor=actor, alias_domain=link, active=False)
    assert_refused(stack, f"alice@{alias_dom.domain}")
    assert_refused(stack, f"unknown@{alias_dom.domain}")
    # The target domain itself is unaffected.
    assert_delivered(stack, mailbox.username, mailbox, password)

    alias_domain_set_active(actor=actor, alias_domain=link, active=True)
    assert_delivered(stack, f"alice@{alias_dom.domain}", mailbox, password)


def test_deactivated_target_domain_stops_its_alias_domain(stack: MailStack, actor: Admin) -> None:
    target = make_domain(actor)
    alias_dom = make_domain(actor)
    mailbox, password = make_mailbox(actor, target)
    alias_domain_create(actor=actor, alias_domain=alias_dom, target_domain=target)

    domain_set_active(actor=actor, domain=target, active=False)
    assert_refused(stack, f"alice@{alias_dom.domain}")

    domain_set_active(actor=actor, domain=target, active=True)
    assert_delivered(stack, f"alice@{alias_dom.domain}", mailbox, password)


def test_deactivated_domain_stops_receiving_and_login_until_reactivated(
    stack: MailStack, actor: Admin
) -> None:
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)
    alias = alias_create(actor=actor, domain=domain, local_part="info", targets=[mailbox.username])

    domain_set_active(actor=actor, domain=domain, active=False)
    assert_refused(stack, mailbox.username)
    assert_refused(stack, alias.address)
    assert not stack.can_login(mailbox.username, password)

    domain_set_active(actor=actor, domain=domain, active=True)
    assert stack.can_login(mailbox.username, password)
    assert_delivered(stack, alias.address, mailbox, password)


def test_purged_mailbox_is_unknown(stack: MailStack, actor: Admin) -> None:
    domain = make_domain(actor)
    mailbox, password = make_mailbox(actor, domain)
    assert stack.can_login(mailbox.username, password)

    mailbox_purge(actor=actor, mailbox=mailbox)

    assert_refused(stack, mailbox.username)
    assert stack.rcpt_code(mailbox.username) == 550
    assert not stack.can_login(mailbox.username, password)


# -- quota ----------------------------------------------------------------------------------


def _quota_storage(stack: MailStack, username: str, password: str) -> list[int]:
    """Return IMAP GETQUOTAROOT's STORAGE usage and limit (KiB), or [] when unlimited."""
    import imaplib

    with imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=30) as imap:
        imap.login(username, password)
        _, data = imap.getquotaroot("INBOX")
        imap.logout()
    quota_lines = [item.decode() for item in data[1] if item]
    for line in quota_lines:
        if "STORAGE" in line:
            numbers = line.split("STORAGE", 1)[1].strip(" ()").split()
            return [int(n) for n in numbers]
    return []


def test_mailbox_quota_reaches_dovecot_and_usage_lands_in_quota2(
    stack: MailStack, actor: Admin
) -> None:
    domain = make_domain(actor)
    limited, limited_pw = make_mailbox(actor, domain, "limited", quota_bytes=5 * MB)
    unlimited, unlimited_pw = make_mailbox(actor, domain, "unlimited", quota_bytes=0)

    for mailbox, password in ((limited, limited_pw), (unlimited, unlimited_pw)):
        subject = stack.send([mailbox.username])
        assert stack.wait_for(mailbox.username, password, subject)

    usage, limit = _quota_storage(stack, limited.username, limited_pw)
    assert limit == 5 * MB // 1024
    assert usage > 0
    assert _quota_storage(stack, unlimited.username, unlimited_pw) == []
    # Dovecot's quota dict keeps quota2 current, with or without a limit.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT username, bytes, messages FROM quota2 WHERE username IN (%s, %s)",
            [limited.username, unlimited.username],
        )
        rows = {username: (size, count) for username, size, count in cursor.fetchall()}
    for mailbox in (limited, unlimited):
        size, count = rows[mailbox.username]
        assert size > 0, mailbox.username
        assert count == 1, (mailbox.username, count)


def test_the_largest_quota_the_forms_accept_is_read_by_dovecot(
    stack: MailStack, actor: Admin
) -> None:
    # mail.quota bounds a quota by mailbox.quota's BIGINT: Dovecot must take that too.
    domain = make_domain(actor)
    mailbox, password = make_mailbox(
        actor, domain, "vast", quota_bytes=parse_quota(f"{MAX_QUOTA_BYTES}B")
    )
    subject = stack.send([mailbox.username])
    assert stack.wait_for(mailbox.username, password, subject)
    usage, limit = _quota_storage(stack, mailbox.username, password)
    # IMAP counts KiB, rounded up.
    assert limit == -(-MAX_QUOTA_BYTES // 1024)
    assert usage > 0
