"""A new domain's RFC 2142 aliases: made with the shipped defaults, counted, and reported."""

from __future__ import annotations

import html

import pytest
from django.db import connection

from aliases.services import alias_count
from domains.models import Domain, DomainCounters
from pfa.models import Log
from tests.factories import make_admin

ALIAS_HINT = ": ask your provider (a super admin) to raise it, or delete an alias."


pytestmark = pytest.mark.django_db

SHIPPED = {
    "postmaster": "postmaster@localhost",
    "abuse": "abuse@localhost",
    "hostmaster": "hostmaster@localhost",
    "webmaster": "webmaster@localhost",
}


def page(response) -> str:
    return html.unescape(response.content.decode())


def create(client, name: str, **overrides: str | None):
    data = {
        "domain": name,
        "mailboxes": "10",
        "aliases": "30",
        "maxquota": "0",
        "quota": "0",
        "default_mailbox_quota": "0",
        "transport": "virtual",
        "active": "on",
        "create_default_aliases": "on",
        **overrides,
    }
    return client.post(
        "/domains/new/", {k: v for k, v in data.items() if v is not None}, follow=True
    )


def alias_rows(domain: str) -> dict[str, str]:
    """Read the alias table as Postfix's virtual_alias_maps query does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address, goto FROM alias WHERE domain = %s AND active = %s", [domain, True]
        )
        return dict(cursor.fetchall())


def test_shipped_defaults_are_created_and_listed(super_client):
    response = create(super_client, "rfc2142.example")
    assert alias_rows("rfc2142.example") == {
        f"{local}@rfc2142.example": target for local, target in SHIPPED.items()
    }
    text = page(response)
    assert "Domain rfc2142.example created." in text
    assert (
        "Aliases created: postmaster@rfc2142.example → postmaster@localhost, "
        "abuse@rfc2142.example → abuse@localhost, "
        "hostmaster@rfc2142.example → hostmaster@localhost, "
        "webmaster@rfc2142.example → webmaster@localhost." in text
    )
    logged = set(
        Log.objects.filter(domain="rfc2142.example", action="create_alias").values_list(
            "data", flat=True
        )
    )
    assert logged == {f"{local}@rfc2142.example -> {t}" for local, t in SHIPPED.items()}


def test_defaults_keep_the_domain_counters_right(super_client):
    create(super_client, "rfc2142.example", aliases="5")
    domain = Domain.objects.get(pk="rfc2142.example")
    stats = DomainCounters.objects.get(domain_id="rfc2142.example")
    assert (stats.alias_rows, stats.mailboxes) == (4, 0)
    assert alias_count(domain) == 4
    rows = page(super_client.get("/domains/", {"q": "rfc2142"}))
    assert "4 / 5" in rows
    # The limit counts them: one more alias fits, the next is refused.
    for local, status in (("one", 302), ("two", 200)):
        response = super_client.post(
            "/aliases/new/",
            {"domain": "rfc2142.example", "local_part": local, "targets": "x@y.example"},
        )
        assert response.status_code == status
    assert "The domain has reached its limit of 5 aliases" + ALIAS_HINT in page(response)


def test_defaults_within_the_alias_limit_and_the_rest_explained(super_client):
    response = create(super_client, "small.example", aliases="2")
    assert set(alias_rows("small.example")) == {"postmaster@small.example", "abuse@small.example"}
    text = page(response)
    assert "Aliases created: postmaster@small.example → postmaster@localhost, " in text
    for local in ("hostmaster", "webmaster"):
        assert (
            f"The alias {local}@small.example → {local}@localhost was not created: "
            "The domain has reached its limit of 2 aliases" + ALIAS_HINT in text
        )
    assert DomainCounters.objects.get(domain_id="small.example").alias_rows == 2


def test_no_aliases_domain_gets_none_and_says_why(super_client):
    text = page(create(super_client, "none.example", aliases="-1"))
    assert alias_rows("none.example") == {}
    assert "Aliases created" not in text
    assert (
        "The alias postmaster@none.example → postmaster@localhost was not created: "
        "This domain may not have aliases." in text
    )


def test_a_bad_configured_target_is_reported(super_client, settings):
    settings.VIMBADMIN_DEFAULT_ALIASES = "postmaster=root,abuse=abuse desk@%d"
    text = page(create(super_client, "conf.example"))
    assert alias_rows("conf.example") == {"postmaster@conf.example": "root"}
    assert "The alias abuse@conf.example → abuse desk@conf.example was not created:" in text
    assert "is not a valid e-mail address" in text


def test_unticked_creates_none_and_lists_none(super_client):
    response = create(super_client, "plain.example", create_default_aliases=None)
    assert alias_rows("plain.example") == {}
    assert "Aliases created" not in page(response)
    assert "was not created" not in page(response)


def test_domain_admin_sees_the_defaults_in_the_alias_list(super_client):
    create(super_client, "rfc2142.example")
    admin = make_admin("ops@ops.example", domains=[Domain.objects.get(pk="rfc2142.example")])
    super_client.force_login(admin)
    text = page(super_client.get("/aliases/", {"domain": "rfc2142.example"}))
    for local, target in SHIPPED.items():
        assert f"{local}@rfc2142.example" in text
        assert target in text


def test_special_use_domain_gets_a_warning_not_a_refusal(super_client):
    response = create(super_client, "corp.local")
    text = page(response)
    assert "Domain corp.local created." in text
    assert "corp.local is under the special-use name .local" in text
    assert len(alias_rows("corp.local")) == 4
