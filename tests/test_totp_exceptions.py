"""TOTP exception addresses with Postfix Admin 4's semantics, managed within each role's scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from pfa.models import Log, TotpExceptionAddress
from tests.factories import PASSWORD, make_mailbox
from twofactor.services import totp_exception_add

ADMIN_PAGE = "/2fa/exceptions/"
OWNER_PAGE = "/me/totp-exceptions/"


def add(client: Client, page: str, **data: str):
    return client.post(page, {"action": "add", "description": "office", **data})


def test_domain_admin_adds_for_a_mailbox_and_for_the_whole_domain(client_a, domain_a):
    add(client_a, ADMIN_PAGE, ip="192.0.2.10", target="User@Alpha.Example")
    add(client_a, ADMIN_PAGE, ip="192.0.2.0/24", target="alpha.example")
    rows = sorted(TotpExceptionAddress.objects.values_list("ip", "username"))
    assert rows == [("192.0.2.0/24", "alpha.example"), ("192.0.2.10", "user@alpha.example")]
    assert Log.objects.filter(
        action="add_totp_exception", domain="alpha.example", data="alpha.example: 192.0.2.0/24"
    ).exists()
    page = client_a.get(ADMIN_PAGE).content.decode()
    assert "192.0.2.10" in page and "192.0.2.0/24" in page


def test_the_same_address_and_target_replace_the_old_row(client_a, domain_a):
    add(client_a, ADMIN_PAGE, ip="192.0.2.10", target="alpha.example")
    add(client_a, ADMIN_PAGE, ip="192.0.2.10", target="alpha.example", description="new")
    (row,) = TotpExceptionAddress.objects.all()
    assert row.description == "new"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"ip": "not-an-ip", "target": "alpha.example"}, "Enter an IP address"),
        ({"ip": "192.0.2.1", "target": ""}, "Enter a mailbox address or a domain."),
        ({"ip": "192.0.2.1", "target": "beta.example"}, "not one you manage"),
        ({"ip": "192.0.2.1", "everyone": "on"}, "Only super admins"),
    ],
)
def test_domain_admin_refusals_write_nothing(client_a, domain_a, domain_b, data, error):
    response = add(client_a, ADMIN_PAGE, **data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not TotpExceptionAddress.objects.exists()


def test_super_admin_adds_a_global_exception(super_client):
    add(super_client, ADMIN_PAGE, ip="2001:db8::1", everyone="on")
    (row,) = TotpExceptionAddress.objects.all()
    assert (row.ip, row.username) == ("2001:db8::1", None)


def test_domain_admins_see_and_delete_only_their_domains_rows(client_a, client_b, domain_a):
    own = TotpExceptionAddress.objects.create(ip="192.0.2.1", username="alpha.example")
    everyone = TotpExceptionAddress.objects.create(ip="192.0.2.2", username=None)
    page_b = client_b.get(ADMIN_PAGE).content.decode()
    assert "192.0.2.1" not in page_b
    assert "192.0.2.2" in page_b
    assert client_b.post(ADMIN_PAGE, {"action": "delete", "id": own.pk}).status_code == 404
    client_a.post(ADMIN_PAGE, {"action": "delete", "id": everyone.pk})
    assert TotpExceptionAddress.objects.filter(pk=everyone.pk).exists()
    client_a.post(ADMIN_PAGE, {"action": "delete", "id": own.pk})
    assert not TotpExceptionAddress.objects.filter(pk=own.pk).exists()
    assert Log.objects.filter(action="delete_totp_exception", domain="alpha.example").exists()


def test_owner_manages_exceptions_for_their_own_mailbox_only(domain_a):
    mailbox = make_mailbox(domain_a, "owner")
    domain_row = TotpExceptionAddress.objects.create(ip="192.0.2.9", username="alpha.example")
    client = Client()
    client.post("/me/login/", {"address": mailbox.pk, "password": PASSWORD})
    add(client, OWNER_PAGE, ip="198.51.100.7", username="someone@alpha.example")
    row = TotpExceptionAddress.objects.get(ip="198.51.100.7")
    assert row.username == mailbox.pk
    page = client.get(OWNER_PAGE).content.decode()
    assert "192.0.2.9" in page
    assert client.post(OWNER_PAGE, {"action": "delete", "id": domain_row.pk}).status_code == 404
    client.post(OWNER_PAGE, {"action": "delete", "id": row.pk})
    assert not TotpExceptionAddress.objects.filter(pk=row.pk).exists()


# --- Addresses and networks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" 192.0.2.7 ", "192.0.2.7"),
        ("192.0.2.7/24", "192.0.2.0/24"),  # host bits typed: the network is meant
        ("192.0.2.7/32", "192.0.2.7"),  # one address: stored as Postfix Admin stores it
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("2001:db8::1/128", "2001:db8::1"),
    ],
)
def test_addresses_and_networks_are_stored_in_one_spelling(client_a, domain_a, typed, stored):
    response = add(client_a, ADMIN_PAGE, ip=typed, target="alpha.example")
    assert response.status_code == 302
    assert list(TotpExceptionAddress.objects.values_list("ip", flat=True)) == [stored]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("192.0.2.300", "Enter an IP address (such as 192.0.2.7) or a network"),
        ("192.0.2.0/33", "Enter an IP address (such as 192.0.2.7) or a network"),
        ("192.0.2.0/abc", "Enter an IP address (such as 192.0.2.7) or a network"),
        ("fe80::1%eth0", "Enter an IP address (such as 192.0.2.7) or a network"),
        ("0.0.0.0/0", "A network this large (/0) would let most of the internet in"),
        ("64.0.0.0/2", "use /8 or longer"),
        ("2000::/3", "use /16 or longer"),
    ],
)
def test_anything_else_is_refused_on_every_page(client_a, domain_a, typed, error):
    owner = make_mailbox(domain_a, "owner")
    client = Client()
    client.post("/me/login/", {"address": owner.pk, "password": PASSWORD})
    for page, response in (
        (ADMIN_PAGE, add(client_a, ADMIN_PAGE, ip=typed, target="alpha.example")),
        (OWNER_PAGE, add(client, OWNER_PAGE, ip=typed)),
    ):
        assert response.status_code == 200, page
        assert error in response.content.decode(), page
    assert not TotpExceptionAddress.objects.exists()


def test_the_service_checks_the_address_too(admin_a, domain_a):
    with pytest.raises(ValidationError) as refused:
        totp_exception_add(
            actor=admin_a, ip="127.0.0.1/-1", username="alpha.example", description="x"
        )
    assert "ip" in refused.value.message_dict
    assert not TotpExceptionAddress.objects.exists()
    row = totp_exception_add(
        actor=admin_a, ip="127.0.0.9/8", username="alpha.example", description="lo"
    )
    assert row.ip == "127.0.0.0/8"
