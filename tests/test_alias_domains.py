"""Alias domain pages: list, create with scoped choices, no chains or self-target, delete."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import AliasDomain
from domains.services import alias_domain_create
from pfa.models import Log
from tests.factories import make_admin, make_domain

pytestmark = pytest.mark.django_db

LIST = reverse("domains:aliasdomain-list")
CREATE = reverse("domains:aliasdomain-create")


def _toggle(name: str) -> str:
    return reverse("domains:aliasdomain-toggle", args=[name])


def _delete(name: str) -> str:
    return reverse("domains:aliasdomain-delete", args=[name])


def _rows(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _options(html: str, field: str) -> list[str]:
    select = re.search(rf'<select name="{field}".*?</select>', html, flags=re.S)
    assert select, field
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(0)) if value]


def test_create_alias_domain(super_client, domain_a, domain_b):
    response = super_client.post(
        CREATE, {"alias_domain": "beta.example", "target_domain": "alpha.example", "active": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == LIST
    row = AliasDomain.objects.get(alias_domain_id="beta.example")
    assert row.target_domain_id == "alpha.example"
    assert row.active is True
    assert Log.objects.filter(
        action="create_alias_domain", data="beta.example -> alpha.example"
    ).exists()
    html = super_client.get(LIST).content.decode()
    assert "Mail to beta.example now goes to alpha.example." in html
    rows = _rows(html)
    assert len(rows) == 1
    assert "beta.example" in rows[0]
    assert "alpha.example" in rows[0]


def test_create_inactive_alias_domain(super_client, domain_a, domain_b):
    super_client.post(CREATE, {"alias_domain": "beta.example", "target_domain": "alpha.example"})
    assert AliasDomain.objects.get(alias_domain_id="beta.example").active is False


def test_self_target_is_refused(super_client, domain_a):
    response = super_client.post(
        CREATE, {"alias_domain": "alpha.example", "target_domain": "alpha.example"}
    )
    assert response.status_code == 200
    assert "A domain cannot be an alias of itself." in response.content.decode()
    assert not AliasDomain.objects.exists()


def test_chains_are_refused(super_client, domain_a, domain_b):
    gamma = make_domain("gamma.example")
    alias_domain_create(actor=None, alias_domain=domain_b, target_domain=domain_a)
    # gamma -> beta would chain onto beta -> alpha.
    response = super_client.post(
        CREATE, {"alias_domain": "gamma.example", "target_domain": "beta.example"}
    )
    assert response.status_code == 200
    assert "The target is itself an alias domain" in response.content.decode()
    # alpha -> gamma would make beta -> alpha -> gamma.
    response = super_client.post(
        CREATE, {"alias_domain": "alpha.example", "target_domain": "gamma.example"}
    )
    assert response.status_code == 200
    assert "chains are not allowed" in response.content.decode()
    # beta is already an alias domain.
    response = super_client.post(
        CREATE, {"alias_domain": "beta.example", "target_domain": "gamma.example"}
    )
    assert "This domain is already an alias domain." in response.content.decode()
    assert list(AliasDomain.objects.values_list("alias_domain_id", flat=True)) == ["beta.example"]
    assert gamma.pk == "gamma.example"


def test_domain_admin_choices_are_scoped(client_a, domain_a, domain_b):
    other = make_domain("alpha-two.example")
    html = client_a.get(CREATE).content.decode()
    assert _options(html, "alias_domain") == ["alpha.example"]
    assert _options(html, "target_domain") == ["alpha.example"]
    # Even with a second domain, a foreign one is neither offered nor accepted.
    admin = make_admin("multi@admins.example", domains=[domain_a, other])
    client_a.force_login(admin)
    html = client_a.get(CREATE).content.decode()
    assert sorted(_options(html, "alias_domain")) == ["alpha-two.example", "alpha.example"]
    for source, target in (("beta.example", "alpha.example"), ("alpha.example", "beta.example")):
        response = client_a.post(CREATE, {"alias_domain": source, "target_domain": target})
        assert response.status_code == 200
        assert "Select a valid choice." in response.content.decode()
    assert not AliasDomain.objects.exists()
    response = client_a.post(
        CREATE, {"alias_domain": "alpha-two.example", "target_domain": "alpha.example"}
    )
    assert response.status_code == 302
    assert AliasDomain.objects.filter(alias_domain_id="alpha-two.example").exists()


def test_super_admin_choices_list_every_domain_in_unicode(super_client, domain_a):
    make_domain("bücher.example")
    html = super_client.get(CREATE).content.decode()
    assert _options(html, "alias_domain") == ["alpha.example", "xn--bcher-kva.example"]
    assert ">bücher.example</option>" in html
    assert 'value="ALL"' not in html


def test_list_is_scoped_and_searchable(client_a, super_client, domain_a, domain_b):
    gamma = make_domain("gamma.example")
    bucher = make_domain("bücher.example")
    alias_domain_create(actor=None, alias_domain=domain_a, target_domain=gamma)
    alias_domain_create(actor=None, alias_domain=domain_b, target_domain=gamma)
    alias_domain_create(actor=None, alias_domain=bucher, target_domain=gamma)
    rows = _rows(client_a.get(LIST).content.decode())
    assert len(rows) == 1
    assert "alpha.example" in rows[0]
    assert len(_rows(super_client.get(LIST).content.decode())) == 3
    rows = _rows(super_client.get(LIST, {"q": "beta"}).content.decode())
    assert len(rows) == 1
    assert "beta.example" in rows[0]
    rows = _rows(super_client.get(LIST, {"q": "bücher"}).content.decode())
    assert len(rows) == 1
    assert "bücher.example" in rows[0]
    assert len(_rows(super_client.get(LIST, {"q": "gamma"}).content.decode())) == 3


def test_toggle_and_delete(client_a, domain_a, domain_b):
    gamma = make_domain("gamma.example")
    alias_domain_create(actor=None, alias_domain=domain_a, target_domain=gamma)
    assert client_a.get(_toggle("alpha.example")).status_code == 405
    response = client_a.post(_toggle("alpha.example"), {"active": "0", "next": LIST})
    assert response.status_code == 302
    assert AliasDomain.objects.get(alias_domain_id="alpha.example").active is False
    assert Log.objects.filter(action="edit_alias_domain_state").exists()
    # The delete page asks first; GET deletes nothing.
    page = client_a.get(_delete("alpha.example"))
    assert page.status_code == 200
    assert "Mail to alpha.example will no longer be delivered to gamma.example." in (
        page.content.decode()
    )
    assert AliasDomain.objects.filter(alias_domain_id="alpha.example").exists()
    response = client_a.post(_delete("alpha.example"))
    assert response.status_code == 302
    assert not AliasDomain.objects.filter(alias_domain_id="alpha.example").exists()
    assert Log.objects.filter(action="delete_alias_domain", domain="alpha.example").exists()
    assert "Alias domain alpha.example removed." in client_a.get(LIST).content.decode()


def test_other_domain_admin_gets_404(client_b, domain_a, domain_b):
    gamma = make_domain("gamma.example")
    alias_domain_create(actor=None, alias_domain=domain_a, target_domain=gamma)
    assert client_b.post(_toggle("alpha.example"), {"active": "0"}).status_code == 404
    assert client_b.get(_delete("alpha.example")).status_code == 404
    assert client_b.post(_delete("alpha.example")).status_code == 404
    row = AliasDomain.objects.get(alias_domain_id="alpha.example")
    assert row.active is True
    assert client_b.get(LIST).content.decode().count("alpha.example") == 0


def test_missing_alias_domain_is_404(super_client):
    assert super_client.get(_delete("none.example")).status_code == 404
    assert super_client.post(_toggle("none.example"), {"active": "1"}).status_code == 404


def _list_queries(client, count: int) -> int:
    target = make_domain(f"target{count}.example")
    for i in range(count):
        source = make_domain(f"a{count}-{i}.example")
        alias_domain_create(actor=None, alias_domain=source, target_domain=target)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert len(_rows(response.content.decode())) == min(AliasDomain.objects.count(), 50)
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(super_client):
    assert _list_queries(super_client, 5) == _list_queries(super_client, 60)


def test_many_domains_are_typed_and_still_scoped(client_a, domain_a, domain_b, monkeypatch):
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 1)
    bucher = make_domain("bücher.example")
    admin = make_admin("multi@admins.example", domains=[domain_a, bucher])
    client_a.force_login(admin)
    html = client_a.get(CREATE).content.decode()
    assert '<select name="alias_domain"' not in html
    assert re.search(r'<input type="text" name="alias_domain"', html)
    response = client_a.post(CREATE, {"alias_domain": "beta.example", "target_domain": "alpha"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["alias_domain"] == ["Enter a domain you manage."]
    assert "is not a valid domain name" in errors["target_domain"][0]
    response = client_a.post(
        CREATE, {"alias_domain": "Bücher.example", "target_domain": "alpha.example"}
    )
    assert response.status_code == 302
    assert AliasDomain.objects.get(alias_domain_id="xn--bcher-kva.example").target_domain_id == (
        "alpha.example"
    )
