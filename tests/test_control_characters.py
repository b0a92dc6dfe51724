"""Control and text-direction characters: refused in identifiers, filters and names (L4, I1).

PostgreSQL cannot compare a string holding NUL, so a NUL that reached a lookup answered 500.
No identifier holds such a character, so a path with one is a 404, a query string with one a
400, and a typed value with one a field error; nothing is stored.
"""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from aliases.models import Alias
from domains.models import Domain
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox

pytestmark = pytest.mark.django_db

RLO, PDF = "\u202e", "\u202c"
SPOOF = f"{RLO}txt.exe{PDF}"

PATHS = [
    "/mailboxes/a%00b/",
    "/aliases/a%00b/",
    "/domains/a%00b/",
    "/accounts/admins/a%00b/",
    "/mailboxes/a%00b@alpha.example/edit/",
    "/aliases/a%00b@alpha.example/delete/",
    "/domains/alpha.example%00/",
    "/domains/alias-domains/a%00b/delete/",
    "/accounts/domains/a%00b/admins/",
    "/mailboxes/alice%1b@alpha.example/",
    "/mailboxes/%E2%80%AEalice@alpha.example/",
]
QUERIES = [
    "/mailboxes/?domain=a%00b",
    "/aliases/?domain=a%00b",
    "/mailboxes/?q=a%00b",
    "/aliases/?q=a%00b",
    "/domains/?q=a%00b",
    "/accounts/admins/?q=a%00b",
    "/log/?domain=a%00b",
    "/mailboxes/?domain=alpha.example&page=1%00",
    "/aliases/?domain=a%1bb",
    "/mailboxes/?q=%E2%80%AE",
    "/mailboxes/?a%00b=1",
]


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def clients(super_client, client_a, domain_a):
    make_mailbox(domain_a, "alice")
    return {"super": super_client, "domain admin": client_a, "anonymous": Client()}


@pytest.mark.parametrize("path", PATHS)
def test_control_character_in_a_path_is_not_found(clients, path):
    for who, client in clients.items():
        assert client.get(path).status_code == 404, who
        assert client.post(path, {"active": "0"}).status_code == 404, who


@pytest.mark.parametrize("url", QUERIES)
def test_control_character_in_a_query_string_is_a_bad_request(clients, url):
    for who, client in clients.items():
        response = client.get(url)
        assert response.status_code == 400, who
        assert "Bad request" in page(response)


def test_the_filters_still_work_and_a_pasted_tab_is_harmless(clients):
    client = clients["domain admin"]
    response = client.get("/mailboxes/", {"domain": "alpha.example", "q": "alice\t"})
    assert response.status_code == 200
    assert "alice@alpha.example" in page(response)
    assert client.get("/mailboxes/alice@alpha.example/").status_code == 200


@pytest.mark.parametrize("name", [SPOOF, "a\x00b", "tab\there", "two\nlines", "esc\x1b[31m"])
def test_mailbox_name_with_control_characters_is_a_field_error(client_a, domain_a, name):
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "tina",
            "name": name,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "quota": "",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not Mailbox.objects.filter(pk="tina@alpha.example").exists()
    assert not Alias.objects.filter(pk="tina@alpha.example").exists()

    make_mailbox(domain_a, "tom", name="Tom")
    response = client_a.post(
        "/mailboxes/tom@alpha.example/edit/", {"name": name, "quota": "0", "email_other": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert Mailbox.objects.get(pk="tom@alpha.example").name == "Tom"


def test_control_characters_message_names_the_problem(client_a, domain_a):
    response = client_a.post(
        "/mailboxes/new/",
        {
            "domain": "alpha.example",
            "local_part": "tina",
            "name": SPOOF,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.context["form"].errors["name"] == [
        "Remove the control or text-direction characters from this text."
    ]


@pytest.mark.parametrize("description", [SPOOF, "a\x00b", "cr\rlf", "\u2066isolate\u2069"])
def test_domain_description_with_control_characters_is_a_field_error(super_client, description):
    data = {
        "domain": "new.example",
        "description": description,
        "mailboxes": "0",
        "aliases": "0",
        "maxquota": "0",
        "quota": "0",
        "default_mailbox_quota": "0",
        "transport": "virtual",
        "active": "on",
    }
    response = super_client.post("/domains/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["description"]
    assert not Domain.objects.filter(pk="new.example").exists()
    data["description"] = "Fine"
    assert super_client.post("/domains/new/", data).status_code == 302
    data["description"] = description
    del data["domain"]
    response = super_client.post("/domains/new.example/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["description"]
    assert Domain.objects.get(pk="new.example").description == "Fine"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("local_part", "a\x00b"),
        ("local_part", f"{RLO}nimda"),
        ("targets", "x\x00@y.example"),
        ("targets", f"{RLO}moc.elpmaxe@x"),
        ("targets", "x@y\x00.example"),
        ("targets", "ro\x00ot"),
    ],
)
def test_identifiers_with_control_characters_are_field_errors(client_a, domain_a, field, value):
    data = {"domain": "alpha.example", "local_part": "fwd", "targets": "x@y.example"}
    data[field] = value
    response = client_a.post("/aliases/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Alias.objects.filter(domain_id="alpha.example").count() == 0


def test_domain_name_with_control_characters_is_a_field_error(super_client):
    response = super_client.post(
        "/domains/new/",
        {
            "domain": "a\x00b.example",
            "mailboxes": "0",
            "aliases": "0",
            "maxquota": "0",
            "quota": "0",
            "default_mailbox_quota": "0",
            "transport": "virtual",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["domain"]
    assert not Domain.objects.exclude(domain="ALL").exists()
    response = super_client.post(
        "/domains/new/",
        {
            "domain": f"{RLO}elpmaxe.a",
            "mailboxes": "0",
            "aliases": "0",
            "maxquota": "0",
            "quota": "0",
            "default_mailbox_quota": "0",
            "transport": "virtual",
        },
    )
    assert "“\N{REPLACEMENT CHARACTER}elpmaxe.a” is not a valid domain name." in page(response)
    assert not Domain.objects.exclude(domain="ALL").exists()


def test_forwarding_with_control_characters_is_a_field_error(client_a, domain_a):
    make_mailbox(domain_a, "bob")
    response = client_a.post(
        "/mailboxes/bob@alpha.example/forwarding/",
        {"targets": f"x@y.example\n{RLO}z@y.example", "keep_copy": "on"},
    )
    assert response.status_code == 200
    assert "holds a control or text-direction character" in page(response)
    assert Alias.objects.get(pk="bob@alpha.example").goto == "bob@alpha.example"


def test_names_written_by_other_tools_are_shown_with_visible_controls(
    super_client, domain_a, client_a
):
    """Postfix Admin stores names as typed; the pages never pass the override on."""
    make_mailbox(domain_a, "spoof")
    Mailbox.objects.filter(pk="spoof@alpha.example").update(name=f"Invoice {SPOOF}")
    Domain.objects.filter(pk="alpha.example").update(description=f"Shop {SPOOF}")
    shown = "\N{REPLACEMENT CHARACTER}txt.exe\N{REPLACEMENT CHARACTER}"
    for client, url in [
        (client_a, "/mailboxes/?domain=alpha.example"),
        (client_a, "/mailboxes/spoof@alpha.example/"),
        (super_client, "/domains/"),
        (client_a, "/domains/alpha.example/"),
    ]:
        text = page(client.get(url))
        assert RLO not in text, url
        assert PDF not in text, url
        assert shown in text, url
    owner = Client()
    response = owner.post(
        reverse("selfservice:login"), {"address": "spoof@alpha.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    text = page(owner.get(reverse("selfservice:overview")))
    assert f"Invoice {shown}" in text
    assert RLO not in text
