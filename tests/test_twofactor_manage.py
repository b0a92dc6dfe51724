"""Setting up, using and removing a second factor; recovery codes; a super admin's reset."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import AuthEvent
from pfa.models import Log
from tests.factories import PASSWORD, make_mailbox
from twofactor.models import RecoveryCode

ADMIN_LOGIN = "/accounts/login/"
OWNER_LOGIN = "/me/login/"
CODE_URL = "/2fa/code/"
ADMIN_PAGE = "/2fa/"
OWNER_PAGE = "/me/two-factor/"


def rfc6238(secret: str, at: float, *, offset: int = 0) -> str:
    """Return the 6-digit TOTP code with Postfix Admin's parameters (SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30) + offset), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start : start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def fresh_period() -> float:
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()


def stored_secret(table: str, username: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT totp_secret FROM {table} WHERE username = %s", [username])
        return cursor.fetchone()[0]


def shown_secret(html: str) -> str:
    match = re.search(r'<code class="totp-secret" data-secret>([A-Z2-7 ]+)</code>', html)
    assert match, "the secret is shown as text"
    return match.group(1).replace(" ", "")


def shown_codes(html: str) -> list[str]:
    return re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", html)


def enrol(client: Client, page: str) -> tuple[str, list[str]]:
    html = client.get(page).content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = shown_secret(html)
    # Using the code of the previous period leaves the current one free for the next login.
    now = fresh_period()
    response = client.post(page, {"action": "enrol", "code": rfc6238(secret, now, offset=-1)})
    assert response.status_code == 200
    codes = shown_codes(response.content.decode())
    return secret, codes


def log_in_admin(address: str, code: str) -> Client:
    client = Client()
    response = client.post(ADMIN_LOGIN, {"username": address, "password": PASSWORD})
    assert response["Location"] == CODE_URL
    client.post(CODE_URL, {"code": code})
    return client


def test_admin_enrols_and_the_secret_is_stored_as_postfix_admin_stores_it(client_a, admin_a):
    secret, codes = enrol(client_a, ADMIN_PAGE)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = stored_secret("admin", admin_a.pk)
    # Plain, unpadded, upper-case Base32, as otphp writes it; 160 bits.
    assert stored == secret
    assert re.fullmatch(r"[A-Z2-7]{32}", stored)
    # Recovery codes are kept hashed only.
    hashes = RecoveryCode.objects.filter(username=admin_a.pk).values_list("code_hash", flat=True)
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    assert Log.objects.filter(action="edit_admin", data=f"{admin_a.pk}: second factor set up")
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.TOTP_ENROLLED, username=admin_a.pk)
    # A code from Postfix Admin's parameters, computed independently, logs in.
    now = fresh_period()
    client = log_in_admin(admin_a.pk, rfc6238(stored, now))
    assert client.session.get("_auth_user_id") == admin_a.pk


def test_the_enrolment_code_cannot_log_in_again(client_a, admin_a):
    html = client_a.get(ADMIN_PAGE).content.decode()
    secret = shown_secret(html)
    now = fresh_period()
    code = rfc6238(secret, now)
    client_a.post(ADMIN_PAGE, {"action": "enrol", "code": code})
    client = log_in_admin(admin_a.pk, code)
    assert client.session.get("_auth_user_id") is None


def test_a_wrong_enrolment_code_stores_nothing(client_a, admin_a):
    client_a.get(ADMIN_PAGE)
    response = client_a.post(ADMIN_PAGE, {"action": "enrol", "code": "12345"})
    assert response.status_code == 200
    assert stored_secret("admin", admin_a.pk) is None
    response = client_a.post(ADMIN_PAGE, {"action": "enrol", "code": "000000"})
    assert "The code is not correct" in response.content.decode()
    assert stored_secret("admin", admin_a.pk) is None
    assert not RecoveryCode.objects.exists()


def test_a_recovery_code_logs_in_once(client_a, admin_a):
    _secret, codes = enrol(client_a, ADMIN_PAGE)
    client = log_in_admin(admin_a.pk, codes[0].upper())
    assert client.session.get("_auth_user_id") == admin_a.pk
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.RECOVERY_USED, username=admin_a.pk)
    again = log_in_admin(admin_a.pk, codes[0])
    assert again.session.get("_auth_user_id") is None
    page = client.get(ADMIN_PAGE).content.decode()
    assert "9 recovery codes left." in page


def test_new_recovery_codes_replace_the_old_ones(client_a, admin_a):
    _secret, old = enrol(client_a, ADMIN_PAGE)
    response = client_a.post(ADMIN_PAGE, {"action": "renew"})
    new = shown_codes(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert log_in_admin(admin_a.pk, old[1]).session.get("_auth_user_id") is None
    assert log_in_admin(admin_a.pk, new[1]).session.get("_auth_user_id") == admin_a.pk


def test_removal_needs_the_password_and_a_code(client_a, admin_a):
    secret, _codes = enrol(client_a, ADMIN_PAGE)
    now = fresh_period()
    refused = client_a.post(
        ADMIN_PAGE, {"action": "disable", "password": "wrong", "code": rfc6238(secret, now)}
    )
    assert "Your current password is wrong." in refused.content.decode()
    refused = client_a.post(ADMIN_PAGE, {"action": "disable", "password": PASSWORD, "code": "1"})
    assert "The code is not correct." in refused.content.decode()
    assert stored_secret("admin", admin_a.pk) == secret
    response = client_a.post(
        ADMIN_PAGE, {"action": "disable", "password": PASSWORD, "code": rfc6238(secret, now)}
    )
    assert response.status_code == 302
    assert stored_secret("admin", admin_a.pk) is None
    assert not RecoveryCode.objects.filter(username=admin_a.pk).exists()
    assert Log.objects.filter(action="edit_admin", data=f"{admin_a.pk}: second factor removed")
    client = Client()
    client.post(ADMIN_LOGIN, {"username": admin_a.pk, "password": PASSWORD})
    assert client.session.get("_auth_user_id") == admin_a.pk


def test_owner_enrols_on_the_owner_page(domain_a):
    mailbox = make_mailbox(domain_a, "owner")
    client = Client()
    client.post(OWNER_LOGIN, {"address": mailbox.pk, "password": PASSWORD})
    secret, codes = enrol(client, OWNER_PAGE)
    assert len(codes) == 10
    assert stored_secret("mailbox", mailbox.pk) == secret
    assert Log.objects.filter(
        action="edit_mailbox", domain="alpha.example", username__startswith=mailbox.pk
    )
    other = Client()
    assert other.post(OWNER_LOGIN, {"address": mailbox.pk, "password": PASSWORD})["Location"] == (
        CODE_URL
    )
    now = fresh_period()
    other.post(CODE_URL, {"code": rfc6238(secret, now)})
    assert other.session.get("vimb_mailbox") == mailbox.pk


# --------------------------------------------------------------------------------------------
# A super admin's reset


@pytest.fixture
def protected_mailbox(domain_a):
    mailbox = make_mailbox(domain_a, "owner")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mailbox SET totp_secret = %s WHERE username = %s",
            ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", mailbox.pk],
        )
    return mailbox


def test_super_admin_resets_a_mailbox_factor_logged_and_mailed(
    super_client, protected_mailbox, django_capture_on_commit_callbacks
):
    detail = super_client.get(f"/mailboxes/{protected_mailbox.pk}/").content.decode()
    assert "Reset the second factor" in detail
    url = f"/2fa/reset/mailbox/{protected_mailbox.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = super_client.post(url, {"next": f"/mailboxes/{protected_mailbox.pk}/"})
    assert response["Location"] == f"/mailboxes/{protected_mailbox.pk}/"
    assert stored_secret("mailbox", protected_mailbox.pk) is None
    assert Log.objects.filter(
        action="edit_mailbox", data=f"{protected_mailbox.pk}: second factor reset"
    )
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.TOTP_RESET)
    (message,) = mail.outbox
    assert message.to == [protected_mailbox.pk]
    assert "root@admins.example" in message.body


def test_domain_admins_cannot_reset_or_see_the_button(client_a, client_b, protected_mailbox):
    url = f"/2fa/reset/mailbox/{protected_mailbox.pk}/"
    assert client_a.post(url).status_code == 404
    assert client_b.post(url).status_code == 404
    detail = client_a.get(f"/mailboxes/{protected_mailbox.pk}/").content.decode()
    assert "Second factor on" in detail
    assert "Reset the second factor" not in detail
    assert stored_secret("mailbox", protected_mailbox.pk) is not None
    assert not mail.outbox


def test_super_admin_resets_an_admin_but_not_themselves(super_client, superadmin, admin_a):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE admin SET totp_secret = %s WHERE username IN (%s, %s)",
            ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", admin_a.pk, superadmin.pk],
        )
    assert (
        "Reset the second factor"
        in super_client.get(f"/accounts/admins/{admin_a.pk}/").content.decode()
    )
    super_client.post(f"/2fa/reset/admin/{admin_a.pk}/")
    assert stored_secret("admin", admin_a.pk) is None
    super_client.post(f"/2fa/reset/admin/{superadmin.pk}/")
    assert stored_secret("admin", superadmin.pk) is not None


def test_reset_of_an_unknown_account_is_404(super_client, db):
    assert super_client.post("/2fa/reset/mailbox/nobody@alpha.example/").status_code == 404
