"""The new-mailbox form: the default quota follows the chosen domain (report F7)."""

from __future__ import annotations

import pytest

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_default_quota_follows_the_chosen_domain(ui):
    shop = make_domain("example.com", default_mailbox_quota=1024)
    books = make_domain("bücher.example", default_mailbox_quota=500)
    admin = make_admin("admin@example.com", domains=[shop, books])
    ui.login(admin.username, PASSWORD)
    ui.goto("/mailboxes/new/")
    page = ui.page
    domain = page.locator("main").get_by_label("Domain", exact=True)
    quota = page.locator("#id_quota")
    # The first domain as people read them (bücher before example), with its default quota.
    assert domain.input_value() == "xn--bcher-kva.example"
    assert quota.input_value() == "500"

    domain.select_option(label="example.com")
    assert quota.input_value() == "1024"
    domain.select_option(label="bücher.example")
    assert quota.input_value() == "500"
    ui.check_page("new mailbox form")

    # A quota the user typed stays when the domain changes.
    quota.fill("200")
    domain.select_option(label="bücher.example")
    assert quota.input_value() == "200"

    quota.fill("500")
    domain.select_option(label="example.com")
    domain.select_option(label="bücher.example")
    assert quota.input_value() == "500"
    page.locator("main").get_by_label("Local part").fill("carla")
    page.locator("#id_password").fill("a-Long-enough-pass-19")
    page.locator("#id_password_confirm").fill("a-Long-enough-pass-19")
    ui.submit("Create mailbox")
    assert Mailbox.objects.get(username="carla@xn--bcher-kva.example").quota == 500 * 1024000


def test_purge_page_lists_aliases_still_delivering(ui, admin_a, domain_a):
    make_mailbox(domain_a, "anna")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/anna@alpha.example/purge/")
    warning = ui.page.get_by_role("region", name="This alias still delivers to the address")
    assert warning.is_visible()
    ui.check_page("mailbox purge with a delivering alias")
    ui.follow(warning.get_by_role("link", name="sales@alpha.example"))
    assert ui.path() == "/aliases/sales@alpha.example/"
