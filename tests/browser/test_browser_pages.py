"""The main pages in a real browser: no CSP violation, no serious accessibility problem, and a
screenshot of each at 1280 and 390 px wide."""

from __future__ import annotations

import re

import pytest

from domains.services import alias_domain_create
from tests.browser.conftest import SCREENSHOTS
from tests.factories import PASSWORD, make_alias, make_mailbox


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


def test_log_and_alias_domain_pages(ui, superadmin, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    alias_domain_create(actor=superadmin, alias_domain=domain_b, target_domain=domain_a)
    ui.login(superadmin.username, PASSWORD)
    ui.nav("Log")
    assert ui.page.locator("main table tbody tr").count() >= 3
    ui.check_page("log")
    ui.screenshot("log-list")
    ui.nav("Alias domains")
    assert ui.page.locator("main table tbody tr").filter(has_text="beta.example").count() == 1
    ui.check_page("alias domain list")
    ui.screenshot("aliasdomain-list")


GENERATED = re.compile(
    r"^[ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789#%+\-.=@_]{16,}$"
)


def test_generate_and_copy_password_on_the_mailbox_form(ui, admin_a, domain_a):
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/new/")
    page = ui.page
    page.get_by_role("button", name=re.compile("Generate")).click()
    first = page.get_by_label("Password", exact=True).input_value()
    assert GENERATED.match(first), first
    assert page.get_by_label("Password (again)").input_value() == first
    shown = page.locator("main .password-suggestion code")
    assert shown.inner_text() == first
    page.locator("main .password-suggestion").get_by_role("button", name="Copy").click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.length > 0)")
    assert page.evaluate("navigator.clipboard.readText()") == first
    page.get_by_role("button", name=re.compile("Generate")).click()
    assert page.get_by_label("Password", exact=True).input_value() != first
    ui.screenshot("mailbox-form-generated")


def test_generate_password_on_the_admin_form(ui, superadmin):
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/accounts/admins/new/")
    page = ui.page
    page.get_by_role("button", name="Generate").click()
    value = page.get_by_label("Password", exact=True).input_value()
    assert GENERATED.match(value), value
    assert page.get_by_label("Password (again)").input_value() == value
    assert value in page.locator("main").inner_text()


def test_forms_work_without_javascript(browser, live_server, admin_a, domain_a):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(admin_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/mailboxes/new/")
    assert not page.get_by_role("button", name=re.compile("Generate")).is_visible()
    page.get_by_label("Local part").fill("plain")
    page.get_by_label("Password", exact=True).fill("Lantern-Quartz-Meadow-47")
    page.get_by_label("Password (again)").fill("Lantern-Quartz-Meadow-47")
    page.get_by_label("Send the welcome e-mail").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Create mailbox").click()
    assert "plain@alpha.example" in page.locator("main .alert").first.inner_text()
    page.goto(live_server.url + "/mailboxes/?q=plain")
    assert page.locator("main table tbody tr").count() == 1
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(
            path=ui_screenshot_path(f"final-nojs-mailbox-search-{width}"), full_page=True
        )
    context.close()


def test_detail_and_confirmation_pages(ui, superadmin, admin_a, domain_a, domain_b):
    make_mailbox(domain_a, "anna", name="Anna Example")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    ui.login(superadmin.username, PASSWORD)
    pages = {
        "domain-detail": "/domains/alpha.example/",
        "domain-edit": "/domains/alpha.example/edit/",
        "domain-purge": "/domains/alpha.example/purge/",
        "mailbox-detail": "/mailboxes/anna@alpha.example/",
        "mailbox-edit": "/mailboxes/anna@alpha.example/edit/",
        "mailbox-password": "/mailboxes/anna@alpha.example/password/",
        "mailbox-forwarding": "/mailboxes/anna@alpha.example/forwarding/",
        "mailbox-purge": "/mailboxes/anna@alpha.example/purge/",
        "alias-edit": "/aliases/sales@alpha.example/",
        "alias-delete": "/aliases/sales@alpha.example/delete/",
        "aliasdomain-create": "/domains/alias-domains/new/",
        "admin-detail": "/accounts/admins/admin@alpha.example/",
        "admin-edit": "/accounts/admins/admin@alpha.example/edit/",
        "admin-delete": "/accounts/admins/admin@alpha.example/delete/",
        "password-change": "/accounts/password/",
    }
    for name, path in pages.items():
        ui.goto(path)
        assert ui.page.locator("main h1").count() == 1, name
        ui.check_page(name)
        ui.screenshot(name)
