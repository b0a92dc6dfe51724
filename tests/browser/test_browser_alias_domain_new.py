"""A new alias domain in a real browser, its domain row created on the way."""

from __future__ import annotations

import pytest

from domains.models import AliasDomain, Domain
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_new_alias_domain_creates_its_domain(ui, superadmin, domain_a):
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/alias-domains/new/")
    page = ui.page
    page.get_by_label("Or a new alias domain").fill("bücher.example")
    page.get_by_label("Target domain").select_option("alpha.example")
    ui.check_page("new alias domain")
    ui.submit("Create alias domain")
    assert ui.path() == "/domains/alias-domains/"
    row = page.locator("main table tbody tr").filter(has_text="bücher.example")
    assert row.count() == 1
    assert AliasDomain.objects.get(alias_domain_id="xn--bcher-kva.example").target_domain_id == (
        "alpha.example"
    )
    assert Domain.objects.get(pk="xn--bcher-kva.example").mailboxes == -1

    ui.goto("/domains/new/")
    assert page.get_by_text("leaves it to Postfix's virtual_transport").is_visible()
    assert page.get_by_text("Mailboxes here receive no mail.").is_visible()
