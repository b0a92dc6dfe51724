"""The second-factor policy: set by super admins; enrolment forced right after the password."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pfa.models import Log
from pfa.schema import forget_columns
from tests.factories import PASSWORD, make_admin, make_domain, make_mailbox, owner_client_for
from tests.support.totp import fresh_period, rfc6238
from twofactor.models import TwoFactorDomain, TwoFactorPolicy

POLICY = "/2fa/policy/"
ENROL = "/2fa/enrol/"


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
    # The super admin has no second factor: the policy applies from the very next page.
    assert super_client.get(POLICY)["Location"] == ENROL + "?next=%2F2fa%2Fpolicy%2F"


def test_the_policy_page_shows_the_chosen_domains(super_client, domain_a, domain_b):
    super_client.post(POLICY, {"domains": "alpha.example\nBETA.example"})
    page = super_client.get(POLICY).content.decode()
    assert "alpha.example\nbeta.example" in page


def test_the_policy_page_shows_domains_by_their_unicode_name(super_client, domain_a):
    make_domain("zeta.example")
    make_domain("bücher.example")
    super_client.post(POLICY, {"domains": "zeta.example\nxn--bcher-kva.example\nalpha.example"})
    page = super_client.get(POLICY).content.decode()
    assert "alpha.example\nbücher.example\nzeta.example" in page
    # Sent back unchanged, the Unicode name keeps the same domain.
    super_client.post(POLICY, {"domains": "alpha.example\nbücher.example\nzeta.example"})
    stored = sorted(TwoFactorDomain.objects.values_list("domain", flat=True))
    assert stored == ["alpha.example", "xn--bcher-kva.example", "zeta.example"]


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


# --- A change reaches open sessions -----------------------------------------------------------


def logged_in_admin(admin) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": admin.pk, "password": PASSWORD})
    assert response["Location"] == "/domains/"
    return client


def enrol(client: Client) -> list[str]:
    """Enrol on the forced enrolment page; return the recovery codes shown."""
    secret = shown_secret(client.get(ENROL).content.decode())
    done = client.post(ENROL, {"code": rfc6238(secret, fresh_period())})
    assert done.status_code == 200
    return re.findall(r"<li>([a-z2-9-]{19})</li>", done.content.decode())


def set_secret(username: str, secret: str | None = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE admin SET totp_secret = %s WHERE username = %s", [secret, username])


def test_a_new_policy_takes_a_logged_in_domain_admin_to_enrolment(super_client, admin_a):
    client = logged_in_admin(admin_a)
    assert client.get("/domains/").status_code == 200

    super_client.post(POLICY, {"domain_admins": "on"})

    response = client.get("/domains/?q=x")
    assert response["Location"] == ENROL + "?next=%2Fdomains%2F%3Fq%3Dx"
    # The session no longer opens any page; only the enrolment finishes the login again.
    assert client.session.get("_auth_user_id") is None
    assert client.get("/domains/")["Location"].startswith("/accounts/login/")
    page = client.get(ENROL).content.decode()
    assert "A second factor is now required for your account" in page
    enrol(client)
    assert client.session.get("_auth_user_id") == admin_a.pk
    assert client.get("/domains/").status_code == 200


def test_users_the_change_does_not_cover_stay_logged_in(super_client, domain_a, domain_b):
    with_factor = make_admin("second@alpha.example", domains=[domain_a])
    set_secret(with_factor.pk)
    admin_b = make_admin("admin@beta.example", domains=[domain_b])
    client_b = logged_in_admin(admin_b)
    factor_client = Client()
    factor_client.force_login(with_factor)

    super_client.post(POLICY, {"domains": "alpha.example"})  # owners only

    assert client_b.get("/domains/").status_code == 200
    assert factor_client.get("/domains/").status_code == 200
    super_client.post(POLICY, {"domain_admins": "on"})
    # An admin with a second factor already meets the policy.
    assert factor_client.get("/domains/").status_code == 200
    assert client_b.get("/domains/")["Location"].startswith(ENROL)


@pytest.mark.parametrize("listed", [True, False])
def test_a_domain_added_to_the_policy_takes_its_owners_to_enrolment(super_client, domain_a, listed):
    mailbox = make_mailbox(domain_a, "owner")
    owner = owner_client_for(mailbox)
    assert owner.get("/me/").status_code == 200

    super_client.post(POLICY, {"domains": "alpha.example" if listed else ""})

    response = owner.get("/me/")
    if listed:
        assert response["Location"] == ENROL + "?next=%2Fme%2F"
        assert owner.session.get("vimb_mailbox") is None
        enrol(owner)
        assert owner.session.get("vimb_mailbox") == mailbox.pk
        assert owner.get("/me/").status_code == 200
    else:
        assert response.status_code == 200


def test_removing_ones_own_factor_under_the_policy_leads_back_to_enrolment(super_client, admin_a):
    super_client.post(POLICY, {"domain_admins": "on"})
    client = Client()
    client.post("/accounts/login/", {"username": admin_a.pk, "password": PASSWORD})
    recovery = enrol(client)
    assert client.get("/2fa/").status_code == 200
    removed = client.post("/2fa/", {"action": "disable", "password": PASSWORD, "code": recovery[0]})
    assert removed.status_code == 302
    assert client.get("/domains/")["Location"] == ENROL + "?next=%2Fdomains%2F"


def test_an_unchanged_policy_costs_no_query_per_request(super_client, admin_a):
    client = logged_in_admin(admin_a)
    super_client.post(POLICY, {"superadmins": ""})  # a new version, which covers nobody

    def policy_queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/domains/").status_code == 200
        return [
            q["sql"]
            for q in ctx.captured_queries
            if "vimbadmin_twofactor" in q["sql"] or "totp_secret" in q["sql"]
        ]

    # The first request after the change checks the login once (the secret, then the policy)...
    assert policy_queries()
    # ...and records the version: the next requests read it from the cache only.
    assert policy_queries() == []
    assert policy_queries() == []
