"""Past a select's size, the create forms still show the typed domain's usage (issue 19).

A domain admin with more domains than accounts.scoping.LITERAL_DOMAINS_LIMIT (lowered here, so
three domains do) types the domain: js/vimbadmin.js suggests the admin's domains, asks the
scoped room endpoint about the one typed, and shows its usage, or the reason and a disabled
create button when it is full.
"""

from __future__ import annotations

import pytest

from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL = (
    "The domain has reached its limit of 1 mailbox: ask your provider (a super admin) "
    "to raise it, or purge a mailbox."
)
ALIASES_FULL = (
    "The domain has reached its limit of 1 alias: ask your provider (a super admin) "
    "to raise it, or delete an alias."
)


@pytest.fixture
def many_domains_admin(monkeypatch):
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 2)
    shop = make_domain("shop.example", mailboxes=3, aliases=1, default_mailbox_quota=1024)
    books = make_domain("bücher.example", mailboxes=1, default_mailbox_quota=500)
    rooms = make_domain("zimmer.example", mailboxes=5, default_mailbox_quota=300)
    make_mailbox(shop, "anna")
    make_mailbox(books, "dora")
    make_alias(shop, "sales", ["anna@shop.example"])
    make_domain("bürste.example")  # another admin's: never suggested
    return make_admin("admin@shop.example", domains=[shop, books, rooms])


def test_typed_full_domain_disables_create_and_a_domain_with_room_creates(ui, many_domains_admin):
    ui.login(many_domains_admin.username, PASSWORD)
    ui.goto("/mailboxes/?domain=shop.example")  # work in the shop's domain
    ui.goto("/mailboxes/new/")
    page = ui.page
    main = page.locator("main")
    domain = main.get_by_role("combobox", name="Domain", exact=True)
    create = main.get_by_role("button", name="Create mailbox")
    reason = main.get_by_text(FULL)
    assert domain.input_value() == "shop.example"
    assert main.get_by_text("shop.example: 1 of 3 used.").is_visible()
    assert page.locator("#id_quota").input_value() == "1024"

    # The admin's domains are suggested as one types, in Unicode; another admin's are not.
    domain.fill("bü")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#id_domain-suggestions option'),"
        " o => o.value).join() === 'bücher.example'"
    )

    domain.fill("bücher.example")
    reason.wait_for()
    assert create.is_disabled()
    assert create.get_attribute("aria-describedby") == "create-blocked-reason"
    assert main.get_by_text("of 3 used").count() == 0
    assert page.locator("#id_quota").input_value() == "500"
    ui.check_page("new mailbox form, typed full domain")
    ui.screenshot("create-room-full")

    domain.fill("zimmer.example")
    main.get_by_text("zimmer.example: 0 of 5 used.").wait_for()
    assert not reason.is_visible()
    assert create.is_enabled()
    assert create.get_attribute("aria-describedby") is None
    assert page.locator("#id_quota").input_value() == "300"
    main.get_by_label("Local part").fill("emil")
    page.locator("#id_password").fill("a-Long-enough-pass-19")
    page.locator("#id_password_confirm").fill("a-Long-enough-pass-19")
    ui.submit("Create mailbox")
    assert Mailbox.objects.get(username="emil@zimmer.example").quota == 300 * 1024000


def test_new_alias_form_follows_the_typed_domain(ui, many_domains_admin):
    ui.login(many_domains_admin.username, PASSWORD)
    ui.goto("/aliases/new/")
    main = ui.page.locator("main")
    domain = main.get_by_role("combobox", name="Domain", exact=True)
    create = main.get_by_role("button", name="Create alias")
    reason = main.get_by_text(ALIASES_FULL)
    domain.fill("SHOP.example")
    reason.wait_for()
    assert create.is_disabled()
    domain.fill("Zimmer.example")
    reason.wait_for(state="hidden")
    assert create.is_enabled()
    main.get_by_label("Local part").fill("team")
    main.get_by_label("Destinations").fill("x@elsewhere.example")
    ui.submit("Create alias")
    assert Alias.objects.filter(address="team@zimmer.example").exists()
