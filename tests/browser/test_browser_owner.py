"""An owner on a phone: finds the owner login from the admin login, sets forwarding and an
automatic reply (with its preview) on a 390 px wide screen."""

from __future__ import annotations

import pytest

from aliases.models import Alias
from pfa.models import Vacation
from tests.browser.conftest import NARROW
from tests.factories import PASSWORD, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(ui) -> None:
    width = ui.page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{ui.path()} is {width}px wide"


def test_owner_finds_the_page_and_sets_forwarding_and_vacation_on_a_phone(ui, domain_a, settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    make_mailbox(domain_a, "anna", name="Anna Owner")
    page = ui.page
    page.set_viewport_size(NARROW)

    # The front door and the admin login both lead to the owner login.
    ui.goto("/")
    ui.check_page("landing")
    no_sideways_scroll(ui)
    ui.goto("/accounts/login/")
    ui.follow(page.get_by_role("link", name="Sign in here"))
    assert ui.path() == "/me/login/"
    page.get_by_label("E-mail address").fill("anna@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    ui.submit("Log in")
    assert ui.path() == "/me/"
    ui.check_page("owner overview")
    no_sideways_scroll(ui)

    # Forwarding with a copy kept.
    ui.follow(page.get_by_role("link", name="Change forwarding"))
    ui.check_page("owner forwarding")
    no_sideways_scroll(ui)
    page.get_by_label("Forward to").fill("boss@elsewhere.example")
    page.get_by_label("Keep a copy in the mailbox").check()
    ui.submit("Save forwarding")
    assert ui.path() == "/me/"
    assert page.get_by_text("boss@elsewhere.example").is_visible()
    assert Alias.objects.get(pk="anna@alpha.example").goto == (
        "anna@alpha.example,boss@elsewhere.example"
    )

    # Automatic reply: preview first, then save.
    ui.follow(page.get_by_role("link", name="Set up automatic reply"))
    ui.check_page("owner vacation")
    no_sideways_scroll(ui)
    page.get_by_label("Subject").fill("Away until Monday")
    page.get_by_label("Message").fill("I am away and read no mail.\nUrgent: boss@elsewhere.example")
    page.get_by_label("Time zone of these dates").select_option("Europe/Berlin")
    page.get_by_label("Reply", exact=True).select_option("86400")
    ui.submit("Preview")
    preview = page.get_by_role("region", name="Preview of the reply")
    assert preview.is_visible()
    assert "Anna Owner" in preview.inner_text()
    assert "I am away and read no mail." in preview.inner_text()
    no_sideways_scroll(ui)
    assert not Vacation.objects.filter(email="anna@alpha.example").exists()
    ui.submit("Save")
    assert ui.path() == "/me/"
    assert page.get_by_text("Automatic reply is on").is_visible()
    row = Vacation.objects.get(email="anna@alpha.example")
    assert row.subject == "Away until Monday"
    assert row.interval_time == 86400
    assert Alias.objects.get(pk="anna@alpha.example").goto == (
        "anna@alpha.example,boss@elsewhere.example,anna#alpha.example@autoreply.example.org"
    )
