"""The new-mailbox form knows each domain's default quota; the purge page lists the aliases
that still deliver to the address."""

from __future__ import annotations

import html
import json
import re

import pytest

from domains.models import DomainSettings
from mail.quota import quota_text
from mailboxes.services import default_quota_bytes
from tests.factories import make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db


def _defaults(response) -> dict[str, str]:
    text = response.content.decode()
    select = re.search(r"<select[^>]*data-default-quotas[^>]*>", text)
    assert select, text
    attrs = select.group(0)
    assert 'data-quota-field="id_quota"' in attrs
    found = re.search(r'data-default-quotas="([^"]*)"', attrs)
    assert found, attrs
    return json.loads(html.unescape(found.group(1)))


def test_select_carries_each_domains_default_quota(client, super_client):
    big = make_domain("big.example", default_mailbox_quota=2048)
    books = make_domain("bücher.example", default_mailbox_quota=500)
    capped = make_domain("capped.example", maxquota=300, default_mailbox_quota=0)
    make_domain("other.example", default_mailbox_quota=100)
    # Adopted from Postfix Admin: no settings row, the per-mailbox maximum is the default.
    DomainSettings.objects.filter(domain_id="capped.example").delete()
    response = super_client.get("/mailboxes/new/")
    assert _defaults(response) == {
        "big.example": "2048",
        "xn--bcher-kva.example": "500",
        "capped.example": "300",
        "other.example": "100",
    }
    # The same rule as the server's when the field is left empty.
    assert quota_text(default_quota_bytes(capped)) == "300"

    # A domain admin's form names only that admin's domains.
    admin = make_admin("admin@big.example", domains=[big, books])
    client.force_login(admin)
    assert _defaults(client.get("/mailboxes/new/")) == {
        "big.example": "2048",
        "xn--bcher-kva.example": "500",
    }


def test_purge_page_lists_the_aliases_still_delivering_to_the_address(client_a, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    make_alias(domain_a, "sales", ["anna@alpha.example", "x@elsewhere.example"])
    make_alias(domain_a, "", ["anna@alpha.example"])  # the catch-all
    make_alias(domain_a, "team", ["bert@alpha.example"])
    make_alias(domain_b, "foreign", ["anna@alpha.example"])  # out of the admin's scope
    response = client_a.get("/mailboxes/anna@alpha.example/purge/")
    assert response.status_code == 200
    text = html.unescape(re.sub(r"\s+", " ", response.content.decode()))
    assert "These 2 aliases still deliver to the address" in text
    assert '<a href="/aliases/sales@alpha.example/">sales@alpha.example</a>' in text
    assert '<a href="/aliases/@alpha.example/">@alpha.example (catch-all)</a>' in text
    assert "team@alpha.example" not in text
    assert "foreign@beta.example" not in text

    make_mailbox(domain_a, "bert")
    response = client_a.get("/mailboxes/bert@alpha.example/purge/")
    text = html.unescape(re.sub(r"\s+", " ", response.content.decode()))
    assert "This alias still delivers to the address" in text
    assert "team@alpha.example" in text
    make_mailbox(domain_a, "carl")
    response = client_a.get("/mailboxes/carl@alpha.example/purge/")
    assert "still deliver" not in response.content.decode()
