"""Bulk actions in a real browser: choose rows, read the confirmation page, type, purge."""

from __future__ import annotations

import pytest

from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_alias, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_purge_confirmation_page(ui, admin_a, domain_a, domain_b):
    make_mailbox(domain_a, "jane")
    make_mailbox(domain_a, "joe")
    make_mailbox(domain_a, "keep")
    make_mailbox(domain_b, "bob")
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/?q=j")
    ui.follow(ui.page.get_by_role("link", name="Bulk actions"))
    assert ui.page.get_by_text("bob@beta.example").count() == 0
    ui.check_page("bulk selection")
    ui.screenshot("bulk-select")
    ui.page.get_by_label("Action").select_option("delete")
    ui.page.get_by_label("jane@alpha.example").check()
    ui.page.get_by_label("joe@alpha.example").check()
    ui.submit("Continue")
    preview = ui.page.locator("#bulk-preview")
    assert preview.get_by_text("jane@alpha.example").is_visible()
    assert preview.get_by_text("joe@alpha.example").is_visible()
    assert ui.page.get_by_text("This cannot be undone.").is_visible()
    ui.check_page("bulk confirmation")
    ui.screenshot("bulk-confirm")
    ui.page.get_by_label('Type "purge 2" to confirm').fill("purge 3")
    ui.submit("Delete")
    assert ui.page.get_by_text('Type "purge 2" to confirm.').is_visible()
    assert Mailbox.objects.count() == 4
    ui.page.get_by_label('Type "purge 2" to confirm').fill("purge 2")
    ui.submit("Delete")
    assert ui.path().startswith("/mailboxes/")
    assert ui.page.get_by_text("Delete: 2 done.").is_visible()
    assert set(Mailbox.objects.values_list("local_part", flat=True)) == {"keep", "bob"}


def test_bulk_action_from_the_list_itself(ui, admin_a, domain_a, domain_b):
    for name in ("jane", "joe", "keep"):
        make_mailbox(domain_a, name)
    make_mailbox(domain_b, "bob")
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/")
    ui.check_page("mailbox list with bulk boxes")
    ui.page.get_by_role("checkbox", name="Select jane@alpha.example").check()
    ui.page.get_by_role("checkbox", name="Select joe@alpha.example").check()
    # The page's box shows that some rows are ticked (static/js/vimbadmin.js).
    page_box = ui.page.get_by_role("checkbox", name="Select all on this page")
    assert page_box.evaluate("box => box.indeterminate")
    ui.page.get_by_label("With the ticked rows").select_option("deactivate")
    ui.submit("Continue")
    preview = ui.page.locator("#bulk-preview")
    assert preview.get_by_text("jane@alpha.example").is_visible()
    assert preview.get_by_text("joe@alpha.example").is_visible()
    assert preview.get_by_text("keep@alpha.example").count() == 0
    ui.check_page("bulk confirmation from the list")
    ui.submit("Deactivate")
    assert ui.path().startswith("/mailboxes/")
    assert ui.page.get_by_text("Deactivate: 2 done.").is_visible()
    states = dict(Mailbox.objects.values_list("local_part", "active"))
    assert states == {"jane": False, "joe": False, "keep": True, "bob": True}
    # The page's box ticks every row of the page, and the action applies to all of them.
    ui.page.get_by_role("checkbox", name="Select all on this page").check()
    for name in ("jane", "joe", "keep"):
        assert ui.page.get_by_role("checkbox", name=f"Select {name}@alpha.example").is_checked()
    ui.page.get_by_label("With the ticked rows").select_option("activate")
    ui.submit("Continue")
    ui.submit("Activate")
    assert ui.page.get_by_text("Activate: 3 done.").is_visible()
    assert Mailbox.objects.filter(active=False).count() == 0


def test_bulk_selection_works_without_javascript(browser, live_server, superadmin, domain_a):
    for name in ("anna", "bert"):
        make_alias(domain_a, name, ["x@elsewhere.example"])
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.locator("input[name=username]").fill(superadmin.username)
        page.locator("input[name=password]").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
        page.goto(live_server.url + "/aliases/?domain=alpha.example")
        # Only the page's box: without a script the bulk page reads the page's keys.
        page.get_by_role("checkbox", name="Select all on this page").check()
        assert not page.get_by_role("checkbox", name="Select anna@alpha.example").is_checked()
        page.get_by_label("With the ticked rows").select_option("deactivate")
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
        preview = page.locator("#bulk-preview")
        assert preview.get_by_text("anna@alpha.example").is_visible()
        assert preview.get_by_text("bert@alpha.example").is_visible()
        with page.expect_navigation():
            page.get_by_role("button", name="Deactivate").click()
        assert page.get_by_text("Deactivate: 2 done.").is_visible()
        assert page.url.startswith(live_server.url + "/aliases/")
    finally:
        context.close()
    assert set(Alias.objects.filter(active=False).values_list("address", flat=True)) == {
        "anna@alpha.example",
        "bert@alpha.example",
    }
