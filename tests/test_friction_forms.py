"""Forms report every problem in one round, keep a password they accepted, show the rules first
(first-hour review, F8)."""

from __future__ import annotations

import re

import pytest

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox, owner_client_for
from tests.support.pages import input_value, page
from tests.test_limits import set_limits as limit

pytestmark = pytest.mark.django_db


def test_quota_and_password_errors_come_in_one_round(client_a, domain_a):
    limit(domain_a, maxquota=100)
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "carla",
            "password": "short",
            "password_confirm": "short",
            "quota": "500",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "The quota is too high" in errors["quota"][0]
    assert any("too short" in message for message in errors["password"])
    # A refused password is not shown again.
    assert input_value(response, "password") is None
    assert not Mailbox.objects.filter(username="carla@alpha.example").exists()


def test_limit_taken_address_and_password_in_one_round(client_a, domain_a):
    make_mailbox(domain_a, "anna")
    limit(domain_a, mailboxes=1)
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "anna",
            "password": "short",
            "password_confirm": "short",
            "quota": "",
        },
    )
    errors = response.context["form"].errors
    assert errors["domain"] == [
        "The domain has reached its limit of 1 mailbox: ask your provider (a super admin) "
        "to raise it, or purge a mailbox."
    ]
    assert errors["local_part"] == ["A mailbox with this address already exists."]
    assert any("too short" in message for message in errors["password"])


def test_an_accepted_generated_password_stays_in_the_fields(client_a, domain_a):
    make_mailbox(domain_a, "anna")
    generated = "kQ7-vTr9-Xw2p-Lm4z-Hc8d"
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "anna",
            "password": generated,
            "password_confirm": generated,
            "quota": "",
        },
    )
    assert response.context["form"].errors["local_part"]
    assert input_value(response, "password") == generated
    assert input_value(response, "password_confirm") == generated
    # Fixing the address is the only round left.
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "anna2",
            "password": generated,
            "password_confirm": generated,
            "quota": "",
        },
    )
    assert response.status_code == 302


def test_mismatched_passwords_are_emptied(client_a, domain_a):
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "bob",
            "password": PASSWORD,
            "password_confirm": PASSWORD + "x",
            "quota": "",
        },
    )
    assert response.context["form"].errors["password_confirm"]
    assert input_value(response, "password") is None
    assert input_value(response, "password_confirm") is None


def test_password_rules_are_shown_before_typing(client_a, domain_a):
    mailbox = make_mailbox(domain_a, "anna")
    rule = "Your password must contain at least 12 characters."
    assert rule in page(client_a.get("/mailboxes/new/"))
    assert rule in page(client_a.get(f"/mailboxes/{mailbox.username}/password/"))
    owner = owner_client_for(mailbox)
    assert rule in page(owner.get("/me/password/"))


def test_mailbox_password_form_checks_the_policy_in_the_form(client_a, domain_a):
    mailbox = make_mailbox(domain_a, "anna")
    response = client_a.post(
        f"/mailboxes/{mailbox.username}/password/",
        {"password": "anna@alpha.example", "password_confirm": "anna@alpha.example"},
    )
    assert response.status_code == 200
    assert any("too similar" in message for message in response.context["form"].errors["password"])


def test_owner_password_form_keeps_new_password_when_current_is_wrong(domain_a):
    mailbox = make_mailbox(domain_a, "anna")
    owner = owner_client_for(mailbox)
    new = "kQ7-vTr9-Xw2p-Lm4z-Hc8d"
    response = owner.post(
        "/me/password/",
        {"current_password": "wrong-one", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    assert input_value(response, "new_password1") == new
    assert input_value(response, "current_password") is None


def test_admin_form_keeps_an_accepted_password(super_client, superadmin):
    generated = "kQ7-vTr9-Xw2p-Lm4z-Hc8d"
    response = super_client.post(
        "/accounts/admins/new/",
        {"username": "not an address", "password": generated, "password2": generated},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert input_value(response, "password") == generated


# F9: usage against the limit before a create -------------------------------------------------

FULL = (
    "The domain has reached its limit of 1 mailbox: ask your provider (a super admin) "
    "to raise it, or purge a mailbox."
)


def test_full_domain_disables_new_mailbox_with_the_reason(client_a, domain_a):
    limit(domain_a, mailboxes=1, aliases=3)
    response = client_a.get("/mailboxes/")
    text = page(response)
    assert "Mailboxes in alpha.example: 0 / 1" in text
    assert 'href="/mailboxes/new/"' in text
    make_mailbox(domain_a, "anna")
    text = page(client_a.get("/mailboxes/"))
    assert "Mailboxes in alpha.example: 1 / 1" in text
    assert re.search(r"<button[^>]*disabled[^>]*>New mailbox</button>", text)
    assert 'href="/mailboxes/new/"' not in text
    assert FULL in text
    # The form says so before anything is typed, next to each domain of the select.
    form = page(client_a.get("/mailboxes/new/"))
    assert FULL in form
    assert "alpha.example (1 / 1 used)" in form
    # The alias list shows its own count and keeps its button.
    text = page(client_a.get("/aliases/"))
    assert "Aliases in alpha.example: 0 / 3" in text
    assert 'href="/aliases/new/"' in text


def test_full_alias_limit_disables_new_alias(client_a, domain_a):
    from tests.factories import make_alias

    limit(domain_a, aliases=1)
    make_alias(domain_a, "sales", ["x@elsewhere.example"])
    text = page(client_a.get("/aliases/"))
    assert "Aliases in alpha.example: 1 / 1" in text
    assert re.search(r"<button[^>]*disabled[^>]*>New alias</button>", text)
    assert (
        "The domain has reached its limit of 1 alias: ask your provider (a super admin) "
        "to raise it, or delete an alias."
    ) in text


def test_super_admin_keeps_the_button_at_the_limit(super_client, domain_a):
    limit(domain_a, mailboxes=1)
    make_mailbox(domain_a, "anna")
    text = page(super_client.get("/mailboxes/?domain=alpha.example"))
    assert "Mailboxes in alpha.example: 1 / 1" in text
    assert 'href="/mailboxes/new/"' in text
    assert FULL not in text


# F10: dangling destinations ------------------------------------------------------------------


def test_purge_can_remove_the_address_from_the_aliases(client_a, domain_a, domain_b):
    from aliases.models import Alias
    from mailboxes.services import mailbox_set_forwarding
    from pfa.models import Log
    from tests.factories import make_alias

    make_mailbox(domain_a, "anna")
    bert = make_mailbox(domain_a, "bert")
    mailbox_set_forwarding(actor=None, mailbox=bert, targets=["anna@alpha.example"], keep_copy=True)
    make_alias(domain_a, "sales", ["anna@alpha.example", "x@elsewhere.example"])
    make_alias(domain_a, "", ["anna@alpha.example"])  # the catch-all
    make_alias(domain_b, "foreign", ["anna@alpha.example"])  # out of the admin's scope
    text = page(client_a.get("/mailboxes/anna@alpha.example/purge/"))
    assert 'name="remove_from_aliases"' in text

    response = client_a.post(
        "/mailboxes/anna@alpha.example/purge/", {"remove_from_aliases": "1"}, follow=True
    )
    assert "Its address was removed from 3 aliases." in page(response)
    assert Alias.objects.get(address="sales@alpha.example").goto == "x@elsewhere.example"
    assert not Alias.objects.filter(address="@alpha.example").exists()
    assert Alias.objects.get(address="bert@alpha.example").goto == "bert@alpha.example"
    assert Alias.objects.get(address="foreign@beta.example").goto == "anna@alpha.example"
    assert Log.objects.filter(action="delete_alias", data="@alpha.example").exists()
    assert Log.objects.filter(
        action="edit_alias", data="sales@alpha.example -> x@elsewhere.example"
    ).exists()


def test_purge_without_the_box_leaves_the_aliases(client_a, domain_a):
    from aliases.models import Alias
    from tests.factories import make_alias

    make_mailbox(domain_a, "anna")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    client_a.post("/mailboxes/anna@alpha.example/purge/")
    assert Alias.objects.get(address="sales@alpha.example").goto == "anna@alpha.example"


def test_alias_to_a_missing_address_of_ones_domain_is_saved_with_a_warning(client_a, domain_a):
    from aliases.models import Alias

    make_mailbox(domain_a, "info")
    response = client_a.post(
        "/aliases/new/",
        {
            "domain": "alpha.example",
            "local_part": "support",
            "targets": "infoo@alpha.example\ninfo@alpha.example\nx@elsewhere.example\n"
            "y@beta.example",
        },
        follow=True,
    )
    text = page(response)
    assert Alias.objects.filter(address="support@alpha.example").exists()
    assert (
        "infoo@alpha.example does not exist in your domains: mail to it bounces until a "
        "mailbox or alias of that name is created."
    ) in text
    # Only the admin's own domains are checked (beta is another admin's, elsewhere is foreign).
    assert "y@beta.example does not exist" not in text
    # Fixed destinations: no warning.
    response = client_a.post(
        "/aliases/support@alpha.example/",
        {"targets": "info@alpha.example"},
        follow=True,
    )
    assert "does not exist" not in page(response)


def test_deactivating_a_mailbox_names_the_aliases_still_pointing_at_it(client_a, domain_a):
    from tests.factories import make_alias

    make_mailbox(domain_a, "info")
    make_alias(domain_a, "team", ["info@alpha.example"])
    response = client_a.post("/mailboxes/info@alpha.example/toggle/", {"active": "0"}, follow=True)
    assert (
        "1 alias still delivers to info@alpha.example: its mail for it bounces while the "
        "mailbox is inactive."
    ) in page(response)


# F24: small things ----------------------------------------------------------------------------


def test_domain_admins_list_has_no_transport_or_backup_mx(client_a, super_client, domain_a):
    text = page(client_a.get("/domains/"))
    assert "alpha.example" in text
    assert "Transport" not in text
    assert "Backup MX" not in text
    text = page(super_client.get("/domains/"))
    assert "Transport" in text
    assert "Backup MX" in text


def test_a_bare_name_is_an_address_of_the_alias_domain(client_a, domain_a):
    from aliases.models import Alias
    from aliases.services import alias_create

    make_mailbox(domain_a, "anna")
    response = client_a.post(
        "/aliases/new/",
        {"domain": "alpha.example", "local_part": "team", "targets": "anna\nx@elsewhere.example"},
    )
    assert response.status_code == 302
    assert Alias.objects.get(address="team@alpha.example").targets == [
        "anna@alpha.example",
        "x@elsewhere.example",
    ]
    # On edit too; a name no mailbox or alias of the domain has stays a local system user.
    alias_create(actor=None, domain=domain_a, local_part="postmaster", targets=["root"])
    response = client_a.post("/aliases/postmaster@alpha.example/", {"targets": "root\nanna"})
    assert response.status_code == 302
    assert Alias.objects.get(address="postmaster@alpha.example").targets == [
        "root",
        "anna@alpha.example",
    ]


def test_destination_suggestions_are_scoped_json(client_a, domain_a, domain_b):
    import json

    make_mailbox(domain_a, "anna")
    make_mailbox(domain_a, "andreas")
    make_mailbox(domain_b, "anton")  # another admin's
    response = client_a.get("/aliases/suggest/", {"q": "an", "domain": "alpha.example"})
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "addresses": ["andreas@alpha.example", "anna@alpha.example"]
    }
    assert json.loads(client_a.get("/aliases/suggest/", {"q": "anton"}).content) == {
        "addresses": []
    }
    assert json.loads(client_a.get("/aliases/suggest/", {"q": "anna@al"}).content) == {
        "addresses": ["anna@alpha.example"]
    }
    # The form carries the picker (shown by the project's JS), no inline script.
    text = page(client_a.get("/aliases/new/"))
    assert 'data-suggest-url="/aliases/suggest/"' in text
    assert "<script>" not in text


def test_suggestions_need_an_admin_login(client):
    response = client.get("/aliases/suggest/", {"q": "an"})
    assert response.status_code in (302, 403)


def test_alias_limit_and_bad_destination_in_one_round(client_a, domain_a):
    from tests.factories import make_alias

    limit(domain_a, aliases=1)
    make_alias(domain_a, "sales", ["x@elsewhere.example"])
    response = client_a.post(
        "/aliases/new/",
        {"domain": "alpha.example", "local_part": "sales", "targets": "not an address@"},
    )
    errors = response.context["form"].errors
    assert errors["domain"] == [
        "The domain has reached its limit of 1 alias: ask your provider (a super admin) "
        "to raise it, or delete an alias."
    ]
    assert errors["local_part"] == ["An alias with this address already exists."]
    assert errors["targets"]
