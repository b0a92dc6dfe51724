"""The new-mailbox form knows every offered domain's default quota (for js/vimbadmin.js)."""

from __future__ import annotations

import html
import json
import re

import pytest

from domains.models import DomainSettings
from mail.quota import quota_text
from mailboxes.services import default_quota_bytes
from tests.factories import make_admin, make_domain

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
