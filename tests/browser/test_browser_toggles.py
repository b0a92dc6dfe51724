"""Deactivation is never one careless click: a domain asks first, every toggle says what it
does to what, the message offers an undo, row actions and sorted headers are named."""

from __future__ import annotations

import pytest

from domains.models import Domain
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_alias, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _alert(ui):
    return ui.page.locator("main .alert").first


def test_deactivating_a_domain_asks_with_its_counts_and_can_be_undone(ui, superadmin, domain_a):
    make_mailbox(domain_a, "anna")
    make_mailbox(domain_a, "bert")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/")
    page = ui.page
    row = page.locator("main table tbody tr").filter(has_text="alpha.example")
    assert row.get_by_text("Active", exact=True).is_visible()
    # The control is named by its action and object, not by the state.
    assert row.get_by_role("button", name="Active").count() == 0
    ui.follow(row.get_by_role("link", name="Deactivate alpha.example"))

    # A page says what stops, and nothing has happened yet.
    assert ui.path().startswith("/domains/alpha.example/toggle/")
    assert page.get_by_role("heading", name="Deactivate alpha.example?").is_visible()
    warning = page.locator("main .alert-warning").inner_text()
    assert "2 mailboxes" in warning
    assert "1 alias" in warning
    assert Domain.objects.get(domain="alpha.example").active
    ui.check_page("domain deactivation question")
    ui.screenshot("domain-deactivate-confirm")

    # Cancel goes back to the list, still active.
    ui.follow(page.get_by_role("link", name="Cancel"))
    assert ui.path() == "/domains/"
    assert Domain.objects.get(domain="alpha.example").active

    row = page.locator("main table tbody tr").filter(has_text="alpha.example")
    ui.follow(row.get_by_role("link", name="Deactivate alpha.example"))
    ui.submit("Deactivate alpha.example")
    assert ui.path() == "/domains/"
    assert not Domain.objects.get(domain="alpha.example").active
    alert = _alert(ui)
    assert "alpha.example deactivated." in alert.inner_text()
    ui.check_page("domain list after deactivation")
    ui.screenshot("domain-deactivated-undo")

    # The message's Undo restores the domain in one click and stays on the list.
    ui.follow(alert.get_by_role("button", name="Undo"))
    assert ui.path() == "/domains/"
    assert Domain.objects.get(domain="alpha.example").active
    assert "alpha.example activated." in _alert(ui).inner_text()


def test_mailbox_toggle_is_named_by_action_and_offers_undo(ui, admin_a, domain_a):
    make_mailbox(domain_a, "anna")
    make_mailbox(domain_a, "bert")
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/")
    page = ui.page
    table = page.locator("main table")
    # Row actions: one accessible name per action and mailbox, not "Edit, Edit".
    for address in ("anna@alpha.example", "bert@alpha.example"):
        for action in ("Edit", "Password", "Purge"):
            assert table.get_by_role("link", name=f"{action} {address}", exact=True).count() == 1
    # The sorted column says so to screen readers.
    address_header = table.locator("thead th").filter(has_text="Address")
    assert address_header.get_attribute("aria-sort") == "ascending"
    assert table.locator("thead th[aria-sort]").count() == 1

    ui.follow(table.get_by_role("button", name="Deactivate anna@alpha.example"))
    assert not Mailbox.objects.get(username="anna@alpha.example").active
    assert Mailbox.objects.get(username="bert@alpha.example").active
    row = page.locator("main table tbody tr").filter(has_text="anna@alpha.example")
    assert row.get_by_text("Inactive", exact=True).is_visible()
    assert row.get_by_role("button", name="Activate anna@alpha.example").is_visible()
    ui.check_page("mailbox list after deactivation")

    ui.follow(_alert(ui).get_by_role("button", name="Undo"))
    assert Mailbox.objects.get(username="anna@alpha.example").active
    assert ui.path().startswith("/mailboxes/")

    # Sorting the other way is announced too.
    with page.expect_navigation():
        address_header.get_by_role("link").click()
    header = page.locator("main table thead th").filter(has_text="Address")
    assert header.get_attribute("aria-sort") == "descending"
