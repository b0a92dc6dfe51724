"""The log in a real browser: an edit row says what changed, the Access tab shows the logins."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_row_and_access_tab(ui, superadmin, admin_a, domain_a):
    # A failed login first, as an attacker guessing a domain admin's password.
    ui.login(admin_a.username, "not-the-password-1")
    assert ui.page.get_by_text("The e-mail address or the password is not correct.").is_visible()

    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/alpha.example/edit/")
    ui.page.get_by_label("Max aliases").fill("5")
    ui.submit("Save")

    ui.nav("Log")
    row = ui.page.locator("main table tbody tr").filter(has_text="Edit domain").first
    assert "aliases 0 \u2192 5" in row.inner_text()

    ui.follow(ui.page.get_by_role("link", name="Access", exact=True))
    assert ui.path() == "/log/access/"
    table = ui.page.locator("main table").last
    failed = table.locator("tbody tr").filter(has_text="failed login")
    assert failed.count() == 1
    assert admin_a.username in failed.inner_text()
    assert table.locator("tbody tr").filter(has_text="root@admins.example").count() == 1

    ui.page.get_by_label("Event").select_option("login_failed")
    ui.follow(ui.page.locator("main form[role=search]").get_by_role("button", name="Filter"))
    assert "kind=login_failed" in ui.path()
    rows = ui.page.locator("main table").last.locator("tbody tr")
    assert rows.count() == 1
    assert "failed login" in rows.inner_text()
    ui.check_page("access log")
    ui.screenshot("log-access")
