"""The second-factor policy: set by super admins; enrolment forced right after the password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.db import connection
from django.test import Client

from pfa.models import Log
from pfa.schema import forget_columns
from tests.factories import PASSWORD, make_mailbox
from twofactor.models import TwoFactorDomain, TwoFactorPolicy

POLICY = "/2fa/policy/"
ENROL = "/2fa/enrol/"


def rfc6238(secret: str, at: float, *, offset: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30) + offset), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start : start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def fresh_period() -> float:
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()


def shown_secret(html: str) -> str:
    match = re.search(r'<code class="totp-secret" data-secret>([A-Z2-7 ]+)</code>', html)
    assert match
    return match.group(1).replace(" ", "")


def test_super_admin_sets_the_policy_and_it_is_logged(super_client, domain_a, domain_b):
    response = super_client.post(
        POLICY, {"superadmins": "on", "domains": "alpha.example\nBETA.example"}
    )
    assert response.status_code == 302
    policy = TwoFactorPolicy.objects.get()
    assert (policy.superadmins, policy.domain_admins) == (True, False)
    assert sorted(TwoFactorDomain.objects.values_list("domain", flat=True)) == [
        "alpha.example",
        "beta.example",
    ]
    assert Log.objects.filter(action="edit_domain", domain="alpha.example").exists()
    assert Log.objects.filter(action="edit_admin", data__contains="super admins must").exists()
    page = super_client.get(POLICY).content.decode()
    assert "alpha.example\nbeta.example" in page


def test_unknown_domains_are_a_field_error(super_client, domain_a):
    response = super_client.post(POLICY, {"domains": "alpha.example\nnowhere.example"})
    assert response.status_code == 200
    assert "No such domain: nowhere.example" in response.content.decode()
    assert not TwoFactorDomain.objects.exists()


def test_domain_admins_cannot_reach_the_policy(client_a):
    assert client_a.get(POLICY).status_code == 404
    assert client_a.post(POLICY, {"domain_admins": "on"}).status_code == 404
    assert not TwoFactorPolicy.objects.exists()


def test_policy_forces_enrolment_right_after_the_password(admin_a, superadmin):
    TwoFactorPolicy.objects.create(domain_admins=True)
    client = Client()
    response = client.post("/accounts/login/", {"username": admin_a.pk, "password": PASSWORD})
    assert response["Location"] == ENROL
    # Nothing else opens until it is done.
    assert client.session.get("_auth_user_id") is None
    assert client.get("/domains/")["Location"].startswith("/accounts/login/")
    page = client.get(ENROL).content.decode()
    secret = shown_secret(page)
    wrong = client.post(ENROL, {"code": "000000"})
    assert "The code is not correct" in wrong.content.decode()
    assert client.session.get("_auth_user_id") is None
    now = fresh_period()
    done = client.post(ENROL, {"code": rfc6238(secret, now, offset=-1)})
    assert done.status_code == 200
    assert len(re.findall(r"<li>[a-z2-9-]{19}</li>", done.content.decode())) == 10
    assert client.session.get("_auth_user_id") == admin_a.pk
    assert client.get("/domains/").status_code == 200
    # From now on the login asks for the code.
    again = Client()
    response = again.post("/accounts/login/", {"username": admin_a.pk, "password": PASSWORD})
    assert response["Location"] == "/2fa/code/"
    # Super admins are not covered by the domain-admin rule.
    root = Client()
    root.post("/accounts/login/", {"username": superadmin.pk, "password": PASSWORD})
    assert root.session.get("_auth_user_id") == superadmin.pk


@pytest.mark.parametrize("listed", [True, False])
def test_owner_policy_follows_the_chosen_domains(domain_a, listed):
    if listed:
        TwoFactorDomain.objects.create(domain="alpha.example")
    else:
        TwoFactorDomain.objects.create(domain="beta.example")
    mailbox = make_mailbox(domain_a, "owner")
    client = Client()
    response = client.post("/me/login/", {"address": mailbox.pk, "password": PASSWORD})
    if listed:
        assert response["Location"] == ENROL
        assert client.session.get("vimb_mailbox") is None
        assert "self-service" in client.get(ENROL).content.decode()
    else:
        assert response["Location"] == "/me/"
        assert client.session.get("vimb_mailbox") == mailbox.pk


@pytest.mark.skipif(
    "connection.vendor == 'mysql'",
    reason="MySQL commits DDL at once; dropping a column would outlive the test's transaction.",
)
def test_a_postfix_admin_3_database_keeps_password_logins_and_says_why(admin_a):
    """Postfix Admin 3.3 has no admin.totp_secret: no second factor, even under a policy."""
    TwoFactorPolicy.objects.create(domain_admins=True)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE admin DROP COLUMN totp_secret")
    forget_columns()
    client = Client()
    response = client.post("/accounts/login/", {"username": admin_a.pk, "password": PASSWORD})
    assert response["Location"] == "/domains/"
    assert client.session.get("_auth_user_id") == admin_a.pk
    page = client.get("/2fa/").content.decode()
    assert "needs Postfix Admin 4" in page
    assert 'name="code"' not in page
