"""Bulk actions in a real browser: choose rows, read the confirmation page, type, purge."""

from __future__ import annotations

import pytest

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox

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
