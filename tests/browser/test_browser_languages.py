"""Languages in the browser: the footer's switcher changes the language and it stays after a
reload and in another browser of the same owner; a German browser gets German pages."""

from __future__ import annotations

import pytest

from accounts.languages import MAILBOX, language_preference
from tests.factories import PASSWORD, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def owner_login(ui, address: str, *, label: str, password_label: str, button: str) -> None:
    ui.goto("/me/login/")
    ui.page.get_by_label(label).fill(address)
    ui.page.get_by_label(password_label).fill(PASSWORD)
    ui.submit(button)
    assert ui.path() == "/me/"


def test_footer_switch_persists_after_reload_and_in_another_browser(ui, new_ui, domain_a):
    make_mailbox(domain_a, "anna", name="Anna Owner")
    page = ui.page
    owner_login(
        ui, "anna@alpha.example", label="E-mail address", password_label="Password", button="Log in"
    )
    assert page.get_by_role("link", name="Change forwarding").is_visible()

    footer = page.locator("footer")
    footer.get_by_label("Language").select_option("de")
    ui.follow(footer.get_by_role("button", name="Switch"))
    assert ui.path() == "/me/"
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("link", name="Weiterleitung ändern").is_visible()
    assert footer.get_by_label("Sprache").input_value() == "de"
    ui.check_page("owner overview in German")
    ui.screenshot("owner-overview-de")

    page.reload()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("link", name="Weiterleitung ändern").is_visible()
    assert language_preference(MAILBOX, "anna@alpha.example") == "de"

    # Another browser (English, no cookie): German from the owner's login on.
    other = new_ui()
    other.goto("/me/login/")
    assert other.page.locator("html").get_attribute("lang") == "en"
    owner_login(
        other,
        "anna@alpha.example",
        label="E-mail address",
        password_label="Password",
        button="Log in",
    )
    assert other.page.locator("html").get_attribute("lang") == "de"
    assert other.page.get_by_role("link", name="Weiterleitung ändern").is_visible()

    # Switching back to English works the same way.
    footer = page.locator("footer")
    footer.get_by_label("Sprache").select_option("en")
    ui.follow(footer.get_by_role("button", name="Wechseln"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Change forwarding").is_visible()


def test_a_german_browser_gets_german_pages(browser, live_server, domain_a):
    make_mailbox(domain_a, "anna")
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/me/login/")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_role("heading", name="Bei Ihrem Postfach anmelden").is_visible()
        page.get_by_label("E-Mail-Adresse").fill("anna@alpha.example")
        page.get_by_label("Passwort", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Anmelden").click()
        assert page.url.endswith("/me/")
        assert page.get_by_role("link", name="Weiterleitung ändern").is_visible()
    finally:
        context.close()
