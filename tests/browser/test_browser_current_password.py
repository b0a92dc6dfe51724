"""An owner who mistypes the current password and picks a too-short new one learns both at once."""

from __future__ import annotations

import pytest

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_sees_every_password_error_after_one_click(ui, domain_a):
    before = make_mailbox(domain_a, "anna").password
    page = ui.page
    ui.goto("/me/login/")
    page.get_by_label("E-mail address").fill("anna@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    ui.submit("Log in")
    ui.goto("/me/password/")
    page.get_by_label("Current password").fill("Not-My-Password-1")
    page.get_by_label("New password", exact=True).fill("short-1")
    page.get_by_label("New password again").fill("short-1")
    ui.submit("Change password")
    assert ui.path() == "/me/password/"
    assert page.get_by_text("Your current password is wrong.").is_visible()
    assert page.get_by_text(
        "This password is too short. It must contain at least 12 characters."
    ).is_visible()
    # The rules stay on the page; the typed passwords do not come back.
    assert page.get_by_text("Your password must contain at least 12 characters.").is_visible()
    assert page.get_by_label("Current password").input_value() == ""
    assert page.get_by_label("New password", exact=True).input_value() == ""
    ui.check_page("owner password change with two errors")
    assert Mailbox.objects.get(pk="anna@alpha.example").password == before
