"""Second factors in Debian's chromium: enrol from the page, log in with a code, recovery codes,
and the policy that forces enrolment right after the password."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_admin, make_domain
from tests.support.totp import fresh_period, rfc6238

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def read_secret(ui) -> str:
    return ui.page.locator("code[data-secret]").inner_text().replace(" ", "")


def read_recovery_codes(ui) -> list[str]:
    return [text.strip() for text in ui.page.locator("ul.recovery-codes li").all_inner_texts()]


def log_out(ui) -> None:
    ui.submit("Log out")


def test_admin_enrols_then_logs_in_with_a_code_and_a_recovery_code_once(ui):
    shop = make_domain("shop.example")
    admin = make_admin("boss@shop.example", domains=[shop])
    page = ui.page
    ui.login(admin.username, PASSWORD)
    ui.goto("/2fa/")
    assert page.locator("img[src^='data:image/svg+xml']").is_visible()
    ui.check_page("second factor enrolment")
    ui.screenshot("twofactor-enrol")
    secret = read_secret(ui)
    # The previous period's code: the current one stays unused for the login below.
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period(5.0), offset=-1))
    ui.submit("Set up")
    codes = read_recovery_codes(ui)
    assert len(codes) == 10
    ui.check_page("recovery codes")
    ui.follow(page.get_by_role("link", name="Continue"))
    assert page.locator("[data-state=enabled]").is_visible()
    log_out(ui)

    ui.login(admin.username, PASSWORD)
    assert ui.path() == "/2fa/code/"
    ui.check_page("code step")
    ui.screenshot("twofactor-code")
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period(5.0)))
    ui.submit("Verify")
    assert ui.path() == "/domains/"
    log_out(ui)

    for attempt in range(2):
        ui.login(admin.username, PASSWORD)
        page.locator("input[name=code]").fill(codes[0])
        ui.submit("Verify")
        if attempt == 0:
            assert ui.path() == "/domains/"
            log_out(ui)
        else:
            assert ui.path() == "/2fa/code/"
            assert "The code is not correct." in page.locator("main").inner_text()


def test_policy_forces_a_domain_admin_to_enrol_right_after_the_password(ui, superadmin):
    shop = make_domain("shop.example")
    admin = make_admin("boss@shop.example", domains=[shop])
    page = ui.page
    ui.login(superadmin.username, PASSWORD)
    ui.goto("/2fa/policy/")
    ui.check_page("second-factor policy")
    page.get_by_label("Domain admins").check()
    ui.submit("Save")
    assert "Saved" in page.locator("main").inner_text()
    log_out(ui)

    ui.login(admin.username, PASSWORD)
    assert ui.path() == "/2fa/enrol/"
    ui.check_page("forced enrolment")
    ui.screenshot("twofactor-forced-enrolment")
    ui.goto("/domains/")
    assert ui.path().startswith("/accounts/login/")
    ui.goto("/2fa/enrol/")
    secret = read_secret(ui)
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period(5.0)))
    ui.submit("Set up")
    assert len(read_recovery_codes(ui)) == 10
    ui.follow(page.get_by_role("link", name="Continue"))
    assert ui.path() == "/domains/"


def test_a_policy_change_takes_a_logged_in_domain_admin_to_enrolment(ui, new_ui, superadmin):
    shop = make_domain("shop.example")
    admin = make_admin("boss@shop.example", domains=[shop])
    ui.login(admin.username, PASSWORD)
    assert ui.path() == "/domains/"

    root = new_ui()
    root.login(superadmin.username, PASSWORD)
    root.goto("/2fa/policy/")
    root.page.get_by_label("Domain admins").check()
    root.submit("Save")
    assert "taken to set one up on their next page" in root.page.locator("main").inner_text()

    # The domain admin's very next page is the enrolment, saying why.
    ui.goto("/domains/")
    assert ui.path() == "/2fa/enrol/?next=%2Fdomains%2F"
    assert "A second factor is now required" in ui.page.locator("main").inner_text()
    ui.check_page("enrolment after a policy change")
    secret = read_secret(ui)
    ui.page.locator("input[name=code]").fill(rfc6238(secret, fresh_period(5.0)))
    ui.submit("Set up")
    assert len(read_recovery_codes(ui)) == 10
    ui.follow(ui.page.get_by_role("link", name="Continue"))
    assert ui.path() == "/domains/"
