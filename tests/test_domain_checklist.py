"""Assigning domains to an admin: a checkbox list with a filter box, on the new and edit forms;
the domain's "Admins of …" picker offers domain admins only."""

from __future__ import annotations

import re

import pytest

from accounts.models import Admin
from domains.models import DomainAdmin
from pfa.models import Log
from tests.factories import make_admin, make_domain

pytestmark = pytest.mark.django_db


def _assigned(admin: Admin) -> set[str]:
    return set(
        DomainAdmin.objects.filter(username_id=admin.pk, active=True)
        .exclude(domain_id="ALL")
        .values_list("domain_id", flat=True)
    )


def test_new_admin_form_lists_domains_as_checkboxes_with_a_filter(super_client, db):
    for n in range(300):
        make_domain(f"d{n:03d}.example")
    make_domain("xn--bcher-kva.example")
    html = super_client.get("/accounts/admins/new/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="domains" value="([^"]+)"', html)
    assert len(boxes) == 301
    assert "<select multiple" not in html
    # The filter box is there for the script, hidden without it; the list is in a fieldset.
    assert re.search(r"<input type=\"search\"[^>]*data-vimb-checklist-filter[^>]*hidden>", html)
    assert "<legend" in html
    assert ">bücher.example</label>" in html


def test_create_admin_with_ticked_domains(super_client, domain_a, domain_b):
    response = super_client.post(
        "/accounts/admins/new/",
        {
            "username": "two@elsewhere.example",
            "password": "Fine-Long-Password-81",
            "password2": "Fine-Long-Password-81",
            "domains": [domain_a.pk, domain_b.pk],
        },
    )
    assert response.status_code == 302
    assert _assigned(Admin.objects.get(pk="two@elsewhere.example")) == {
        "alpha.example",
        "beta.example",
    }


def test_edit_form_ticks_the_admins_domains_and_changes_them(super_client, admin_a, domain_b):
    url = "/accounts/admins/admin@alpha.example/edit/"
    html = super_client.get(url).content.decode()
    ticked = re.findall(r'<input type="checkbox" name="domains" value="([^"]+)"[^>]*checked', html)
    assert ticked == ["alpha.example"]

    response = super_client.post(url, {"email_other": "", "domains": ["beta.example"]})
    assert response.status_code == 302
    assert _assigned(admin_a) == {"beta.example"}
    rows = set(Log.objects.filter(action="edit_admin").values_list("data", flat=True))
    assert "admin@alpha.example: + beta.example" in rows
    assert "admin@alpha.example: - alpha.example" in rows

    response = super_client.post(url, {"email_other": ""})
    assert response.status_code == 302
    assert _assigned(admin_a) == set()


def test_a_bad_domain_changes_nothing(super_client, admin_a, domain_b):
    url = "/accounts/admins/admin@alpha.example/edit/"
    response = super_client.post(url, {"email_other": "x@y.example", "domains": ["nope.example"]})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert _assigned(admin_a) == {"alpha.example"}
    assert Admin.objects.get(pk=admin_a.pk).email_other == ""


def test_super_admin_edit_has_no_domain_list(super_client, superadmin, domain_a):
    other = make_admin("boss2@admins.example", superadmin=True)
    html = super_client.get(f"/accounts/admins/{other.pk}/edit/").content.decode()
    assert 'name="domains"' not in html
    response = super_client.post(f"/accounts/admins/{other.pk}/edit/", {"email_other": ""})
    assert response.status_code == 302


def test_domain_admins_picker_offers_no_super_admins(super_client, superadmin, admin_a, domain_b):
    make_admin("boss2@admins.example", superadmin=True)
    make_admin("helper@beta.example")
    html = super_client.get("/accounts/domains/beta.example/admins/").content.decode()
    options = re.findall(r'<option value="([^"]+)"', html)
    assert "helper@beta.example" in options
    assert "admin@alpha.example" in options
    assert "root@admins.example" not in options
    assert "boss2@admins.example" not in options
    response = super_client.post(
        "/accounts/domains/beta.example/admins/", {"admin": "boss2@admins.example"}
    )
    assert response.status_code == 400
