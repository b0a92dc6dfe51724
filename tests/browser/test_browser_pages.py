"""The main pages in a real browser: no CSP violation, no serious accessibility problem, and a
screenshot of each at 1280 and 390 px wide."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.factories import PASSWORD


def ui_screenshot_path(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page(ui):
    ui.goto("/accounts/login/")
    assert ui.page.get_by_role("heading", name="Log in").is_visible()
    assert ui.page.get_by_label("Password").is_visible()
    ui.check_page("login")
    ui.screenshot("login")


def test_not_found_page(ui):
    ui.goto("/no-such-page/")
    assert ui.page.get_by_role("heading", name="Page not found").is_visible()
    ui.check_page("404")
    ui.screenshot("404")


def test_domain_list_as_super_admin(ui, superadmin, domain_a, domain_b):
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/")
    assert ui.page.get_by_role("link", name="Admins", exact=True).is_visible()
    ui.check_page("domain list")
    ui.screenshot("domain-list")


def test_phone_menu_opens_and_closes(ui, superadmin, domain_a):
    ui.login(superadmin.username, PASSWORD)
    ui.page.set_viewport_size({"width": 390, "height": 844})
    ui.goto("/domains/")
    toggle = ui.page.get_by_role("button", name="Show or hide the menu")
    menu = ui.page.get_by_role("navigation", name="Main")
    mailboxes = menu.get_by_role("link", name="Mailboxes", exact=True)
    assert not mailboxes.is_visible()
    toggle.click()
    assert mailboxes.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    ui.page.screenshot(path=ui_screenshot_path("phone-menu-390"), full_page=True)
    toggle.click()
    assert not mailboxes.is_visible()


def test_phone_menu_is_open_without_javascript(browser, live_server, superadmin):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=username]").fill(superadmin.username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    page.goto(live_server.url + "/domains/")
    menu = page.get_by_role("navigation", name="Main")
    assert menu.get_by_role("link", name="Mailboxes", exact=True).is_visible()
    assert not page.get_by_role("button", name="Show or hide the menu").is_visible()
    page.screenshot(path=ui_screenshot_path("phone-menu-nojs-390"), full_page=True)
    context.close()
