"""Assigning domains in a real browser: the filter box narrows the checkbox list, ticked domains
stay in sight, and the form saves what was ticked."""

from __future__ import annotations

import pytest

from accounts.models import Admin
from domains.models import DomainAdmin
from tests.factories import PASSWORD, make_domain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_and_tick_domains_for_a_new_admin(ui, superadmin):
    for n in range(120):
        make_domain(f"shop{n:03d}.example")
    make_domain("xn--bcher-kva.example")
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/accounts/admins/new/")
    page = ui.page
    items = page.locator("[data-vimb-checklist-item]")
    assert items.count() == 121
    search = page.get_by_role("searchbox", name="Filter: Domains")
    assert search.is_visible()

    search.fill("shop04")
    assert page.locator("[data-vimb-checklist-item]:visible").count() == 10
    page.get_by_label("shop042.example").check()
    search.fill("bücher")
    visible = page.locator("[data-vimb-checklist-item]:visible")
    assert sorted(visible.all_inner_texts()) == ["bücher.example", "shop042.example"]
    page.get_by_label("bücher.example").check()
    assert "Ticked: 2" in page.locator("[data-vimb-checklist-count]").inner_text()
    search.fill("nothing-like-this")
    # Enter in the filter does not send the form.
    search.press("Enter")
    assert ui.path() == "/accounts/admins/new/"
    ui.check_page("new admin with the domain list")

    page.get_by_label("E-mail address").fill("shops@elsewhere.example")
    page.get_by_label("Password", exact=True).fill("Fine-Long-Password-81")
    page.get_by_label("Password (again)").fill("Fine-Long-Password-81")
    ui.submit("Create")
    admin = Admin.objects.get(pk="shops@elsewhere.example")
    assigned = set(
        DomainAdmin.objects.filter(username_id=admin.pk).values_list("domain_id", flat=True)
    )
    assert assigned == {"shop042.example", "xn--bcher-kva.example"}
