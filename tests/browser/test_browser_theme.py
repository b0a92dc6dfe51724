"""Dark mode: the page follows the system's colour scheme, and a toggle remembers the choice."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page_background(ui) -> str:
    return ui.page.evaluate("getComputedStyle(document.body).backgroundColor")


def _is_dark(rgb: str) -> bool:
    red, green, blue = (int(part) for part in rgb.removeprefix("rgb(").rstrip(")").split(",")[:3])
    return red + green + blue < 3 * 64


def test_follows_the_system_colour_scheme(ui, superadmin, domain_a):
    ui.page.emulate_media(color_scheme="dark")
    ui.login(superadmin.username, PASSWORD)
    assert ui.path() == "/domains/"
    assert ui.theme() == "dark"
    assert _is_dark(_page_background(ui))
    toggle = ui.page.get_by_role("button", name="Dark mode")
    assert toggle.get_attribute("aria-pressed") == "true"
    ui.screenshot("domain-list-dark")
    # Without a choice of its own the page follows a change of the system setting at once.
    ui.page.emulate_media(color_scheme="light")
    ui.wait_for_theme("light")
    assert not _is_dark(_page_background(ui))
    assert toggle.get_attribute("aria-pressed") == "false"
    ui.check_page("domain list (both modes)")


def test_toggle_is_remembered_in_this_browser(ui, new_ui, superadmin):
    ui.goto("/accounts/login/")
    assert ui.theme() == "light"
    toggle = ui.page.get_by_role("button", name="Dark mode")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert ui.theme() == "dark"
    assert toggle.get_attribute("aria-pressed") == "true"
    assert _is_dark(_page_background(ui))

    # Remembered across pages and logins, and above the system's (light) preference.
    ui.login(superadmin.username, PASSWORD)
    assert ui.path() == "/domains/"
    assert ui.theme() == "dark"
    menu_toggle = ui.page.get_by_role("button", name="Dark mode")
    assert menu_toggle.get_attribute("aria-pressed") == "true"
    ui.page.reload()
    assert ui.theme() == "dark"
    ui.check_accessibility("domain list, dark by choice")
    ui.screenshot("domain-list-dark-by-choice")

    # Back to light, also remembered, even when the system now prefers dark.
    ui.page.get_by_role("button", name="Dark mode").click()
    assert ui.theme() == "light"
    ui.page.emulate_media(color_scheme="dark")
    ui.page.reload()
    assert ui.theme() == "light"

    # Another browser has its own setting.
    other = new_ui()
    other.page.emulate_media(color_scheme="dark")
    other.goto("/accounts/login/")
    assert other.theme() == "dark"
    assert ui.csp_violations() == [] and other.csp_violations() == []
