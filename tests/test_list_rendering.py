"""List pages render their rows in one pass: same cells, links, toggle forms and badges.

And the domain filter and the create forms switch from a select to a checked text field when a
user has more domains than a select can usefully hold.
"""

from __future__ import annotations

import html
import re

import pytest

from aliases.models import Alias
from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db


def page(response) -> str:
    """Return the page as the user reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def rows(response) -> list[str]:
    """Return the <tr> rows of the page's table body."""
    body = response.content.decode().split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr\b.*?</tr>", body, flags=re.S)


def row_of(response, text: str) -> str:
    matches = [row for row in rows(response) if text in row]
    assert len(matches) == 1, f"one row with {text!r}: {matches}"
    return matches[0]


def toggle_form_of(row: str, action: str, *, active: bool, next_path: str) -> None:
    """Assert the row holds the one-click toggle form, CSRF token included."""
    form = re.search(
        r'<form method="post" action="([^"]+)" class="d-inline">(.*?)</form>', row, re.S
    )
    assert form, row
    assert form.group(1) == action
    inner = form.group(2)
    assert re.search(r'<input type="hidden" name="csrfmiddlewaretoken" value="\w{64}">', inner)
    assert f'<input type="hidden" name="active" value="{0 if active else 1}">' in inner
    assert f'<input type="hidden" name="next" value="{next_path}">' in inner
    # The state is a badge; the button is named by its action and the object.
    state = "Active" if active else "Inactive"
    assert f">{state}</span>" in inner
    verb = "Deactivate" if active else "Activate"
    name = action.split("/")[-3]  # /<list>/<name>/toggle/
    assert f'>{verb}<span class="visually-hidden"> {name}</span></button>' in inner


def test_mailbox_list_rows(super_client, domain_a):
    make_mailbox(domain_a, "alice", name="Alice <A>")
    bob = make_mailbox(domain_a, "bob")
    Mailbox.objects.filter(pk=bob.pk).update(active=False)

    response = super_client.get("/mailboxes/?q=&domain=alpha.example")

    assert response.status_code == 200
    text = response.content.decode()
    assert re.search(r'<th[^>]*scope="col"[^>]*>\s*<a href="\?[^"]*sort=name', text)
    alice = row_of(response, "alice@alpha.example")
    assert '<a href="/mailboxes/alice@alpha.example/">alice@alpha.example</a>' in alice
    assert "<td>Alice &lt;A&gt;</td>" in alice
    assert "<td>alpha.example</td>" in alice
    toggle_form_of(
        alice,
        "/mailboxes/alice@alpha.example/toggle/",
        active=True,
        next_path="/mailboxes/?q=&amp;domain=alpha.example",
    )
    for url, label in [("edit/", "Edit"), ("password/", "Password"), ("purge/", "Purge")]:
        assert f'href="/mailboxes/alice@alpha.example/{url}">{label}</a>' in alice
        # Named by action and object for screen readers, not "Edit, Edit, Edit".
        assert f'aria-label="{label} alice@alpha.example" href' in alice
    bob_row = row_of(response, "bob@alpha.example")
    toggle_form_of(
        bob_row,
        "/mailboxes/bob@alpha.example/toggle/",
        active=False,
        next_path="/mailboxes/?q=&amp;domain=alpha.example",
    )


def test_toggle_form_from_the_list_works(super_client, domain_a):
    make_mailbox(domain_a, "alice")
    response = super_client.get("/mailboxes/")
    token = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', row_of(response, "alice@"))
    super_client.handler.enforce_csrf_checks = True

    response = super_client.post(
        "/mailboxes/alice@alpha.example/toggle/",
        {"csrfmiddlewaretoken": token.group(1), "active": "0", "next": "/mailboxes/"},
    )

    assert response.status_code == 302
    assert Mailbox.objects.get(username="alice@alpha.example").active is False


def test_alias_list_rows_and_mailbox_alias_badge(super_client, domain_a):
    make_mailbox(domain_a, "alice")
    make_alias(domain_a, "sales", ["a@x.example", "b@x.example", "c@x.example", "d@x.example"])
    Alias.objects.filter(address="sales@alpha.example").update(active=False)

    response = super_client.get("/aliases/?show_mailbox_aliases=on&domain=")

    sales = row_of(response, "sales@alpha.example")
    assert '<a href="/aliases/sales@alpha.example/">sales@alpha.example</a>' in sales
    assert "a@x.example, b@x.example, c@x.example" in sales
    assert "and 1 more" in sales
    toggle_form_of(
        sales,
        "/aliases/sales@alpha.example/toggle/",
        active=False,
        next_path="/aliases/?show_mailbox_aliases=on&amp;domain=",
    )
    assert 'href="/aliases/sales@alpha.example/delete/">Delete</a>' in sales
    own = row_of(response, '">alice@alpha.example</a>')
    assert '<a href="/mailboxes/alice@alpha.example/">alice@alpha.example</a>' in own
    assert "<form" not in own
    assert '<span class="badge text-bg-success" title="Follows its mailbox">Active</span>' in own
    assert 'href="/mailboxes/alice@alpha.example/#forwarding">Mailbox forwarding</a>' in own


def test_domain_list_toggle_for_super_admin_badge_for_domain_admin(
    super_client, client_a, domain_a
):
    make_mailbox(domain_a, "alice")

    row = row_of(super_client.get("/domains/"), "alpha.example/")
    assert '<a href="/domains/alpha.example/">alpha.example</a>' in row
    assert "<td>1 / ∞</td>" in row
    # Deactivating a domain is a link to a page that asks first, not a one-click form.
    assert "<form" not in row
    assert '<span class="badge text-bg-success">Active</span>' in row
    assert (
        '<a href="/domains/alpha.example/toggle/?next=%2Fdomains%2F" class="btn btn-sm '
        'btn-outline-secondary">Deactivate<span class="visually-hidden"> alpha.example</span></a>'
    ) in row

    row = row_of(client_a.get("/domains/"), "alpha.example/")
    assert "<form" not in row
    assert '<span class="badge text-bg-success">Active</span>' in row


def test_admin_list_and_log_rows(super_client, superadmin, admin_a):
    response = super_client.get("/accounts/admins/")
    row = row_of(response, "admin@alpha.example")
    assert '<a href="/accounts/admins/admin@alpha.example/">admin@alpha.example</a>' in row
    assert '<span class="badge text-bg-secondary">Domain admin</span>' in row
    toggle_form_of(
        row,
        "/accounts/admins/admin@alpha.example/toggle/",
        active=True,
        next_path="/accounts/admins/",
    )
    root = row_of(response, "root@admins.example")
    assert '<span class="badge text-bg-danger">Super admin</span>' in root

    response = super_client.get("/log/")
    assert any("admin@alpha.example" in row and "<td>" in row for row in rows(response))


def test_empty_list_shows_the_empty_state(super_client, domain_a):
    response = super_client.get("/aliases/?domain=")

    text = page(response)
    assert "No aliases match." in text
    assert "Create the first one" in text


def test_pagination_and_sort_headers_stay(super_client, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    for name in ("a", "b", "c"):
        make_alias(domain_a, name)

    response = super_client.get("/aliases/?domain=")

    text = response.content.decode()
    assert len(rows(response)) == 2
    assert 'class="pagination' in text
    assert "page=2" in text
    assert re.search(r'<th[^>]*scope="col"[^>]*>\s*<a href="\?[^"]*sort=', text)


# The text-field fallback for users with many domains.


@pytest.fixture
def few_selects(monkeypatch):
    """Make one domain already "too many" for a select."""
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 0)


def test_filter_is_a_select_below_the_threshold(client_a, domain_a):
    text = client_a.get("/mailboxes/").content.decode()

    assert re.search(r'<select name="domain"[^>]*>', text)
    assert '<option value="alpha.example">alpha.example</option>' in text


def test_filter_becomes_a_text_field_above_the_threshold(few_selects, client_a, domain_a, domain_b):
    make_mailbox(domain_a, "alice")
    make_mailbox(domain_b, "bob")

    response = client_a.get("/mailboxes/?domain=alpha.example")

    text = response.content.decode()
    assert '<select name="domain"' not in text
    assert re.search(r'<input type="text" name="domain" value="alpha.example"', text)
    assert row_of(response, "alice@alpha.example")
    assert "You do not manage" not in page(response)

    response = client_a.get("/aliases/?domain=alpha.example")
    assert '<select name="domain"' not in response.content.decode()


def test_text_filter_refuses_an_unmanaged_domain(few_selects, client_a, domain_a, domain_b):
    make_mailbox(domain_a, "alice")
    make_mailbox(domain_b, "bob")

    for url in ("/mailboxes/?domain=beta.example", "/aliases/?domain=beta.example"):
        response = client_a.get(url)

        assert response.status_code == 200
        assert "You do not manage the domain beta.example" in page(response)
        assert "bob@beta.example" not in page(response)
        assert "alice@alpha.example" not in page(response)


def test_text_filter_takes_a_unicode_domain(few_selects, superadmin, super_client):
    idn = make_domain("bücher.example")
    make_mailbox(idn, "anna")

    response = super_client.get("/mailboxes/?domain=bücher.example")

    assert "anna@bücher.example" in page(response)
    assert "You do not manage" not in page(response)


def test_create_forms_take_a_typed_domain(few_selects, client_a, domain_a, domain_b):
    response = client_a.get("/mailboxes/new/")
    assert re.search(r'<input type="text" name="domain"', response.content.decode())

    data = {
        "domain": "ALPHA.example",
        "local_part": "alice",
        "name": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": "",
        "email_other": "",
    }
    response = client_a.post("/mailboxes/new/", data)
    assert response.status_code == 302
    assert Mailbox.objects.get(username="alice@alpha.example").domain_id == "alpha.example"

    response = client_a.get("/aliases/new/")
    assert re.search(r'<input type="text" name="domain"', response.content.decode())
    response = client_a.post(
        "/aliases/new/", {"domain": "alpha.example", "local_part": "sales", "targets": "a@x.org"}
    )
    assert response.status_code == 302
    assert Alias.objects.get(address="sales@alpha.example").goto == "a@x.org"


def test_create_forms_refuse_an_unmanaged_domain(few_selects, client_a, domain_a, domain_b):
    data = {
        "domain": "beta.example",
        "local_part": "mallory",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    response = client_a.post("/mailboxes/new/", data)

    assert response.status_code == 200
    assert "Enter a domain you manage." in page(response)
    assert not Mailbox.objects.filter(domain="beta.example").exists()

    response = client_a.post(
        "/aliases/new/", {"domain": "nowhere.example", "local_part": "x", "targets": "a@x.org"}
    )
    assert response.status_code == 200
    assert "Enter a domain you manage." in page(response)
    response = client_a.post(
        "/aliases/new/", {"domain": "beta.example", "local_part": "x", "targets": "a@x.org"}
    )
    assert "Enter a domain you manage." in page(response)
    assert not Alias.objects.filter(domain="beta.example").exists()
