"""An invited mailbox in a real browser: the admin ticks "Invite", the owner follows the mailed
link, chooses a password and logs in to the owner page."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK_RE = re.compile(r"https?://[^/\s]+(/me/password-reset/[^/\s]+/[^/\s]+/)")
NEW = "Chosen-In-The-Browser-7"


def test_invite_a_mailbox_owner(ui, admin_a, domain_a):
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/new/")
    page = ui.page
    page.get_by_label("Local part").fill("invited")
    page.get_by_label("Alternative e-mail").fill("invited@home.example")
    page.get_by_label("Invite: mail a link to choose the password").check()
    ui.check_page("new mailbox with invite")
    ui.submit("Create mailbox")
    assert page.get_by_text("A link to choose the password was mailed to").is_visible()

    invite = next(m for m in mail.outbox if m.to == ["invited@home.example"])
    match = LINK_RE.search(invite.body)
    assert match, invite.body

    owner = page.context.browser.new_context()
    try:
        tab = owner.new_page()
        tab.goto(ui.url(match.group(1)))
        tab.get_by_label("New password", exact=True).fill(NEW)
        tab.get_by_label("New password again").fill(NEW)
        with tab.expect_navigation():
            tab.locator("main form button[type=submit]").first.click()
        tab.goto(ui.url("/me/login/"))
        tab.locator("input[name=address]").fill("invited@alpha.example")
        tab.locator("input[name=password]").fill(NEW)
        with tab.expect_navigation():
            tab.locator("main form button[type=submit]").first.click()
        assert tab.url.rstrip("/").endswith("/me")
    finally:
        owner.close()
