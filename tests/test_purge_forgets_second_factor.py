"""A purged mailbox leaves no app password, exception or recovery code for its next owner.

Postfix Admin 4 keeps mailbox_app_password and totp_exception_address rows when it deletes a
mailbox; Dovecot would then accept the old app passwords for a mailbox created again at the same
address. Here a purge removes them, with the project's own second-factor rows.
"""

from __future__ import annotations

import pyotp

from domains.services import domain_purge
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_purge
from pfa.models import MailboxAppPassword, TotpExceptionAddress
from tests.factories import make_domain, make_mailbox, owner_client_for
from tests.support.totp import fresh_period, rfc6238
from twofactor.models import AppPasswordInfo, LastCodeStep, RecoveryCode, TwoFactorDomain
from twofactor.services import app_password_create, totp_enrol, totp_exception_add


def give_second_factor(mailbox: Mailbox, superadmin) -> None:
    """An app password, a recovery-code set, an exception for the mailbox and one for its domain."""
    app_password_create(actor=mailbox, mailbox=mailbox, description="phone")
    secret = pyotp.random_base32()
    totp_enrol(actor=mailbox, account=mailbox, secret=secret, code=rfc6238(secret, fresh_period()))
    totp_exception_add(
        actor=superadmin, ip="192.0.2.7", username=mailbox.username, description="office"
    )


def rows_of(username: str) -> dict[str, int]:
    return {
        "app passwords": MailboxAppPassword.objects.filter(username=username).count(),
        "app password dates": AppPasswordInfo.objects.filter(username=username).count(),
        "exceptions": TotpExceptionAddress.objects.filter(username=username).count(),
        "recovery codes": RecoveryCode.objects.filter(username=username).count(),
        "last code steps": LastCodeStep.objects.filter(username=username).count(),
    }


NONE = {
    "app passwords": 0,
    "app password dates": 0,
    "exceptions": 0,
    "recovery codes": 0,
    "last code steps": 0,
}


def test_a_mailbox_created_again_after_a_purge_starts_without_them(superadmin, domain_a):
    old = make_mailbox(domain_a, "anna")
    other = make_mailbox(domain_a, "bruno")
    give_second_factor(old, superadmin)
    give_second_factor(other, superadmin)
    assert rows_of(old.username) != NONE

    mailbox_purge(actor=superadmin, mailbox=old)

    assert rows_of(old.username) == NONE
    assert rows_of(other.username)["app passwords"] == 1, "another mailbox keeps its own"
    again = make_mailbox(domain_a, "anna")
    page = owner_client_for(again).get("/me/app-passwords/").content.decode()
    assert "phone" not in page


def test_a_purged_domain_takes_its_exceptions_and_policy_place_along(superadmin):
    domain = make_domain("lab.home.arpa")
    mailbox = make_mailbox(domain, "pi")
    give_second_factor(mailbox, superadmin)
    totp_exception_add(actor=superadmin, ip="10.0.0.0/8", username=domain.domain, description="lab")
    TwoFactorDomain.objects.create(domain=domain.domain)
    kept = make_domain("bücher.example")
    totp_exception_add(actor=superadmin, ip="10.0.0.0/8", username=kept.domain, description="shop")

    domain_purge(actor=superadmin, domain=domain)

    assert rows_of(mailbox.username) == NONE
    assert not TotpExceptionAddress.objects.filter(username=domain.domain).exists()
    assert not TwoFactorDomain.objects.filter(domain=domain.domain).exists()
    assert TotpExceptionAddress.objects.filter(username=kept.domain).count() == 1
