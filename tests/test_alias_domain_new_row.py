"""'New alias domain' creates the alias domain's row when asked; help for transport and backup MX;
a warning for a mailbox in a backup-MX domain."""

from __future__ import annotations

import pytest

from aliases.models import Alias
from domains.models import AliasDomain, Domain
from domains.services import alias_domain_create
from pfa.models import Log
from tests.factories import make_domain

pytestmark = pytest.mark.django_db

NEW = "/domains/alias-domains/new/"


def _post(client, **data: str):
    return client.post(NEW, {"alias_domain": "", "new_domain": "", "active": "on", **data})


def test_super_admin_names_a_new_alias_domain(super_client, domain_a):
    html = super_client.get(NEW).content.decode()
    assert 'name="new_domain"' in html
    response = _post(super_client, new_domain="Bücher.Example", target_domain="alpha.example")
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Domain.objects.get(pk="xn--bcher-kva.example")
    assert (row.mailboxes, row.aliases, row.maxquota, row.quota) == (-1, 0, 0, 0)
    assert row.description == "Alias domain of alpha.example"
    assert not row.backupmx and row.active
    assert not Alias.objects.filter(domain_id=row.pk).exists()  # no postmaster@ of its own
    link = AliasDomain.objects.get(alias_domain_id=row.pk)
    assert link.target_domain_id == "alpha.example" and link.active
    actions = list(
        Log.objects.filter(domain="xn--bcher-kva.example").order_by("id").values_list("action")
    )
    assert actions == [("create_domain",), ("create_alias_domain",)]
    page = super_client.get("/domains/alias-domains/").content.decode()
    assert "bücher.example" in page


def test_the_choice_is_one_or_the_other(super_client, domain_a, domain_b):
    both = _post(
        super_client,
        alias_domain="beta.example",
        new_domain="new.example",
        target_domain="alpha.example",
    )
    assert both.status_code == 200
    assert "Choose an alias domain or name a new one, not both." in both.content.decode()
    neither = _post(super_client, target_domain="alpha.example")
    assert neither.status_code == 200
    assert "Choose an alias domain or name a new one." in neither.content.decode()
    exists = _post(super_client, new_domain="beta.example", target_domain="alpha.example")
    assert "This domain exists already" in exists.content.decode()
    bad = _post(super_client, new_domain="not a domain", target_domain="alpha.example")
    assert bad.status_code == 200
    assert not Domain.objects.filter(pk="new.example").exists()
    assert not AliasDomain.objects.exists()


def test_a_refused_alias_domain_leaves_no_domain_row(super_client, superadmin, domain_a, domain_b):
    # beta.example is itself an alias domain: pointing at it would make a chain.
    alias_domain_create(actor=superadmin, alias_domain=domain_b, target_domain=domain_a)
    response = _post(super_client, new_domain="chain.example", target_domain="beta.example")
    assert response.status_code == 200
    assert "chains are not allowed" in response.content.decode()
    assert not Domain.objects.filter(pk="chain.example").exists()
    assert not Log.objects.filter(domain="chain.example").exists()


def test_domain_admins_choose_among_their_domains_only(client_a, admin_a, domain_a):
    make_domain("alpha2.example")
    html = client_a.get(NEW).content.decode()
    assert 'name="new_domain"' not in html
    response = _post(client_a, new_domain="sneaky.example", target_domain="alpha.example")
    assert response.status_code == 200
    assert not Domain.objects.filter(pk="sneaky.example").exists()


def test_transport_and_backup_mx_are_explained(super_client, db):
    html = super_client.get("/domains/new/").content.decode()
    assert "Postfix&#x27;s default for virtual mailboxes (virtual_transport) (virtual)" in html
    assert "leaves it to Postfix&#x27;s virtual_transport" in html
    assert "Mailboxes here receive no mail." in html


def test_a_mailbox_in_a_backup_mx_domain_is_warned_about(client_a, admin_a, domain_a):
    Domain.objects.filter(pk="alpha.example").update(backupmx=True)
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "relay",
            "password": "Fine-Long-Password-81",
            "password_confirm": "Fine-Long-Password-81",
            "quota": "",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "alpha.example is a backup MX domain" in html
    assert "receives no mail here" in html
    Domain.objects.filter(pk="alpha.example").update(backupmx=False)
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "normal",
            "password": "Fine-Long-Password-81",
            "password_confirm": "Fine-Long-Password-81",
            "quota": "",
        },
        follow=True,
    )
    assert "backup MX domain" not in response.content.decode()
