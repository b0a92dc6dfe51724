"""Forwarding by the mailbox owner (/me/forwarding/) and the goto rule every edit follows:
a vacation target in alias.goto is never dropped, by the owner or by an admin."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from aliases.models import Alias
from domains.services import alias_domain_create
from mailboxes.models import Mailbox
from pfa.goto import parse_goto, vacation_target, with_destinations, with_vacation
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox, owner_client_for
from tests.support.mailtools import mail_sent

VACATION = "owner#alpha.example@autoreply.example.org"
FORWARDING_URL = "/me/forwarding/"


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(domain_a, "owner", name="Olive Owner")


@pytest.fixture
def owner_client(owner) -> Client:
    return owner_client_for(owner)


def goto_of(address: str) -> str:
    return Alias.objects.get(pk=address).goto


def set_goto(address: str, goto: str) -> None:
    """Write alias.goto as Postfix Admin would (e.g. its vacation page adding its target)."""
    Alias.objects.filter(pk=address).update(goto=goto)


# --------------------------------------------------------------------------------------------
# The goto rule


def test_parse_goto_sorts_copy_forwards_and_vacation(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = ""
    goto = parse_goto(
        "owner@alpha.example",
        f"owner@alpha.example,boss@elsewhere.example,{VACATION},boss@elsewhere.example",
    )
    assert goto.keep_copy
    assert goto.forwards == ("boss@elsewhere.example",)
    # Recognised by its local part even when this site names no vacation domain.
    assert goto.vacation == (VACATION,)


def test_a_target_in_the_configured_vacation_domain_is_a_vacation_target(settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    goto = parse_goto("owner@alpha.example", "odd#name@autoreply.example.org")
    assert goto.vacation == ("odd#name@autoreply.example.org",)
    assert not goto.keep_copy
    assert goto.forwards == ()


def test_with_destinations_keeps_the_vacation_target():
    old = f"owner@alpha.example,{VACATION}"
    new = with_destinations(
        "owner@alpha.example", old, keep_copy=False, forwards=["a@elsewhere.example", VACATION]
    )
    assert new == f"a@elsewhere.example,{VACATION}"


def test_with_vacation_adds_and_removes_only_its_target():
    old = "owner@alpha.example,a@elsewhere.example"
    target = vacation_target("owner@alpha.example", "autoreply.example.org")
    assert target == VACATION
    on = with_vacation("owner@alpha.example", old, target=target)
    assert on == f"owner@alpha.example,a@elsewhere.example,{VACATION}"
    assert with_vacation("owner@alpha.example", on, target=None) == old


# --------------------------------------------------------------------------------------------
# Admin edits keep a vacation target


def test_admin_forwarding_edit_keeps_a_vacation_target(client_a, owner):
    set_goto(owner.username, f"owner@alpha.example,{VACATION}")
    page = client_a.get(f"/mailboxes/{owner.username}/")
    # The vacation target is not offered as a forwarding destination.
    assert page.context["forwarding_form"].initial == {"targets": "", "keep_copy": True}
    response = client_a.post(
        f"/mailboxes/{owner.username}/forwarding/", {"targets": "boss@elsewhere.example"}
    )
    assert response.status_code == 302
    assert goto_of(owner.username) == f"boss@elsewhere.example,{VACATION}"


def test_admin_alias_edit_keeps_a_vacation_target(client_a, domain_a):
    alias = make_alias(domain_a, "team", ["a@elsewhere.example"])
    target = "team#alpha.example@autoreply.example.org"
    set_goto(alias.address, f"a@elsewhere.example,{target}")
    page = client_a.get(f"/aliases/{alias.address}/")
    assert page.status_code == 200
    assert target not in page.text
    response = client_a.post(f"/aliases/{alias.address}/", {"targets": "b@elsewhere.example"})
    assert response.status_code == 302
    assert goto_of(alias.address) == f"b@elsewhere.example,{target}"


# --------------------------------------------------------------------------------------------
# The owner's forwarding page


def test_owner_finds_and_sets_forwarding_with_a_copy(owner_client, owner):
    overview = owner_client.get("/me/")
    assert FORWARDING_URL in overview.text
    page = owner_client.get(FORWARDING_URL)
    assert page.status_code == 200
    assert 'name="targets"' in page.text
    with mail_sent():
        response = owner_client.post(
            FORWARDING_URL,
            {"targets": "Boss@Elsewhere.example\nb@bücher.example", "keep_copy": "on"},
        )
    assert response.status_code == 302
    assert goto_of(owner.username) == (
        "owner@alpha.example,boss@elsewhere.example,b@xn--bcher-kva.example"
    )
    row = Log.objects.filter(action="edit_alias").latest("id")
    assert row.username.startswith("owner@alpha.example (")
    assert row.data == (
        f"owner@alpha.example: goto owner@alpha.example -> {goto_of(owner.username)}"
    )
    assert row.domain == "alpha.example"
    # The mailbox is told, so a hijacked session cannot redirect mail unnoticed.
    (sent,) = mail.outbox
    assert sent.to == ["owner@alpha.example"]
    assert "forwarding" in sent.subject
    overview = owner_client.get("/me/")
    assert "boss@elsewhere.example" in overview.text
    assert "b@bücher.example" in overview.text
    again = owner_client.get(FORWARDING_URL)
    assert again.context["form"].initial == {
        "targets": "boss@elsewhere.example\nb@bücher.example",
        "keep_copy": True,
    }


def test_owner_forward_only_and_back(owner_client, owner):
    owner_client.post(FORWARDING_URL, {"targets": "boss@elsewhere.example"})
    assert goto_of(owner.username) == "boss@elsewhere.example"
    owner_client.post(FORWARDING_URL, {"targets": "", "keep_copy": "on"})
    assert goto_of(owner.username) == "owner@alpha.example"


def test_owner_forwarding_keeps_a_vacation_set_elsewhere(owner_client, owner):
    set_goto(owner.username, f"owner@alpha.example,{VACATION}")
    page = owner_client.get(FORWARDING_URL)
    assert VACATION not in page.text
    owner_client.post(FORWARDING_URL, {"targets": "boss@elsewhere.example", "keep_copy": "on"})
    assert goto_of(owner.username) == f"owner@alpha.example,boss@elsewhere.example,{VACATION}"


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ("owner@alpha.example", "is this mailbox itself"),
        ("Owner@Alpha-Alias.example", "is this mailbox itself"),
        ("not-an-address", "is not a valid e-mail address"),
        ("", "Without forwarding addresses the mailbox must keep its mail."),
        ("x" * 30000, "at most"),
    ],
)
def test_bad_owner_forwarding_is_a_field_error_and_writes_nothing(
    owner_client, owner, domain_a, targets, message
):
    alias_domain_create(
        actor=None, alias_domain=make_domain("alpha-alias.example"), target_domain=domain_a
    )
    before = Log.objects.count()
    response = owner_client.post(FORWARDING_URL, {"targets": targets})
    assert response.status_code == 200
    assert message in response.text
    assert goto_of(owner.username) == "owner@alpha.example"
    assert Log.objects.count() == before
    assert mail.outbox == []


def test_owner_forwarding_needs_the_owner_login(owner, client_a):
    # Neither a stranger nor an admin session opens the owner's page.
    for client in (Client(), client_a):
        response = client.get(FORWARDING_URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/me/login/")
        response = client.post(FORWARDING_URL, {"targets": "x@elsewhere.example"})
        assert response.status_code == 302
    assert goto_of(owner.username) == "owner@alpha.example"


def test_each_owner_changes_only_their_own_mailbox(owner, domain_b):
    other = make_mailbox(domain_b, "other")
    client = owner_client_for(other)
    # Whatever is posted, the page acts on the logged-in mailbox.
    client.post(
        FORWARDING_URL,
        {"targets": "x@elsewhere.example", "keep_copy": "on", "username": owner.username},
    )
    assert goto_of(other.username) == "other@beta.example,x@elsewhere.example"
    assert goto_of(owner.username) == "owner@alpha.example"
