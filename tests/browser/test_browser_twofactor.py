"""Second factors in Debian's chromium: enrol from the page, log in with a code, recovery codes,
and the policy that forces enrolment right after the password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest

from tests.factories import PASSWORD, make_admin, make_domain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rfc6238(secret: str, at: float, *, offset: int = 0) -> str:
    """The code an authenticator app shows (SHA-1, 6 digits, 30 s), computed independently."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30) + offset), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start : start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def fresh_period() -> float:
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return time.time()


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
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period(), offset=-1))
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
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period()))
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
    page.locator("input[name=code]").fill(rfc6238(secret, fresh_period()))
    ui.submit("Set up")
    assert len(read_recovery_codes(ui)) == 10
    ui.follow(page.get_by_role("link", name="Continue"))
    assert ui.path() == "/domains/"
