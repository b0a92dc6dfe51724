"""End-to-end flows in Debian's chromium, as people use the app: clicking through real pages."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from aliases.models import Alias
from domains.models import Domain, DomainAdmin
from mail.email import wait_for_background
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_admin, make_domain, make_mailbox

MAILBOX_HINT = ": ask your provider (a super admin) to raise it, or purge a mailbox."


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Lantern-Quartz-Meadow-47"


def _row(ui, text: str):
    return ui.page.locator("main table tbody tr").filter(has_text=text)


def _alert(ui):
    return ui.page.locator("main .alert").first


def test_super_admin_creates_a_domain_and_its_admin(ui, superadmin):
    ui.login(superadmin.username, PASSWORD)
    assert ui.path() == "/domains/"

    page = ui.page
    ui.nav("Domains")
    ui.follow(page.get_by_role("link", name="New domain"))
    page.get_by_label("Domain", exact=True).fill("shop.example")
    page.get_by_label("Description").fill("The shop")
    page.get_by_label("Max mailboxes").fill("3")
    page.get_by_label("Max aliases").fill("5")
    page.get_by_label(re.compile("Create the RFC 2142 aliases")).uncheck()
    ui.check_page("domain form")
    ui.screenshot("domain-form")
    ui.submit("Create domain")
    assert "shop.example" in _alert(ui).inner_text()
    assert Domain.objects.filter(domain="shop.example", mailboxes=3, aliases=5).exists()

    ui.nav("Admins")
    ui.follow(page.get_by_role("link", name="New admin"))
    page.get_by_label("E-mail address").fill("boss@shop.example")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("group", name="Domains").get_by_label("shop.example").check()
    ui.check_page("admin form")
    ui.screenshot("admin-form")
    ui.submit("Create")
    assert DomainAdmin.objects.filter(username="boss@shop.example", domain="shop.example").exists()

    ui.nav("Admins")
    assert _row(ui, "boss@shop.example").count() == 1
    ui.check_page("admin list")
    ui.screenshot("admin-list")

    ui.submit("Log out")
    assert ui.path().startswith("/accounts/login/")
    ui.goto("/domains/")
    assert ui.path().startswith("/accounts/login/")
    ui.screenshot("logged-out")


def test_domain_admin_manages_mailboxes_and_aliases_within_limits(ui):
    shop = make_domain("shop.example", mailboxes=2, aliases=1)
    make_admin("boss@shop.example", domains=[shop])
    ui.login("boss@shop.example", PASSWORD)
    page = ui.page
    menu = page.get_by_role("navigation", name="Main")
    assert menu.get_by_role("link", name="Admins", exact=True).count() == 0

    # A mailbox.
    ui.nav("Mailboxes")
    ui.follow(page.get_by_role("link", name=re.compile("New mailbox|create the first")).first)
    page.get_by_label("Local part").fill("info")
    page.get_by_label("Name").fill("Info desk")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    page.get_by_label("Send the welcome e-mail").uncheck()
    ui.check_page("mailbox form")
    ui.screenshot("mailbox-form")
    ui.submit("Create mailbox")
    assert "info@shop.example" in _alert(ui).inner_text()
    assert Mailbox.objects.get(username="info@shop.example").active

    # An alias.
    ui.nav("Aliases")
    ui.follow(page.get_by_role("link", name=re.compile("New alias|create the first")).first)
    page.get_by_label("Local part").fill("sales")
    page.get_by_label("Destinations").fill("info@shop.example\nboss@elsewhere.example")
    ui.check_page("alias form")
    ui.screenshot("alias-form")
    ui.submit("Create alias")
    alias = Alias.objects.get(address="sales@shop.example")
    assert set(alias.targets) == {"info@shop.example", "boss@elsewhere.example"}

    # Toggle both off and on again from the lists.
    ui.nav("Aliases")
    ui.follow(
        _row(ui, "sales@shop.example").get_by_role("button", name="Deactivate sales@shop.example")
    )
    assert "deactivated" in _alert(ui).inner_text()
    assert not Alias.objects.get(address="sales@shop.example").active
    ui.follow(
        _row(ui, "sales@shop.example").get_by_role("button", name="Activate sales@shop.example")
    )
    assert Alias.objects.get(address="sales@shop.example").active
    ui.check_page("alias list")
    ui.screenshot("alias-list")

    ui.nav("Mailboxes")
    ui.follow(
        _row(ui, "info@shop.example").get_by_role("button", name="Deactivate info@shop.example")
    )
    assert "deactivated" in _alert(ui).inner_text()
    assert not Mailbox.objects.get(username="info@shop.example").active
    ui.follow(
        _row(ui, "info@shop.example").get_by_role("button", name="Activate info@shop.example")
    )
    assert Mailbox.objects.get(username="info@shop.example").active

    # The alias limit (1) is reached: the list says so before any form (F9), and the form
    # disables its button with the same message (the server's refusal of a sent form:
    # tests/test_create_room.py, tests/test_friction_forms.py).
    ui.nav("Aliases")
    assert page.get_by_text("Aliases in shop.example: 1 / 1").is_visible()
    button = page.get_by_role("button", name="New alias")
    assert button.is_disabled()
    assert page.get_by_text(re.compile("limit of 1 alias: ask your provider")).first.is_visible()
    ui.goto("/aliases/new/")
    assert page.get_by_text(re.compile("limit of 1 alias")).first.is_visible()
    create = page.get_by_role("button", name="Create alias")
    assert create.is_disabled()
    assert create.get_attribute("aria-describedby") == "create-blocked-reason"

    # The mailbox limit (2): the second mailbox is fine, then the button is disabled.
    ui.nav("Mailboxes")
    assert page.get_by_text("Mailboxes in shop.example: 1 / 2").is_visible()
    ui.follow(page.get_by_role("link", name="New mailbox").first)
    page.get_by_label("Local part").fill("team")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    page.get_by_label("Send the welcome e-mail").uncheck()
    ui.submit("Create mailbox")
    assert Mailbox.objects.filter(username="team@shop.example").exists()
    ui.nav("Mailboxes")
    assert page.get_by_role("button", name="New mailbox").is_disabled()
    ui.goto("/mailboxes/new/")
    limit = page.get_by_text("The domain has reached its limit of 2 mailboxes" + MAILBOX_HINT)
    assert limit.first.is_visible()
    ui.check_page("mailbox form with limit error")
    ui.screenshot("mailbox-limit")


def test_domain_admin_searches_and_pages_through_hundreds_of_mailboxes(ui):
    shop = make_domain("shop.example")
    make_domain("other.example")
    make_admin("boss@shop.example", domains=[shop])
    for number in range(260):
        make_mailbox(shop, f"user{number:03d}", name=f"User {number:03d}")
    make_mailbox(shop, "needle", name="Nadia Needle")
    ui.login("boss@shop.example", PASSWORD)
    page = ui.page

    ui.nav("Mailboxes")
    table_rows = page.locator("main table tbody tr")
    assert table_rows.count() >= 20
    assert "other.example" not in page.locator("main").inner_text()
    ui.check_page("mailbox list")
    ui.screenshot("mailbox-list")

    # Paging: next page, then the last page.
    pages = page.get_by_role("navigation", name=re.compile("Table navigation|Pages", re.I))
    first_page_text = table_rows.first.inner_text()
    ui.follow(pages.get_by_role("link", name=re.compile("next", re.I)))
    assert "page=2" in page.url
    assert table_rows.first.inner_text() != first_page_text

    # Search as you type: the form submits itself shortly after typing stops.
    search = page.get_by_role("searchbox", name="Search")
    with page.expect_navigation():
        search.press_sequentially("needl", delay=30)
    assert table_rows.count() == 1
    assert "needle@shop.example" in table_rows.first.inner_text()
    assert "page=2" not in page.url
    assert search.input_value() == "needl"
    ui.check_page("mailbox search")
    ui.screenshot("mailbox-search")


def test_mailbox_owner_changes_password_and_logs_in_with_it(ui):
    shop = make_domain("shop.example")
    make_mailbox(shop, "anna", name="Anna Example")
    ui.goto("/me/login/")
    page = ui.page
    ui.check_page("self-service login")
    ui.screenshot("me-login")
    page.get_by_label("E-mail address").fill("anna@shop.example")
    page.get_by_label("Password").fill(PASSWORD)
    ui.submit("Log in")
    assert ui.path() == "/me/"
    assert page.get_by_role("heading", name="anna@shop.example").is_visible()
    menu = page.get_by_role("navigation", name="Main")
    assert menu.get_by_role("link", name="Domains", exact=True).count() == 0
    ui.check_page("self-service overview")
    ui.screenshot("me-overview")

    ui.follow(page.get_by_role("link", name="Change password").first)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    ui.check_page("self-service password form")
    ui.screenshot("me-password")
    ui.submit(re.compile("Change password|Save"))
    assert "password" in _alert(ui).inner_text().lower()

    ui.submit("Log out")
    page.get_by_label("E-mail address").fill("anna@shop.example")
    page.get_by_label("Password").fill(PASSWORD)
    ui.submit("Log in")
    assert ui.path().startswith("/me/login/")
    page.get_by_label("E-mail address").fill("anna@shop.example")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    ui.submit("Log in")
    assert ui.path() == "/me/"
    ui.screenshot("me-after-password-change")


def test_admin_resets_a_forgotten_password_from_the_emailed_link(ui, settings):
    # Mailed links for super admins are opt-in, and only to an address outside hosted domains.
    settings.VIMBADMIN_SUPERADMIN_MAIL_RESET = True
    make_admin("boss@admins.example", superadmin=True)
    ui.goto("/accounts/login/")
    page = ui.page
    ui.follow(page.get_by_role("link", name=re.compile("Forgot your password")))
    page.get_by_label("E-mail address").fill("boss@admins.example")
    ui.check_page("password reset request")
    ui.submit("Send the link")
    # The link leaves through the background sender, after the answer.
    assert wait_for_background(30)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@admins.example"]
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", message.body)
    assert link is not None, message.body

    ui.goto(link.group(1))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again)").fill(NEW_PASSWORD)
    ui.check_page("password reset form")
    ui.submit()
    ui.screenshot("password-reset-complete")

    ui.login("boss@admins.example", NEW_PASSWORD)
    assert ui.path() == "/domains/"
    ui.goto(link.group(1))
    assert page.get_by_text(
        re.compile("invalid|expired|already been used", re.I)
    ).first.is_visible()
