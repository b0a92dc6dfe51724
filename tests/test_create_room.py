"""Usage against the limit for the domain a create form names, one domain at a time (issue 19).

Past accounts.scoping.LITERAL_DOMAINS_LIMIT the new-mailbox and new-alias forms have a typed
domain field and no per-domain notes; the scoped endpoints /mailboxes/room/ and /aliases/room/
answer for the ONE domain asked (js/vimbadmin.js shows the answer and disables the create
button), and /domains/suggest/ offers the user's domains while one is typed. Outside the
user's domains they tell nothing; the forms still refuse a full domain without JavaScript.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import admin_assign_domain
from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

MAILBOXES_FULL = (
    "The domain has reached its limit of 1 mailbox: ask your provider (a super admin) "
    "to raise it, or purge a mailbox."
)
ALIASES_FULL = (
    "The domain has reached its limit of 1 alias: ask your provider (a super admin) "
    "to raise it, or delete an alias."
)
# The most queries one endpoint call may make, whatever the number of domains or rows:
# session, admin, super admin check, the user's domain names, the domain row, its counters,
# the default quota's two reads.
MAX_QUERIES = 8


def logged_in(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def answer(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def shop():
    """A domain with room: 1 of 3 mailboxes, 1 of 2 aliases, 500 MB by default."""
    domain = make_domain("shop.example", mailboxes=3, aliases=2, default_mailbox_quota=500)
    make_mailbox(domain, "anna")
    make_alias(domain, "sales", ["anna@shop.example"])
    return domain


@pytest.fixture
def full():
    """A Unicode domain at both of its limits."""
    domain = make_domain("bücher.example", mailboxes=1, aliases=1)
    make_mailbox(domain, "dora")
    make_alias(domain, "info", ["dora@xn--bcher-kva.example"])
    return domain


@pytest.fixture
def shop_admin(shop, full):
    return make_admin("admin@shop.example", domains=[shop, full])


@pytest.fixture
def shop_client(shop_admin) -> Client:
    return logged_in(shop_admin)


@pytest.fixture
def many(monkeypatch, shop_admin):
    """Past the threshold: the shop's admin has more domains than a select names."""
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 2)
    more = make_domain("zimmer.example", mailboxes=5)
    admin_assign_domain(actor=None, admin=shop_admin, domain=more)
    return shop_admin


def test_own_domain_answers_its_usage_and_default_quota(shop_client, shop):
    mailboxes = answer(shop_client.get("/mailboxes/room/", {"domain": "shop.example"}))
    assert mailboxes == {
        "domain": "shop.example",
        "used": 1,
        "limit": 3,
        "full": False,
        "note": "shop.example: 1 of 3 used.",
        "blocked": "",
        "default_quota": "500",
    }
    aliases = answer(shop_client.get("/aliases/room/", {"domain": "SHOP.example"}))
    assert aliases == {
        "domain": "shop.example",
        "used": 1,
        "limit": 2,
        "full": False,
        "note": "shop.example: 1 of 2 used.",
        "blocked": "",
    }


def test_full_domain_is_blocked_with_the_reason(shop_client, full):
    # Typed in Unicode or in punycode, it is the same domain.
    for typed in ("bücher.example", "xn--bcher-kva.example"):
        mailboxes = answer(shop_client.get("/mailboxes/room/", {"domain": typed}))
        assert mailboxes["domain"] == "bücher.example"
        assert (mailboxes["used"], mailboxes["limit"], mailboxes["full"]) == (1, 1, True)
        assert mailboxes["blocked"] == MAILBOXES_FULL
        assert mailboxes["note"] == ""  # the reason says it all, as on the form
    aliases = answer(shop_client.get("/aliases/room/", {"domain": "bücher.example"}))
    assert (aliases["used"], aliases["limit"], aliases["blocked"]) == (1, 1, ALIASES_FULL)


def test_domain_without_mailboxes_says_so(shop_client, shop_admin):
    barred = make_domain("barred.example", mailboxes=-1)
    admin_assign_domain(actor=None, admin=shop_admin, domain=barred)
    mailboxes = answer(shop_client.get("/mailboxes/room/", {"domain": "barred.example"}))
    assert mailboxes["blocked"] == "This domain may not have mailboxes."
    # No limit: no note and nothing blocked, but the domain is the user's, so it answers.
    aliases = answer(shop_client.get("/aliases/room/", {"domain": "barred.example"}))
    assert (aliases["limit"], aliases["note"], aliases["blocked"]) == (0, "", "")


def test_another_admins_domain_is_a_404_that_tells_nothing(client_b, shop, full):
    missing = client_b.get("/mailboxes/room/", {"domain": "nowhere.example"})
    assert missing.status_code == 404
    for url in ("/mailboxes/room/", "/aliases/room/"):
        for typed in ("shop.example", "bücher.example", "", "   ", "not a domain"):
            response = client_b.get(url, {"domain": typed})
            assert response.status_code == 404, (url, typed)
            # The same answer as for a domain that does not exist: not a figure, not a name.
            assert response.content == missing.content == b"{}"
    assert client_b.get("/mailboxes/room/").status_code == 404


def test_domain_admin_only_for_assigned_domains(shop_client, domain_a):
    make_mailbox(domain_a, "anna")
    assert shop_client.get("/mailboxes/room/", {"domain": "alpha.example"}).status_code == 404
    assert shop_client.get("/aliases/room/", {"domain": "alpha.example"}).status_code == 404


def test_super_admin_sees_any_domain_and_is_never_blocked(super_client, shop, full):
    mailboxes = answer(super_client.get("/mailboxes/room/", {"domain": "bücher.example"}))
    assert (mailboxes["used"], mailboxes["limit"], mailboxes["full"]) == (1, 1, True)
    # A super admin may override the limit: the usage shows, the button stays.
    assert mailboxes["blocked"] == ""
    assert mailboxes["note"] == "bücher.example: 1 of 1 used."
    assert answer(super_client.get("/aliases/room/", {"domain": "shop.example"}))["used"] == 1


def test_endpoints_need_an_admin_login(client, shop):
    owner = Client()
    owner.post("/me/login/", {"username": "anna@shop.example", "password": PASSWORD})
    for who in (client, owner):
        for url in ("/mailboxes/room/", "/aliases/room/", "/domains/suggest/"):
            response = who.get(url, {"domain": "shop.example", "q": "shop"})
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/")
            assert b"shop" not in response.content


def test_post_is_not_allowed(shop_client, shop):
    assert shop_client.post("/mailboxes/room/", {"domain": "shop.example"}).status_code == 405


def _queries(client: Client, url: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries)


def test_one_call_is_a_fixed_small_number_of_queries(
    shop_client, shop_admin, full, monkeypatch, django_assert_max_num_queries
):
    for url in ("/mailboxes/room/", "/aliases/room/"):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert shop_client.get(url, {"domain": "shop.example"}).status_code == 200
    few = _queries(shop_client, "/mailboxes/room/", domain="bücher.example")
    # More domains (past a select's size, too) and more rows in the domain cost no more.
    for n in range(6):
        admin_assign_domain(actor=None, admin=shop_admin, domain=make_domain(f"d{n}.example"))
    for n in range(5):
        make_mailbox(full, f"extra{n}", override_limits=True)
    assert _queries(shop_client, "/mailboxes/room/", domain="bücher.example") <= few
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 2)
    assert _queries(shop_client, "/mailboxes/room/", domain="bücher.example") <= few
    with django_assert_max_num_queries(MAX_QUERIES - 2):
        assert shop_client.get("/domains/suggest/", {"q": "bü"}).status_code == 200


# Past the threshold: the forms ---------------------------------------------------------------


def test_forms_past_the_threshold_render_no_notes_for_other_domains(many, shop):
    client = logged_in(many)
    client.get("/mailboxes/", {"domain": "shop.example"})  # work in the shop's domain
    form = page(client.get("/mailboxes/new/"))
    # A typed field that the script gives suggestions and the chosen domain's note.
    assert re.search(r'<input type="text" name="domain" value="shop.example"[^>]*>', form)
    assert 'data-domain-suggest="/domains/suggest/"' in form
    assert 'data-room-url="/mailboxes/room/"' in form
    assert "shop.example: 1 of 3 used." in form
    assert "bücher.example" not in form and "zimmer.example" not in form
    assert "<script>" not in form and " style=" not in form
    alias_form = page(client.get("/aliases/new/"))
    assert 'data-room-url="/aliases/room/"' in alias_form
    assert "zimmer.example" not in alias_form


def test_without_javascript_a_full_typed_domain_is_refused(many, shop, full):
    client = logged_in(many)
    client.get("/mailboxes/", {"domain": "xn--bcher-kva.example"})  # the selected domain
    form = page(client.get("/mailboxes/new/"))
    # The form opens on the full domain: its reason shows, under the id the script names.
    assert MAILBOXES_FULL in form
    assert 'id="create-blocked-reason"' in form
    response = client.post(
        "/mailboxes/new/",
        {
            "domain": "Bücher.example",
            "local_part": "emil",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "quota": "",
        },
    )
    assert response.status_code == 200
    assert MAILBOXES_FULL in page(response)
    assert not Mailbox.objects.filter(username="emil@xn--bcher-kva.example").exists()
    response = client.post(
        "/aliases/new/",
        {"domain": "bücher.example", "local_part": "team", "targets": "x@elsewhere.example"},
    )
    assert response.status_code == 200
    assert ALIASES_FULL in page(response)
    assert not Alias.objects.filter(address="team@xn--bcher-kva.example").exists()
    # A domain with room is created in.
    response = client.post(
        "/aliases/new/",
        {"domain": "shop.example", "local_part": "team", "targets": "x@elsewhere.example"},
    )
    assert response.status_code == 302
    assert Alias.objects.filter(address="team@shop.example").exists()


# Suggestions for a typed domain ----------------------------------------------------------------


def test_suggestions_are_the_users_domains_that_start_with_the_text(shop_client, domain_a):
    def suggested(typed: str) -> list[str]:
        return answer(shop_client.get("/domains/suggest/", {"q": typed}))["domains"]

    make_domain("shopping.example")  # nobody's: the shop's admin does not manage it
    assert suggested("sh") == ["shop.example"]
    assert suggested("SHOP.") == ["shop.example"]
    assert suggested("bü") == ["bücher.example"]  # a piece of a Unicode label
    assert suggested("bücher.ex") == ["bücher.example"]
    assert suggested("xn--bc") == ["bücher.example"]  # shown in Unicode either way
    assert suggested("") == ["bücher.example", "shop.example"]  # by Unicode name, as lists
    assert suggested("hop") == []  # a prefix, not a piece
    assert suggested("alpha") == []  # another admin's domain


def test_suggestions_stop_at_the_limit(superadmin, super_client):
    from domains.selectors import DOMAIN_SUGGESTIONS_LIMIT

    for n in range(DOMAIN_SUGGESTIONS_LIMIT + 3):
        make_domain(f"n{n:02d}.example")
    found = answer(super_client.get("/domains/suggest/", {"q": "n"}))["domains"]
    assert found == [f"n{n:02d}.example" for n in range(DOMAIN_SUGGESTIONS_LIMIT)]


def test_typed_domain_filters_past_the_threshold_offer_suggestions(many, shop):
    """The lists' typed domain filter and the top bar's domain switcher get the same
    suggestions as the create forms (js/vimbadmin.js, initDomainSuggest)."""
    client = logged_in(many)
    listing = page(client.get("/mailboxes/"))
    suggest = 'data-domain-suggest="/domains/suggest/"'
    assert re.search(r'<input type="text" name="domain"[^>]*' + suggest, listing)
    domains = page(client.get("/domains/"))
    assert re.search(r'id="nav-domain"[^>]*' + suggest, domains)
