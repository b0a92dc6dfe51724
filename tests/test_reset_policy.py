"""Where reset links may go: never to an address a less-privileged admin can redirect (H1).

The attack from the security review: a domain admin points an alias (or a mailbox's forwarding)
at a super admin's reset address in their domain, asks for a reset and takes over the account.
"""

from __future__ import annotations

import html
import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import Admin
from accounts.services import admin_assign_domain, admin_update
from aliases.models import Alias
from aliases.services import alias_set_active
from domains.services import alias_domain_create
from mail import passwords
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_forwarding, mailbox_update
from pfa.models import Log
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox
from tests.support.mailtools import mail_sent

NEW = "Fresh-Orbit-Lantern-42"


def page(response) -> str:
    return html.unescape(response.content.decode())


def logged_in(admin: Admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def admin_reset(address: str) -> list[list[str]]:
    """Ask for an admin reset link as anybody; return the recipients of what was sent."""
    mail.outbox.clear()
    with mail_sent():
        response = Client().post("/accounts/password-reset/", {"email": address})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    return [m.to for m in mail.outbox]


def owner_reset(address: str) -> list[list[str]]:
    mail.outbox.clear()
    with mail_sent():
        response = Client().post("/me/password-reset/", {"address": address})
    assert response.status_code == 302
    assert response["Location"] == "/me/password-reset/sent/"
    return [m.to for m in mail.outbox]


@pytest.fixture
def tenant(db):
    """The review's tenant: a.example, whose domain admin adm-a also manages aa.example."""
    a = make_domain("a.example")
    aa = make_domain("aa.example")
    adm_a = make_admin("adm-a@ops.example", domains=[a, aa])
    return a, adm_a


@pytest.fixture
def boss(tenant) -> Admin:
    # A super admin whose login (and so reset) address is in the tenant's domain.
    return make_admin("boss@a.example", superadmin=True)


REFUSED = "Password reset links for an admin go to this address"


# The attack, end to end ----------------------------------------------------------------------


def test_alias_for_a_super_admins_reset_address_is_refused_and_mails_nothing(
    tenant, boss, settings, caplog
):
    _a, adm_a = tenant
    response = logged_in(adm_a).post(
        "/aliases/new/",
        {"domain": "a.example", "local_part": "boss", "targets": "thief@ext.example"},
    )
    assert response.status_code == 200
    assert REFUSED in page(response)
    assert not Alias.objects.filter(address="boss@a.example").exists()
    assert not Log.objects.filter(action="create_alias").exists()

    # Even were the alias there (Postfix Admin or a script made it), no link goes to boss.
    make_alias(tenant[0], "boss", ["thief@ext.example"])
    with caplog.at_level(logging.WARNING, logger="vimbadmin.reset"):
        assert admin_reset("boss@a.example") == []
        settings.VIMBADMIN_SUPERADMIN_MAIL_RESET = True
        assert admin_reset("boss@a.example") == []
    assert "password reset link for admin boss@a.example not sent" in caplog.text
    assert "is off for super admins" in caplog.text
    assert "is in a domain hosted here" in caplog.text


def test_forwarding_of_a_super_admins_mailbox_is_refused_and_mails_nothing(tenant, boss, settings):
    a, adm_a = tenant
    make_mailbox(a, "boss")
    response = logged_in(adm_a).post(
        "/mailboxes/boss@a.example/forwarding/", {"targets": "thief@ext.example", "keep_copy": ""}
    )
    assert response.status_code == 200
    assert REFUSED in page(response)
    assert Alias.objects.get(address="boss@a.example").goto == "boss@a.example"

    settings.VIMBADMIN_SUPERADMIN_MAIL_RESET = True
    mailbox_set_forwarding(
        actor=None,
        mailbox=Mailbox.objects.get(pk="boss@a.example"),
        targets=["thief@ext.example"],
        keep_copy=False,
    )
    assert admin_reset("boss@a.example") == []


def test_catch_all_covering_a_reset_address_is_refused(tenant, boss):
    _a, adm_a = tenant
    response = logged_in(adm_a).post(
        "/aliases/new/", {"domain": "a.example", "local_part": "", "targets": "thief@ext.example"}
    )
    assert response.status_code == 200
    assert "The catch-all would also take mail for boss@a.example" in page(response)
    assert not Alias.objects.filter(address="@a.example").exists()


def test_editing_or_activating_an_alias_at_a_reset_address_is_refused(tenant, boss):
    a, adm_a = tenant
    alias = make_alias(a, "boss", ["boss@elsewhere.example"])
    client = logged_in(adm_a)
    response = client.post("/aliases/boss@a.example/", {"targets": "thief@ext.example"})
    assert response.status_code == 200
    assert REFUSED in page(response)
    assert Alias.objects.get(pk=alias.pk).goto == "boss@elsewhere.example"
    alias_set_active(actor=None, alias=alias, active=False)
    response = client.post(
        "/aliases/boss@a.example/toggle/", {"active": "1", "next": "/aliases/"}, follow=True
    )
    assert REFUSED in page(response)
    assert not Alias.objects.get(pk=alias.pk).active


def test_mailbox_at_a_reset_address_is_refused(tenant, boss):
    _a, adm_a = tenant
    response = logged_in(adm_a).post(
        "/mailboxes/new/",
        {
            "domain": "a.example",
            "local_part": "boss",
            "name": "",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "quota": "",
        },
    )
    assert response.status_code == 200
    assert REFUSED in page(response)
    assert not Mailbox.objects.filter(pk="boss@a.example").exists()


def test_super_admins_may_route_reset_addresses(tenant, boss, super_client):
    response = super_client.post(
        "/aliases/new/",
        {"domain": "a.example", "local_part": "boss", "targets": "boss@home.example"},
    )
    assert response.status_code == 302
    assert Alias.objects.get(address="boss@a.example").goto == "boss@home.example"


def test_stopping_forwarding_stays_allowed(tenant, boss):
    a, adm_a = tenant
    mailbox = make_mailbox(a, "boss")
    mailbox_set_forwarding(actor=None, mailbox=mailbox, targets=["x@ext.example"], keep_copy=True)
    response = logged_in(adm_a).post(
        "/mailboxes/boss@a.example/forwarding/", {"targets": "", "keep_copy": "on"}
    )
    assert response.status_code == 302
    assert Alias.objects.get(address="boss@a.example").goto == "boss@a.example"


def test_alias_domain_addresses_are_protected_through_their_target(tenant):
    a, adm_a = tenant
    x = make_domain("x.example")
    # A domain admin of an unrelated domain whose reset address is in x.example, which then
    # becomes an alias domain of a.example: mail to c@x.example goes through a.example's aliases,
    # which adm-a controls.
    c = make_domain("c.example")
    adm_c = make_admin("adm-c@c.example", domains=[c])
    admin_update(actor=None, admin=adm_c, email_other="c@x.example")
    assert admin_reset("adm-c@c.example") == [["c@x.example"]]
    alias_domain_create(actor=None, alias_domain=x, target_domain=a)
    response = logged_in(adm_a).post(
        "/aliases/new/", {"domain": "a.example", "local_part": "c", "targets": "thief@ext.example"}
    )
    assert REFUSED in page(response)
    assert admin_reset("adm-c@c.example") == []


def test_an_alias_domain_managed_by_another_admin_counts_itself(tenant):
    _a, adm_a = tenant
    x = make_domain("x.example")
    alias_domain_create(actor=None, alias_domain=x, target_domain=make_domain("t.example"))
    c = make_domain("c.example")
    adm_c = make_admin("adm-c@c.example", domains=[c])
    admin_update(actor=None, admin=adm_c, email_other="c@x.example")
    assert admin_reset("adm-c@c.example") == [["c@x.example"]]
    # adm-a now manages the alias domain itself and could alias c@x.example.
    admin_assign_domain(actor=None, admin=adm_a, domain=x)
    assert admin_reset("adm-c@c.example") == []
    # Only the admin's own domain: the link goes out.
    admin_update(actor=None, admin=adm_c, email_other="c@c.example")
    assert admin_reset("adm-c@c.example") == [["c@c.example"]]


# Domain admins -------------------------------------------------------------------------------


def test_domain_admin_reset_stops_when_another_admin_manages_the_domain(domain_a, admin_a):
    assert admin_reset("admin@alpha.example") == [["admin@alpha.example"]]
    two = make_admin("two@alpha.example", domains=[domain_a])
    # Each of them could now redirect the other's login address.
    assert admin_reset("two@alpha.example") == []
    assert admin_reset("admin@alpha.example") == []
    # An alternative address outside their domains brings the links back.
    admin_update(actor=None, admin=two, email_other="two@home.example")
    assert admin_reset("two@alpha.example") == [["two@home.example"]]


def test_the_rule_is_checked_when_the_link_is_sent(domain_a, admin_a, admin_b, super_client):
    gamma = make_domain("gamma.example")
    admin_update(actor=None, admin=admin_b, email_other="b@gamma.example")
    assert admin_reset("admin@beta.example") == [["b@gamma.example"]]
    response = super_client.post(
        "/accounts/admins/admin@alpha.example/domains/assign/",
        {"domain": "gamma.example"},
        follow=True,
    )
    assert "Password reset links for admin@beta.example will not be mailed" in page(response)
    assert admin_reset("admin@beta.example") == []
    assert gamma.pk == "gamma.example"


# Super admins --------------------------------------------------------------------------------


def test_super_admin_mail_reset_is_opt_in_and_only_outside_hosted_domains(superadmin, settings):
    # root@admins.example: admins.example is not hosted here.
    assert admin_reset("root@admins.example") == []
    settings.VIMBADMIN_SUPERADMIN_MAIL_RESET = True
    assert admin_reset("root@admins.example") == [["root@admins.example"]]
    # A hosted domain with no domain admin at all still counts: its rows are in this database.
    make_domain("admins.example")
    assert admin_reset("root@admins.example") == []
    admin_update(actor=None, admin=superadmin, email_other="root@private.example")
    assert admin_reset("root@admins.example") == [["root@private.example"]]


def test_an_alias_domain_row_counts_as_hosted(superadmin, settings):
    settings.VIMBADMIN_SUPERADMIN_MAIL_RESET = True
    alias_domain_create(
        actor=None, alias_domain=make_domain("admins.example"), target_domain=make_domain("t.ex")
    )
    assert admin_reset("root@admins.example") == []


# Mailbox owners ------------------------------------------------------------------------------


def test_owner_reset_not_to_a_domain_of_admins_who_do_not_manage_the_mailbox(
    domain_a, admin_a, domain_b, admin_b, client_a
):
    owner = make_mailbox(domain_a, "olive", email_other="olive@beta.example")
    # admin@beta.example could alias olive@beta.example to themself and take over the mailbox.
    assert owner_reset("olive@alpha.example") == []
    # The mailbox's own domain admin gains nothing: they can set its password anyway.
    mailbox_update(
        actor=None, mailbox=owner, name="", quota_bytes=0, email_other="olive@alpha.example"
    )
    assert owner_reset("olive@alpha.example") == [["olive@alpha.example"]]
    # A domain only super admins manage, or one outside this database, is fine.
    mailbox_update(
        actor=None, mailbox=owner, name="", quota_bytes=0, email_other="olive@gamma.example"
    )
    make_domain("gamma.example")
    assert owner_reset("olive@alpha.example") == [["olive@gamma.example"]]
    # Once admin@beta.example also manages alpha.example, beta.example is no longer foreign.
    mailbox_update(
        actor=None, mailbox=owner, name="", quota_bytes=0, email_other="olive@beta.example"
    )
    admin_assign_domain(actor=None, admin=admin_b, domain=domain_a)
    assert owner_reset("olive@alpha.example") == [["olive@beta.example"]]


def test_mailbox_page_says_when_the_alternative_address_gets_no_links(
    domain_a, admin_a, domain_b, admin_b, client_a
):
    make_mailbox(domain_a, "olive")
    response = client_a.post(
        "/mailboxes/olive@alpha.example/edit/",
        {"name": "", "quota": "0", "email_other": "olive@beta.example"},
        follow=True,
    )
    text = page(response)
    assert "Mailbox saved." in text
    assert "olive@beta.example is in a domain managed by admins who do not manage" in text
    assert "admin@beta.example" in text


# Saying so -----------------------------------------------------------------------------------


def test_typed_alternative_address_that_can_be_intercepted_is_refused(
    super_client, domain_a, admin_a
):
    response = super_client.post(
        "/accounts/admins/new/",
        {
            "username": "new@ops.example",
            "password": NEW,
            "password2": NEW,
            "email_other": "new@alpha.example",
        },
    )
    assert response.status_code == 200
    assert "new@alpha.example is in a domain that other domain admins manage" in page(response)
    assert not Admin.objects.filter(pk="new@ops.example").exists()

    response = super_client.post(
        "/accounts/admins/admin@alpha.example/edit/", {"email_other": "x@alpha.example"}
    )
    # Its own domain, which nobody else manages: fine.
    assert response.status_code == 302
    make_admin("other@ops.example", domains=[domain_a])
    response = super_client.post(
        "/accounts/admins/admin@alpha.example/edit/", {"email_other": "y@alpha.example"}
    )
    assert response.status_code == 200
    assert "(other@ops.example)" in page(response)
    assert Admin.objects.get(pk="admin@alpha.example").email_other == "x@alpha.example"


def test_creating_admins_warns_when_resets_cannot_be_mailed(super_client, domain_a, admin_a):
    response = super_client.post(
        "/accounts/admins/new/",
        {"username": "two@alpha.example", "password": NEW, "password2": NEW, "domains": []},
        follow=True,
    )
    text = page(response)
    assert "Admin two@alpha.example created." in text
    assert "Password reset links for two@alpha.example will not be mailed" in text
    assert "(admin@alpha.example)" in text

    response = super_client.post(
        "/accounts/admins/new/",
        {"username": "chief@ops.example", "password": NEW, "password2": NEW, "superadmin": "on"},
        follow=True,
    )
    text = page(response)
    assert "Password reset links for chief@ops.example will not be mailed" in text
    assert "manage.py setpassword --username chief@ops.example" in text


def test_admin_detail_page_shows_where_resets_go(super_client, superadmin, domain_a, admin_a):
    text = page(super_client.get("/accounts/admins/admin@alpha.example/"))
    assert "Links are mailed to admin@alpha.example." in text
    text = page(super_client.get("/accounts/admins/root@admins.example/"))
    assert "Off:" in text
    assert "manage.py setpassword --username root@admins.example" in text
    make_admin("two@alpha.example", domains=[domain_a])
    text = page(super_client.get("/accounts/admins/admin@alpha.example/"))
    assert "Not mailed:" in text
    assert "(two@alpha.example)" in text


def test_schema_check_lists_admins_without_mailed_resets(superadmin, domain_a, admin_a):
    out = io.StringIO()
    call_command("schema_check", stdout=out)
    assert "Password reset links that will not be mailed:" in out.getvalue()
    assert "root@admins.example: off: Password reset by e-mail is off" in out.getvalue()
    assert "admin@alpha.example" not in out.getvalue()
    make_admin("two@alpha.example", domains=[domain_a])
    out = io.StringIO()
    call_command("schema_check", stdout=out)
    assert "admin@alpha.example: refused for admin@alpha.example:" in out.getvalue()
    assert "two@alpha.example: refused for two@alpha.example:" in out.getvalue()


# The way back in for super admins ------------------------------------------------------------


def test_setpassword_resets_a_super_admins_password_from_the_shell(superadmin, monkeypatch):
    monkeypatch.setenv("VIMBADMIN_ADMIN_PASSWORD", NEW)
    out = io.StringIO()
    call_command("setpassword", "--username", "Root@Admins.example", "--no-input", stdout=out)
    assert "Password of root@admins.example set" in out.getvalue()
    stored = Admin.objects.get(pk="root@admins.example").password
    assert passwords.verify_password(NEW, stored)
    assert not passwords.verify_password(PASSWORD, stored)
    row = Log.objects.get(action="edit_password")
    assert row.data == "root@admins.example"
    assert row.username.startswith("cli")
    login = Client().post("/accounts/login/", {"username": "root@admins.example", "password": NEW})
    assert login.status_code == 302


def test_setpassword_refuses_what_it_cannot_do(superadmin, monkeypatch):
    before = Admin.objects.get(pk="root@admins.example").password
    with pytest.raises(CommandError, match=r"No admin ghost@admins\.example"):
        call_command("setpassword", "--username", "ghost@admins.example", "--no-input")
    monkeypatch.setenv("VIMBADMIN_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        call_command("setpassword", "--username", "root@admins.example", "--no-input")
    monkeypatch.delenv("VIMBADMIN_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="No password"):
        call_command("setpassword", "--username", "root@admins.example", "--no-input")
    # A password is never an argument.
    with pytest.raises(CommandError):
        call_command("setpassword", "--username", "root@admins.example", "--password", NEW)
    assert Admin.objects.get(pk="root@admins.example").password == before
    assert not Log.objects.filter(action="edit_password").exists()


def test_createsuperadmin_says_how_the_new_super_admin_gets_back_in(db, monkeypatch):
    monkeypatch.setenv("VIMBADMIN_ADMIN_PASSWORD", NEW)
    out = io.StringIO()
    call_command("createsuperadmin", "--username", "chief@ops.example", "--no-input", stdout=out)
    assert "Super admin chief@ops.example created." in out.getvalue()
    assert "Password reset links will not be mailed: Password reset by e-mail is off" in (
        out.getvalue()
    )
    assert "manage.py setpassword --username chief@ops.example" in out.getvalue()


def test_promotion_and_demotion_say_what_happens_to_mailed_links(super_client, domain_a, admin_a):
    url = "/accounts/admins/admin@alpha.example/superadmin/"
    text = page(super_client.post(url, {"superadmin": "1"}, follow=True))
    assert "admin@alpha.example is now a super admin." in text
    assert "Password reset links for admin@alpha.example will not be mailed" in text
    assert "is off for super admins" in text
    text = page(super_client.post(url, {"superadmin": "0"}, follow=True))
    assert "admin@alpha.example is now a domain admin." in text
    assert "will not be mailed" not in text
    assert "Links are mailed to admin@alpha.example." in text
