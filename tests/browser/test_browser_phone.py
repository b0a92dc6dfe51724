"""On a phone the lists show each row's address, state and actions on screen, no sideways
scrolling (every navigation of the browser tests also checks the page width at 360/390 px)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mailboxes.vacation import vacation_set
from tests.factories import PASSWORD, make_alias, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def _on_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


@pytest.mark.parametrize(
    ("path", "address", "actions"),
    [
        ("/mailboxes/", "anna@alpha.example", ("Edit", "Password", "Purge")),
        ("/aliases/", "sales@alpha.example", ("Edit", "Delete")),
        ("/domains/", "alpha.example", ()),
        ("/accounts/admins/", "admin@alpha.example", ()),
    ],
)
def test_lists_show_address_state_and_actions_on_a_phone(
    ui, superadmin, admin_a, domain_a, path, address, actions, settings
):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    long_one = make_mailbox(domain_a, "anna-with-a-rather-long-local-part")
    make_mailbox(domain_a, "anna")
    # The longest address also carries the automatic-reply badge.
    now = timezone.now()
    vacation_set(
        actor=None,
        mailbox=long_one,
        active=True,
        subject="Away",
        body="",
        activefrom=now - datetime.timedelta(days=1),
        activeuntil=now + datetime.timedelta(days=9),
        interval_time=86400,
    )
    make_alias(domain_a, "sales", ["anna@alpha.example", "someone@elsewhere.example"])
    ui.login(superadmin.username, PASSWORD)
    ui.page.set_viewport_size(PHONE)
    ui.goto(path)
    row = ui.page.locator("main table tbody tr").filter(
        has=ui.page.get_by_role("link", name=address, exact=True)
    )
    assert _on_screen(row.get_by_role("link", name=address, exact=True))
    assert _on_screen(row.get_by_text("Active", exact=True))
    assert _on_screen(row.get_by_role(_toggle_role(path), name=f"Deactivate {address}"))
    if path != "/accounts/admins/":
        # The box that picks the row for a bulk action, beside its address.
        assert _on_screen(row.get_by_role("checkbox", name=f"Select {address}", exact=True))
    for action in actions:
        assert _on_screen(row.get_by_role("link", name=f"{action} {address}", exact=True))
    if path == "/mailboxes/":
        badge = ui.page.locator("main table tbody tr .vacation-badge")
        assert badge.count() == 1
        assert badge.inner_text().startswith("Away until ")
        assert _on_screen(badge)
    assert ui.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ui.check_page(f"{path} on a phone")
    if path == "/mailboxes/":
        ui.goto(f"/mailboxes/{long_one.username}/")
        assert _on_screen(ui.page.locator("main .vacation-badge"))
        ui.check_page("a mailbox away, on a phone")


def _toggle_role(path: str) -> str:
    # A domain's deactivation is a link to the page that asks first.
    return "link" if path == "/domains/" else "button"
