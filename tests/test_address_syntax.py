"""One address and domain check, as Postfix Admin's: special-use domains and local targets.

Postfix Admin accepts mailboxes and aliases under `corp.local`, `a.test` or `h.home.arpa`, and
alias destinations such as `root` (a local system user) or `postmaster@localhost`; an adopted
database holds such rows, and the pages here have to create and edit them too.
"""

from __future__ import annotations

import html

import pytest
from django.test import Client

from accounts.models import Admin
from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

SPECIAL_USE = ["corp.local", "a.test", "h.home.arpa"]


def page(response) -> str:
    return html.unescape(response.content.decode())


def create_domain(client: Client, name: str) -> None:
    response = client.post(
        "/domains/new/",
        {
            "domain": name,
            "mailboxes": "0",
            "aliases": "0",
            "maxquota": "0",
            "quota": "0",
            "default_mailbox_quota": "0",
            "transport": "virtual",
            "active": "on",
        },
        follow=True,
    )
    assert f"Domain {name} created." in page(response)


def create_mailbox(client: Client, domain: str, local_part: str, **extra: str) -> str:
    response = client.post(
        "/mailboxes/new/",
        {
            "domain": domain,
            "local_part": local_part,
            "name": "",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "quota": "",
            **extra,
        },
        follow=True,
    )
    text = page(response)
    assert f"Mailbox {local_part.lower()}@{domain} created." in text, text
    return text


def create_alias(client: Client, domain: str, local_part: str, targets: str) -> str:
    response = client.post(
        "/aliases/new/",
        {"domain": domain, "local_part": local_part, "targets": targets},
        follow=True,
    )
    text = page(response)
    assert f"Alias {local_part.lower()}@{domain} created." in text, text
    return text


def test_super_admin_and_domain_admin_work_in_special_use_domains(super_client):
    for name in SPECIAL_USE:
        create_domain(super_client, name)
    # The domain admin's own address and alternative address live there too.
    response = super_client.post(
        "/accounts/admins/new/",
        {
            "username": "Ops@Corp.Local",
            "password": PASSWORD,
            "password2": PASSWORD,
            "domains": SPECIAL_USE,
            "email_other": "ops@h.home.arpa",
        },
    )
    assert response.status_code == 302, page(response)
    ops = Admin.objects.get(pk="ops@corp.local")
    assert ops.email_other == "ops@h.home.arpa"
    domain_admin = Client()
    domain_admin.force_login(ops)

    for name in SPECIAL_USE:
        create_mailbox(super_client, name, "Tina", email_other=f"tina.home@{name}")
        create_alias(super_client, name, "info", f"tina@{name}\nroot\npostmaster@localhost")
        create_mailbox(domain_admin, name, "tom")
        create_alias(domain_admin, name, "team", f"tom@{name}, tina@{name}")

    for name in SPECIAL_USE:
        assert set(Mailbox.objects.filter(domain_id=name).values_list("username", flat=True)) == {
            f"tina@{name}",
            f"tom@{name}",
        }
        assert Mailbox.objects.get(pk=f"tina@{name}").email_other == f"tina.home@{name}"
        # What Postfix reads from virtual_alias_maps.
        assert dict(Alias.objects.filter(domain_id=name).values_list("address", "goto")) == {
            f"tina@{name}": f"tina@{name}",
            f"tom@{name}": f"tom@{name}",
            f"info@{name}": f"tina@{name},root,postmaster@localhost",
            f"team@{name}": f"tom@{name},tina@{name}",
        }
    text = page(domain_admin.get("/aliases/", {"domain": "h.home.arpa"}))
    assert "tina@h.home.arpa, root, postmaster@localhost" in text
    assert "tom@a.test" in page(domain_admin.get("/mailboxes/", {"domain": "a.test"}))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("root", "root"),
        ("Postmaster", "postmaster"),
        ("postmaster@localhost", "postmaster@localhost"),
        ("Abuse@LocalHost", "abuse@localhost"),
        ("someone@a.test", "someone@a.test"),
        ("@h.home.arpa", "@h.home.arpa"),
    ],
)
def test_local_targets_are_accepted_as_postfix_admin_does(client_a, domain_a, typed, stored):
    # A whole-domain forward (`@domain`) belongs to the catch-all, whose local part is empty.
    local = "" if typed.startswith("@") else "fwd"
    response = client_a.post(
        "/aliases/new/", {"domain": "alpha.example", "local_part": local, "targets": typed}
    )
    assert response.status_code == 302, page(response)
    assert Alias.objects.get(pk=f"{local}@alpha.example").goto == stored


def test_mailbox_forwarding_to_a_local_user(client_a, domain_a):
    make_mailbox(domain_a, "bob")
    response = client_a.post(
        "/mailboxes/bob@alpha.example/forwarding/",
        {"targets": "root\npostmaster@localhost", "keep_copy": "on"},
    )
    assert response.status_code == 302, page(response)
    assert Alias.objects.get(pk="bob@alpha.example").goto == (
        "bob@alpha.example,root,postmaster@localhost"
    )


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ("ro-ot", "a local user name holds only letters a-z and digits"),
        ("a..b@x.example", "cannot start or end with a dot or have two in a row"),
        ('"quoted"@x.example', "may hold only letters, digits, dots and"),
        ("a@b@x.example", "it has more than one @"),
        ("someone@localhost.", None),
        ("x@local", "the part after the @ is not a valid domain name"),
        ("x" * 65 + "@x.example", "longer than 64 bytes"),
        ("x@" + ".".join(["d" * 63] * 4), "the part after the @ is not a valid domain name"),
    ],
)
def test_bad_targets_get_a_clear_error(client_a, domain_a, targets, message):
    response = client_a.post(
        "/aliases/new/", {"domain": "alpha.example", "local_part": "fwd", "targets": targets}
    )
    if message is None:
        # A trailing dot is the root of the DNS: the same host, stored without it.
        assert response.status_code == 302
        assert Alias.objects.get(pk="fwd@alpha.example").goto == "someone@localhost"
        return
    assert response.status_code == 200
    errors = response.context["form"].errors["targets"]
    assert any(message in error for error in errors), errors
    assert not Alias.objects.filter(pk="fwd@alpha.example").exists()


def test_lengths_are_checked_before_the_database(super_client):
    long_label = "d" * 63
    domain = make_domain(f"{long_label}.{long_label}.{long_label}.{'e' * 57}")
    assert len(domain.domain) == 249
    response = super_client.post(
        "/aliases/new/",
        {"domain": domain.domain, "local_part": "abcdef", "targets": "x@y.example"},
    )
    # 6 + 1 + 249 = 256 characters: one more than alias.address holds.
    assert response.status_code == 200
    assert "is longer than 255 characters" in page(response)
    response = super_client.post(
        "/domains/new/",
        {
            "domain": f"{long_label}.{long_label}.{long_label}.{'e' * 62}",
            "mailboxes": "0",
            "aliases": "0",
            "maxquota": "0",
            "quota": "0",
            "default_mailbox_quota": "0",
            "transport": "virtual",
        },
    )
    assert "is not a valid domain name" in page(response)


def test_unicode_is_kept_as_before(client_a, domain_a):
    """IDN domains are stored as punycode, UTF-8 local parts of destinations as typed."""
    create_alias(client_a, "alpha.example", "Bücher", "Jürgen@Bücher.example")
    alias = Alias.objects.get(pk="bücher@alpha.example")
    assert alias.goto == "jürgen@xn--bcher-kva.example"


def test_adopted_special_use_rows_can_be_edited(client_a, domain_a):
    """Rows Postfix Admin wrote (a local target among them) save again unchanged."""
    make_alias(domain_a, "legacy", ["root", "ops@corp.local"])
    response = client_a.post(
        "/aliases/legacy@alpha.example/", {"targets": "root\nops@corp.local\nnew@a.test"}
    )
    assert response.status_code == 302, page(response)
    assert Alias.objects.get(pk="legacy@alpha.example").goto == "root,ops@corp.local,new@a.test"
