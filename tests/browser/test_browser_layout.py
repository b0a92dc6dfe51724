"""The page frame in a real browser: role navigation, the domain switcher, skip link, focus."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_domain, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _menu(ui):
    return ui.page.get_by_role("navigation", name="Main")


def _menu_links(ui) -> list[str]:
    return [text.strip() for text in _menu(ui).get_by_role("link").all_inner_texts()]


def test_navigation_follows_the_role(ui, new_ui, superadmin, admin_a, domain_a):
    make_mailbox(domain_a, "anna")
    ui.login(superadmin.username, PASSWORD)
    assert _menu_links(ui)[:7] == [
        "ViMbAdmin",
        "Domains",
        "Mailboxes",
        "Aliases",
        "Alias domains",
        "Admins",
        "Log",
    ]

    domain_admin = new_ui()
    domain_admin.login(admin_a.username, PASSWORD)
    links = _menu_links(domain_admin)
    assert "Admins" not in links
    assert {"Domains", "Mailboxes", "Aliases", "Alias domains", "Log"} <= set(links)

    owner = new_ui()
    owner.goto("/me/login/")
    assert owner.page.get_by_role("navigation", name="Main").count() == 0
    owner.page.get_by_label("E-mail address").fill("anna@alpha.example")
    owner.page.get_by_label("Password").fill(PASSWORD)
    owner.submit("Log in")
    assert _menu_links(owner) == ["ViMbAdmin", "My mailbox"]
    assert _menu(owner).get_by_role("button", name="Log out").is_visible()

    anonymous = new_ui()
    anonymous.goto("/accounts/login/")
    assert anonymous.page.get_by_role("navigation", name="Main").count() == 0
    assert anonymous.page.get_by_text("ViMbAdmin").first.is_visible()


def test_domain_switcher_filters_the_lists_and_can_be_cleared(ui, superadmin, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    make_mailbox(domain_b, "bert")
    ui.login(superadmin.username, PASSWORD)
    page = ui.page
    ui.goto("/domains/")
    switcher = page.get_by_role("search", name="Domain filter")
    switcher.get_by_label("Domain").select_option("beta.example")
    with page.expect_navigation():
        switcher.get_by_role("button", name="Filter").click()
    assert ui.path().startswith("/mailboxes/")
    table = page.locator("main table tbody")
    assert "bert@beta.example" in table.inner_text()
    assert "anna@alpha.example" not in table.inner_text()

    # Sticky: the alias list and the pages without their own filter keep the selection.
    ui.goto("/domains/new/")
    switcher = page.get_by_role("search", name="Domain filter")
    assert switcher.get_by_label("Domain").input_value() == "beta.example"
    ui.check_page("domain form with a selected domain")
    ui.screenshot("switcher-selected")
    with page.expect_navigation():
        switcher.get_by_role("link", name="Stop filtering by beta.example").click()
    assert "anna@alpha.example" in page.locator("main table tbody").inner_text()
    ui.goto("/domains/new/")
    switcher = page.get_by_role("search", name="Domain filter")
    assert switcher.get_by_label("Domain").input_value() == ""
    assert switcher.get_by_role("link").count() == 0


def test_domain_switcher_is_a_text_field_for_many_domains(ui, monkeypatch, superadmin):
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 2)
    for name in ("one.example", "two.example", "three.example"):
        make_domain(name)
    make_mailbox(make_domain("bücher.example"), "dora")
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/")
    switcher = ui.page.get_by_role("search", name="Domain filter")
    field = switcher.get_by_role("combobox", name="Domain")
    # What is typed brings the matching domains as suggestions (/domains/suggest/).
    field.fill("bü")
    options = ui.page.locator("#nav-domain-suggestions option")
    expect(options).to_have_count(1)
    assert options.get_attribute("value") == "bücher.example"
    field.fill("Bücher.example")
    with ui.page.expect_navigation():
        field.press("Enter")
    assert "dora@bücher.example" in ui.page.locator("main table tbody").inner_text()
    ui.goto("/domains/new/")
    switcher = ui.page.get_by_role("search", name="Domain filter")
    assert switcher.get_by_role("combobox", name="Domain").input_value() == "bücher.example"
    assert switcher.get_by_role("link", name="Stop filtering by bücher.example").is_visible()


def test_skip_link_and_visible_focus(ui, superadmin):
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/domains/")
    page = ui.page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[1] == "solid" and focused[2] == "3px", focused


def test_empty_lists_offer_the_next_step(ui, admin_a, domain_a):
    ui.login(admin_a.username, PASSWORD)
    page = ui.page
    ui.nav("Mailboxes")
    empty = page.locator("main .empty-state")
    assert "No mailboxes" in empty.inner_text()
    ui.check_page("empty mailbox list")
    ui.screenshot("mailbox-list-empty")
    with page.expect_navigation():
        empty.get_by_role("link", name="Create the first one").click()
    assert ui.path() == "/mailboxes/new/"

    ui.nav("Domains")
    assert page.locator("main .empty-state").count() == 0
    with page.expect_navigation():
        page.get_by_role("searchbox").first.fill("nothing-like-this")
        page.keyboard.press("Enter")
    empty = page.locator("main .empty-state")
    assert empty.get_by_role("link", name="Create the first one").count() == 0
    with page.expect_navigation():
        empty.get_by_role("link", name="Clear the search and show everything").click()
    assert "alpha.example" in page.locator("main table tbody").inner_text()


def test_keyboard_only_login_and_menu(ui, superadmin):
    ui.goto("/accounts/login/")
    keyboard = ui.page.keyboard
    ui.page.get_by_label("E-mail address").focus()
    keyboard.type(superadmin.username)
    keyboard.press("Tab")
    keyboard.type(PASSWORD)
    with ui.page.expect_navigation():
        keyboard.press("Enter")
    assert ui.path() == "/domains/"
    # Skip link, brand, Domains, Mailboxes; Enter follows the link.
    for _ in range(4):
        keyboard.press("Tab")
    assert ui.page.evaluate("document.activeElement.textContent.trim()") == "Mailboxes"
    with ui.page.expect_navigation():
        keyboard.press("Enter")
    assert ui.path().startswith("/mailboxes/")
