"""Aliases through the web pages: what the admin sees and what Postfix reads."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aliases.models import Alias
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db


def page(response) -> str:
    """Return the page as the user reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def rows(response) -> list[str]:
    return [row.record.address for row in response.context["table"].paginated_rows]


# Create ------------------------------------------------------------------------------------


def test_create_alias_with_several_kinds_of_destination(client_a, domain_a):
    make_mailbox(domain_a, "bob")
    response = client_a.post(
        "/aliases/new/",
        {
            "domain": "alpha.example",
            "local_part": "Sales",
            "targets": "bob@alpha.example\nBoss@Elsewhere.Example, jürgen@bücher.example\n"
            "@other.example\nboss@elsewhere.example",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/aliases/"
    assert "Alias sales@alpha.example created." in page(response)
    alias = Alias.objects.get(address="sales@alpha.example")
    # Lower-case, IDN as punycode (local part kept in UTF-8), duplicates removed, order kept.
    assert alias.goto == (
        "bob@alpha.example,boss@elsewhere.example,jürgen@xn--bcher-kva.example,@other.example"
    )
    assert (alias.domain_id, alias.active) == ("alpha.example", True)
    log = Log.objects.get(action="create_alias")
    assert log.data == f"sales@alpha.example -> {alias.goto}"
    assert log.username == "admin@alpha.example (127.0.0.1)"
    assert "jürgen@bücher.example" in page(client_a.get("/aliases/sales@alpha.example/"))


@pytest.mark.parametrize("local_part", ["", "*"])
def test_empty_local_part_makes_the_catch_all(client_a, domain_a, local_part):
    response = client_a.get("/aliases/new/")
    assert "Leave it empty for the catch-all @domain." in page(response)
    response = client_a.post(
        "/aliases/new/",
        {"domain": "alpha.example", "local_part": local_part, "targets": "@beta.example"},
    )
    assert response.status_code == 302
    alias = Alias.objects.get(address="@alpha.example")
    assert alias.goto == "@beta.example"
    assert alias.is_catchall
    response = client_a.get("/aliases/")
    assert "@alpha.example (catch-all)" in page(response)
    # The catch-all's own pages work with the leading @ in the URL.
    assert client_a.get("/aliases/@alpha.example/").status_code == 200
    assert client_a.get("/aliases/@alpha.example/delete/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"local_part": "info", "targets": "info@alpha.example"}, "targets", "only at itself"),
        ({"local_part": "info", "targets": ""}, "targets", "This field is required."),
        ({"local_part": "info", "targets": " , \n"}, "targets", "Enter at least one destination."),
        ({"local_part": "info", "targets": "not-an-address"}, "targets", "is not a valid e-mail"),
        ({"local_part": "info", "targets": "ok@x.example\nbad@@x"}, "targets", "“bad@@x”"),
        ({"local_part": "info", "targets": "@not_a_domain"}, "targets", "not a valid domain"),
        (
            {"local_part": "bob", "targets": "x@x.example"},
            "local_part",
            "This address is a mailbox",
        ),
        ({"local_part": "dup", "targets": "x@x.example"}, "local_part", "already exists"),
        ({"local_part": "a b", "targets": "x@x.example"}, "local_part", "not a valid e-mail"),
        ({"local_part": "a@b", "targets": "x@x.example"}, "local_part", "only the part before"),
        (
            {"local_part": "x", "targets": "x@x.example", "domain": "beta.example"},
            "domain",
            "Select a valid choice",
        ),
    ],
)
def test_bad_alias_input_is_a_clear_field_error(client_a, domain_a, domain_b, data, field, message):
    make_mailbox(domain_a, "bob")
    make_alias(domain_a, "dup", ["y@y.example"])
    before = sorted(Alias.objects.values_list("address", "goto"))
    response = client_a.post("/aliases/new/", {"domain": "alpha.example", **data})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, []))
    assert message in page(response)
    assert sorted(Alias.objects.values_list("address", "goto")) == before


# Edit, toggle, delete ---------------------------------------------------------------------


def test_edit_destinations(client_a, domain_a):
    make_alias(domain_a, "sales", ["a@x.example"])
    url = "/aliases/sales@alpha.example/"
    response = client_a.get(url)
    assert response.context["form"]["targets"].value() == "a@x.example"
    response = client_a.post(url, {"targets": "b@x.example\nc@x.example\nB@X.example"})
    assert response.status_code == 302
    assert Alias.objects.get(pk="sales@alpha.example").goto == "b@x.example,c@x.example"
    assert Log.objects.filter(action="edit_alias", data__startswith="sales@alpha.example").exists()

    response = client_a.post(url, {"targets": "sales@alpha.example"})
    assert response.status_code == 200
    assert "An alias cannot point only at itself." in page(response)
    assert Alias.objects.get(pk="sales@alpha.example").goto == "b@x.example,c@x.example"


def test_toggle_and_delete_with_confirmation(client_a, domain_a):
    make_alias(domain_a, "sales", ["a@x.example"])
    toggle = "/aliases/sales@alpha.example/toggle/"
    assert client_a.get(toggle).status_code == 405
    response = client_a.post(toggle, {"active": "0"}, follow=True)
    assert "sales@alpha.example deactivated." in page(response)
    assert Alias.objects.get(pk="sales@alpha.example").active is False
    assert Log.objects.filter(action="edit_alias_state").exists()

    delete = "/aliases/sales@alpha.example/delete/"
    response = client_a.get(delete)
    assert "Delete sales@alpha.example" in page(response)
    assert Alias.objects.filter(pk="sales@alpha.example").exists()
    response = client_a.post(delete, follow=True)
    assert "Alias sales@alpha.example deleted." in page(response)
    assert not Alias.objects.filter(pk="sales@alpha.example").exists()
    assert Log.objects.filter(action="delete_alias", data="sales@alpha.example").exists()


def test_a_mailbox_own_alias_is_handled_on_the_mailbox_page(client_a, domain_a):
    make_mailbox(domain_a, "bob")
    for url in ("/aliases/bob@alpha.example/", "/aliases/bob@alpha.example/delete/"):
        response = client_a.get(url)
        assert response.status_code == 302
        assert response["Location"] == "/mailboxes/bob@alpha.example/#forwarding"
        response = client_a.post(url, {"targets": "evil@x.example"}, follow=True)
        assert "its destinations are set as the mailbox's forwarding" in page(response)
    response = client_a.post("/aliases/bob@alpha.example/toggle/", {"active": "0"}, follow=True)
    assert "A mailbox's own alias is switched with its mailbox." in page(response)
    own = Alias.objects.get(pk="bob@alpha.example")
    assert (own.goto, own.active) == ("bob@alpha.example", True)


# Lists ------------------------------------------------------------------------------------


def test_list_hides_mailbox_rows_unless_asked_and_searches_destinations(client_a, domain_a):
    make_mailbox(domain_a, "bob")
    make_alias(domain_a, "sales", ["bob@alpha.example"])
    make_alias(domain_a, "team", [f"m{i}@x.example" for i in range(5)])
    make_alias(domain_a, "", ["bob@alpha.example"])

    response = client_a.get("/aliases/")
    assert rows(response) == ["@alpha.example", "sales@alpha.example", "team@alpha.example"]
    text = page(response)
    assert "Show mailbox aliases" in text
    assert "m0@x.example, m1@x.example, m2@x.example" in text
    assert "m3@x.example" not in text
    assert "and 2 more" in text

    response = client_a.get("/aliases/?show_mailbox_aliases=on")
    assert rows(response) == [
        "@alpha.example",
        "bob@alpha.example",
        "sales@alpha.example",
        "team@alpha.example",
    ]
    assert "/mailboxes/bob@alpha.example/#forwarding" in page(response)

    response = client_a.get("/aliases/?q=BOB@")
    assert rows(response) == ["@alpha.example", "sales@alpha.example"]
    response = client_a.get("/aliases/?q=m3@x")
    assert rows(response) == ["team@alpha.example"]
    response = client_a.get("/aliases/?sort=-address")
    assert rows(response)[0] == "team@alpha.example"


def test_list_search_finds_idn_destinations_typed_in_unicode(super_client):
    domain = make_domain("gamma.example")
    make_alias(domain, "books", ["shop@bücher.example"])
    make_alias(domain, "other", ["x@x.example"])
    assert rows(super_client.get("/aliases/?q=bücher")) == ["books@gamma.example"]


def test_list_query_count_does_not_grow_with_rows(client_a, domain_a):
    for i in range(3):
        make_alias(domain_a, f"few{i}", ["x@x.example"])
        make_mailbox(domain_a, f"box{i}")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client_a.get(url).status_code == 200
        return len(queries)

    count("/aliases/")
    few = count("/aliases/")
    few_all = count("/aliases/?show_mailbox_aliases=on")
    for i in range(60):
        make_alias(domain_a, f"many{i}", ["a@x.example", "b@x.example"])
        make_mailbox(domain_a, f"mbox{i}", check_policy=False)
    assert count("/aliases/") == few
    assert count("/aliases/?show_mailbox_aliases=on") == few_all


# Scoping and bad input --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "toggle/", "delete/"])
@pytest.mark.parametrize("address", ["sales@alpha.example", "@alpha.example"])
def test_other_domain_admin_gets_404_and_changes_nothing(client_b, domain_a, suffix, address):
    make_alias(domain_a, "sales", ["a@x.example"])
    make_alias(domain_a, "", ["a@x.example"])
    url = f"/aliases/{address}/{suffix}"
    if suffix != "toggle/":
        assert client_b.get(url).status_code == 404
    assert client_b.post(url, {"active": "0", "targets": "evil@x.example"}).status_code == 404
    alias = Alias.objects.get(pk=address)
    assert (alias.goto, alias.active) == ("a@x.example", True)


def test_other_domain_admin_cannot_create_in_or_list_alpha(client_b, domain_a, domain_b):
    make_alias(domain_a, "sales", ["a@x.example"])
    response = client_b.get("/aliases/new/")
    assert "alpha.example" not in page(response)
    response = client_b.post(
        "/aliases/new/", {"domain": "alpha.example", "local_part": "x", "targets": "a@x.example"}
    )
    assert response.status_code == 200
    assert not Alias.objects.filter(pk="x@alpha.example").exists()
    response = client_b.get("/aliases/?q=sales")
    assert rows(response) == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"domain": "alpha.example", "local_part": "\x00", "targets": "\x00"},
        {"domain": ["a", "b"], "local_part": "é" * 300, "targets": "x" * 30000},
        {"domain": "alpha.example", "local_part": "ok", "targets": "@" * 50},
        {"domain": "alpha.example", "local_part": "ok", "targets": "a@" + "b" * 300 + ".example"},
    ],
)
@pytest.mark.parametrize("url", ["/aliases/new/", "/aliases/sales@alpha.example/"])
def test_bad_posts_never_give_a_server_error(client_a, domain_a, url, data):
    make_alias(domain_a, "sales", ["a@x.example"])
    response = client_a.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Alias.objects.get(pk="sales@alpha.example").goto == "a@x.example"
