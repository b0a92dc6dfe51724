"""First-hour review, from the browser: a generated password survives an error (F8), the
destination picker suggests the user's addresses (F24), dates follow the browser's zone (F15)."""

from __future__ import annotations

import pytest

from aliases.models import Alias
from tests.factories import PASSWORD, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_generated_password_stays_after_another_fields_error(ui, admin_a, domain_a):
    make_mailbox(domain_a, "anna")
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/new/")
    page = ui.page
    # The rules are on the page before anything is typed.
    assert page.get_by_text("Your password must contain at least 12 characters.").is_visible()
    page.get_by_role("button", name="Generate and fill in").click()
    generated = page.locator("#id_password").input_value()
    assert len(generated) >= 12
    page.locator("main").get_by_label("Local part").fill("anna")  # taken
    ui.submit("Create mailbox")
    assert page.get_by_text("A mailbox with this address already exists.").is_visible()
    assert page.locator("#id_password").input_value() == generated
    assert page.locator("#id_password_confirm").input_value() == generated
    page.locator("main").get_by_label("Local part").fill("anna2")
    ui.submit("Create mailbox")
    assert ui.path() == "/mailboxes/anna2@alpha.example/"


def test_destination_picker_suggests_and_adds_addresses(ui, admin_a, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    make_mailbox(domain_b, "annette")  # another admin's: never suggested
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/aliases/new/")
    page = ui.page
    page.locator("main").get_by_label("Local part").fill("team")
    picker = page.get_by_label("Add a destination")
    picker.fill("an")
    options = page.locator("#destination-suggestions option")
    options.first.wait_for(state="attached")
    assert options.evaluate_all("els => els.map(e => e.value)") == ["anna@alpha.example"]
    picker.fill("anna@alpha.example")
    page.get_by_role("button", name="Add", exact=True).click()
    picker.fill("x@elsewhere.example")
    picker.press("Enter")
    assert page.locator("#id_targets").input_value() == "anna@alpha.example\nx@elsewhere.example"
    ui.check_page("alias form with the destination picker")
    ui.submit("Create alias")
    assert Alias.objects.get(address="team@alpha.example").targets == [
        "anna@alpha.example",
        "x@elsewhere.example",
    ]
    assert not ui.csp_violations()


def test_the_browser_reports_its_time_zone(ui, admin_a):
    ui.login(admin_a.username, PASSWORD)
    zone = ui.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    ui.goto("/domains/")
    assert f"Times in {zone}" in ui.page.locator("footer").inner_text()
