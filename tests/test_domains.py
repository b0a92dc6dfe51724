"""Domain pages: list with counts and usage, create, detail, edit, toggle, purge, permissions."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import admin_assign_domain
from aliases.models import Alias
from core.sticky import SESSION_KEY
from domains.models import AliasDomain, Domain, DomainAdmin, DomainSettings
from domains.services import alias_domain_create, domain_update
from mailboxes.models import Mailbox
from pfa.models import Log, Quota2, Vacation, VacationNotification
from tests.factories import make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

LIST = reverse("domains:domain-list")
CREATE = reverse("domains:domain-create")
MB = 1024000  # the default quota multiplier: bytes per MB unit


def _detail(name: str) -> str:
    return reverse("domains:domain-detail", args=[name])


def _rows(html: str) -> list[str]:
    """Return the text of each table body row, tags stripped, whitespace collapsed."""
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr.*?</tr>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _row_for(html: str, text: str) -> str:
    matches = [row for row in _rows(html) if text in row]
    assert len(matches) == 1, (text, _rows(html))
    return matches[0]


def _create_data(**overrides: object) -> dict[str, object]:
    data = {
        "domain": "new.example",
        "description": "A new one",
        "mailboxes": "20",
        "aliases": "30",
        "maxquota": "500",
        "quota": "5000",
        "default_mailbox_quota": "250",
        "transport": "virtual",
        "active": "on",
        "create_default_aliases": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _add_vacation(address: str, domain: str) -> None:
    """Write vacation rows as Postfix Admin's vacation feature would."""
    table, notif = (
        connection.ops.quote_name("vacation"),
        connection.ops.quote_name("vacation_notification"),
    )
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                f"INSERT INTO {table} (email, subject, body, cache, domain, active) "
                "VALUES (%s, 'away', 'gone', '', %s, 1)",
                [address, domain],
            )
        else:
            cursor.execute(
                f"INSERT INTO {table} (email, subject, body, domain, active) "
                "VALUES (%s, 'away', 'gone', %s, %s)",
                [address, domain, True],
            )
        cursor.execute(
            f"INSERT INTO {notif} (on_vacation, notified) VALUES (%s, %s)",
            [address, "sender@elsewhere.example"],
        )


# --- list ------------------------------------------------------------------------------------


def test_list_shows_counts_quota_and_usage(super_client, domain_a, domain_b):
    domain_update(
        actor=None,
        domain=domain_a,
        description="Alpha corp",
        aliases=10,
        mailboxes=5,
        maxquota=0,
        quota=3000,
        default_mailbox_quota=0,
        transport="virtual",
        backupmx=False,
        active=True,
    )
    first = make_mailbox(domain_a, "one", quota_bytes=100 * MB)
    make_mailbox(domain_a, "two", quota_bytes=200 * MB)
    make_alias(domain_a, "info")
    Quota2.objects.create(username=first.username, bytes=3 * 1024 * 1024, messages=4)
    # Dovecot's usage reaches the list through cron's `domain_counters --usage-only`.
    call_command("domain_counters", "--usage-only", stdout=io.StringIO())
    response = super_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    row = _row_for(html, "alpha.example")
    # Two mailboxes of five; one alias of ten (the mailboxes' own alias rows do not count).
    assert "Alpha corp" in row
    assert "2 / 5" in row
    assert "1 / 10" in row
    assert "300 MB / 2.9 GB" in row
    assert "3.1 MB" in row
    beta = _row_for(html, "beta.example")
    assert "0 / ∞" in beta
    assert "0 B" in beta
    assert "ALL" not in " ".join(_rows(html))


def test_list_shows_idn_in_unicode_and_search_matches_both_forms(super_client):
    make_domain("bücher.example", description="Books")
    make_domain("other.example", description="Other")
    html = super_client.get(LIST).content.decode()
    assert "bücher.example" in html
    for term in ("bücher", "xn--bcher", "books", "BÜCHER.example"):
        rows = _rows(super_client.get(LIST, {"q": term}).content.decode())
        assert len(rows) == 1, term
        assert "bücher.example" in rows[0]
    assert "No domains match." in super_client.get(LIST, {"q": "nothing"}).content.decode()


def test_list_sorts_by_mailbox_count(super_client):
    few = make_domain("few.example")
    many = make_domain("many.example")
    make_mailbox(many, "a")
    make_mailbox(many, "b")
    make_mailbox(few, "a")
    rows = _rows(super_client.get(LIST, {"sort": "-mailbox_count"}).content.decode())
    assert "many.example" in rows[0]
    assert "few.example" in rows[1]
    rows = _rows(super_client.get(LIST, {"sort": "mailbox_count"}).content.decode())
    assert "few.example" in rows[0]


def test_list_paginates(super_client, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 3
    for i in range(5):
        make_domain(f"page{i}.example")
    first = _rows(super_client.get(LIST).content.decode())
    second = _rows(super_client.get(LIST, {"page": 2}).content.decode())
    assert [r.split()[0] for r in first] == ["page0.example", "page1.example", "page2.example"]
    assert [r.split()[0] for r in second] == ["page3.example", "page4.example"]


def test_domain_admin_sees_only_own_domains_and_no_toggle(client_a, domain_a, domain_b):
    html = client_a.get(LIST).content.decode()
    rows = _rows(html)
    assert len(rows) == 1
    assert "alpha.example" in rows[0]
    assert reverse("domains:domain-toggle", args=["alpha.example"]) not in html
    assert CREATE not in html
    assert client_a.get(LIST, {"q": "beta"}).content.decode().count("beta.example") == 0


def test_super_admin_list_has_toggle_buttons(super_client, domain_a):
    html = super_client.get(LIST).content.decode()
    assert reverse("domains:domain-toggle", args=["alpha.example"]) in html
    assert 'method="post"' in html


def _list_queries(client, count: int) -> int:
    for i in range(count):
        domain = make_domain(f"q{count}-{i}.example")
        mailbox = make_mailbox(domain, "user", quota_bytes=MB)
        make_alias(domain, "info")
        Quota2.objects.create(username=mailbox.username, bytes=1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(_rows(response.content.decode())) == min(count, 50)
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(super_client):
    few = _list_queries(super_client, 5)
    Domain.objects.exclude(domain="ALL").update(active=True)  # keep data, add many more
    many = _list_queries(super_client, 60)
    assert few == many


# --- create ----------------------------------------------------------------------------------


def test_create_form_has_settings_defaults(super_client, settings):
    settings.VIMBADMIN_DOMAIN_DEFAULT_MAILBOXES = 77
    settings.VIMBADMIN_DOMAIN_DEFAULT_ALIASES = 88
    settings.VIMBADMIN_DOMAIN_DEFAULT_MAXQUOTA = 999
    settings.VIMBADMIN_TRANSPORT_OPTIONS = ["virtual", "lmtp:unix:private/dovecot-lmtp"]
    settings.VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT = "lmtp:unix:private/dovecot-lmtp"
    html = super_client.get(CREATE).content.decode()
    assert 'name="mailboxes" value="77"' in html
    assert 'name="aliases" value="88"' in html
    assert 'name="maxquota" value="999"' in html
    assert '<option value="lmtp:unix:private/dovecot-lmtp" selected>' in html
    assert re.search(r'name="create_default_aliases"[^>]*checked', html)


def test_create_idn_domain_stores_punycode_and_default_aliases(super_client, settings):
    settings.VIMBADMIN_DEFAULT_ALIASES = "postmaster=hostmaster@ops.example,abuse=abuse@%d"
    response = super_client.post(CREATE, _create_data(domain="Bücher.Example"))
    assert response.status_code == 302
    assert response["Location"] == _detail("xn--bcher-kva.example")
    domain = Domain.objects.get(domain="xn--bcher-kva.example")
    assert (domain.mailboxes, domain.aliases, domain.maxquota, domain.quota) == (20, 30, 500, 5000)
    assert domain.description == "A new one"
    assert domain.transport == "virtual"
    assert domain.active is True
    assert DomainSettings.objects.get(domain_id=domain.pk).default_mailbox_quota == 250
    aliases = dict(Alias.objects.filter(domain_id=domain.pk).values_list("address", "goto"))
    # abuse@%d points at itself: refused, as for any alias, and the page says why.
    assert aliases == {"postmaster@xn--bcher-kva.example": "hostmaster@ops.example"}
    assert Log.objects.filter(action="create_domain", domain=domain.pk).exists()
    page = super_client.get(response["Location"])
    html = page.content.decode()
    assert "bücher.example" in html
    assert "Domain bücher.example created." in html
    assert "Aliases created: postmaster@bücher.example → hostmaster@ops.example." in html
    assert (
        "The alias abuse@bücher.example → abuse@bücher.example was not created: "
        "An alias cannot point only at itself." in html
    )


def test_create_without_default_aliases(super_client):
    data = _create_data(create_default_aliases=None)
    assert super_client.post(CREATE, data).status_code == 302
    assert not Alias.objects.filter(domain_id="new.example").exists()


def test_create_accepts_disabled_and_unlimited_limits(super_client):
    data = _create_data(mailboxes="-1", aliases="0", maxquota="0", quota="-1")
    assert super_client.post(CREATE, data).status_code == 302
    domain = Domain.objects.get(domain="new.example")
    assert (domain.mailboxes, domain.aliases, domain.maxquota, domain.quota) == (-1, 0, 0, -1)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"domain": "not a domain"}, "domain", "is not a valid domain name"),
        ({"domain": "alpha.example"}, "domain", "This domain already exists."),
        ({"domain": ""}, "domain", "This field is required."),
        ({"mailboxes": "-2"}, "mailboxes", "Use -1 (disabled), 0 (unlimited)"),
        ({"quota": "lots"}, "quota", "Enter a whole number."),
        ({"transport": "smtp:[evil]"}, "transport", "Select a valid choice."),
        ({"maxquota": "100", "default_mailbox_quota": "200"}, "default_mailbox_quota", "exceed"),
    ],
)
def test_create_bad_input_shows_field_errors(super_client, domain_a, overrides, field, message):
    before = Domain.objects.count()
    response = super_client.post(CREATE, _create_data(**overrides))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert message.split("“")[0] in response.content.decode()
    assert Domain.objects.count() == before
    assert not Alias.objects.filter(domain_id="new.example").exists()


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_summary_links_and_selects_domain(super_client, domain_a, domain_b):
    make_mailbox(domain_a, "one")
    make_alias(domain_a, "info")
    alias_domain_create(actor=None, alias_domain=domain_b, target_domain=domain_a)
    response = super_client.get(_detail("alpha.example"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{reverse('mailboxes:mailbox-list')}?domain=alpha.example" in html
    assert f"{reverse('aliases:alias-list')}?domain=alpha.example" in html
    assert reverse("accounts:domain-admins", args=["alpha.example"]) in html
    assert reverse("domains:domain-edit", args=["alpha.example"]) in html
    assert "beta.example → alpha.example" in html
    assert "Create mailbox" in html  # recent log rows, as words
    # Opening a domain does not select it (first-hour review, F12): a button does.
    assert SESSION_KEY not in super_client.session
    assert "Work in this domain" in html
    response = super_client.post(reverse("domains:domain-work", args=["alpha.example"]))
    assert response["Location"] == reverse("mailboxes:mailbox-list")
    assert super_client.session[SESSION_KEY] == "alpha.example"
    html = super_client.get(_detail("alpha.example")).content.decode()
    assert "Stop working in this domain" in html
    super_client.post(reverse("domains:domain-work", args=["alpha.example"]), {"clear": "1"})
    assert SESSION_KEY not in super_client.session


def test_detail_for_domain_admin_has_no_super_actions(client_a, domain_a, domain_b):
    response = client_a.get(_detail("alpha.example"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("domains:domain-edit", args=["alpha.example"]) not in html
    assert reverse("domains:domain-purge", args=["alpha.example"]) not in html
    assert reverse("accounts:domain-admins", args=["alpha.example"]) not in html
    assert client_a.get(_detail("beta.example")).status_code == 404
    assert client_a.get(_detail("ALL")).status_code == 404
    assert SESSION_KEY not in client_a.session
    # The explicit choice is scoped like the page: another domain is a 404.
    assert client_a.post(reverse("domains:domain-work", args=["beta.example"])).status_code == 404
    assert client_a.get(reverse("domains:domain-work", args=["alpha.example"])).status_code == 405


def test_detail_of_missing_domain_is_404(super_client):
    assert super_client.get(_detail("nowhere.example")).status_code == 404
    assert super_client.get(_detail("ALL")).status_code == 404


def test_domain_list_clears_selected_domain(super_client, domain_a):
    super_client.post(reverse("domains:domain-work", args=["alpha.example"]))
    html = super_client.get(LIST).content.decode()
    assert "Selected domain" in html
    assert f'href="{LIST}?domain="' in html
    super_client.get(LIST, {"domain": ""})
    assert SESSION_KEY not in super_client.session


# --- edit ------------------------------------------------------------------------------------


def test_edit_prefills_and_saves(super_client, domain_a):
    url = reverse("domains:domain-edit", args=["alpha.example"])
    html = super_client.get(url).content.decode()
    assert 'id="id_domain"' not in html  # the name cannot be changed
    assert 'id="id_description"' in html
    data = _create_data(domain=None, create_default_aliases=None, backupmx="on", active=None)
    data["description"] = "Edited"
    response = super_client.post(url, data)
    assert response.status_code == 302
    domain_a.refresh_from_db()
    assert domain_a.description == "Edited"
    assert (domain_a.mailboxes, domain_a.aliases, domain_a.maxquota, domain_a.quota) == (
        20,
        30,
        500,
        5000,
    )
    assert domain_a.backupmx is True
    assert domain_a.active is False
    assert DomainSettings.objects.get(domain_id="alpha.example").default_mailbox_quota == 250
    assert Log.objects.filter(action="edit_domain", domain="alpha.example").exists()


def test_edit_keeps_unlisted_transport_of_adopted_domain(super_client, domain_a):
    Domain.objects.filter(pk=domain_a.pk).update(transport="smtp:[relay.example]")
    url = reverse("domains:domain-edit", args=["alpha.example"])
    html = super_client.get(url).content.decode()
    assert '<option value="smtp:[relay.example]" selected>' in html


def test_edit_bad_input_changes_nothing(super_client, domain_a):
    url = reverse("domains:domain-edit", args=["alpha.example"])
    data = _create_data(domain=None, aliases="-5", description="Nope")
    response = super_client.post(url, data)
    assert response.status_code == 200
    assert "Use -1 (disabled), 0 (unlimited)" in response.content.decode()
    domain_a.refresh_from_db()
    assert domain_a.description != "Nope"


# --- toggle ----------------------------------------------------------------------------------


def test_toggle_deactivates_and_activates(super_client, domain_a):
    url = reverse("domains:domain-toggle", args=["alpha.example"])
    response = super_client.post(url, {"active": "0", "next": LIST + "?q=alpha", "confirmed": "1"})
    assert response.status_code == 302
    assert response["Location"] == LIST + "?q=alpha"
    domain_a.refresh_from_db()
    assert domain_a.active is False
    assert Log.objects.filter(action="edit_domain", data="alpha.example: inactive").exists()
    html = super_client.get(LIST).content.decode()
    assert "alpha.example deactivated." in html
    super_client.post(url, {"active": "1"})
    domain_a.refresh_from_db()
    assert domain_a.active is True


def test_toggle_ignores_foreign_next(super_client, domain_a):
    url = reverse("domains:domain-toggle", args=["alpha.example"])
    data = {"active": "0", "next": "https://evil.example/", "confirmed": "1"}
    assert super_client.post(url, data)["Location"] == LIST
    response = super_client.get(url + "?next=https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == _detail("alpha.example")  # already inactive: nothing to ask
    domain_a.refresh_from_db()
    super_client.post(url, {"active": "1"})
    response = super_client.get(url + "?next=https://evil.example/")
    assert 'href="https://evil.example/' not in response.content.decode()


def test_deactivating_a_domain_asks_first_with_what_it_stops(super_client, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    make_mailbox(domain_a, "bert")
    make_alias(domain_a, "sales", ["anna@alpha.example"])
    alias_domain_create(actor=None, alias_domain=domain_b, target_domain=domain_a)
    url = reverse("domains:domain-toggle", args=["alpha.example"])

    # A deactivating POST without the confirmation only leads to the question.
    response = super_client.post(url, {"active": "0", "next": LIST})
    assert response.status_code == 302
    assert response["Location"] == url + "?next=%2Fdomains%2F"
    domain_a.refresh_from_db()
    assert domain_a.active is True

    response = super_client.get(response["Location"])
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.content.decode())
    assert "Deactivate alpha.example?" in text
    assert "<li>2 mailboxes</li>" in text
    assert "<li>1 alias</li>" in text
    assert "beta.example" in text
    assert '<input type="hidden" name="confirmed" value="1">' in text
    assert '<input type="hidden" name="next" value="/domains/">' in text
    assert f'href="{LIST}">Cancel</a>' in text
    domain_a.refresh_from_db()
    assert domain_a.active is True

    response = super_client.post(url, {"active": "0", "confirmed": "1", "next": LIST})
    assert response["Location"] == LIST
    domain_a.refresh_from_db()
    assert domain_a.active is False


def test_toggle_message_offers_an_undo(super_client, domain_a):
    url = reverse("domains:domain-toggle", args=["alpha.example"])
    response = super_client.post(url, {"active": "0", "confirmed": "1", "next": LIST}, follow=True)
    text = response.content.decode()
    assert "alpha.example deactivated." in text
    undo_form = r'<form method="post" action="([^"]+)" class="d-inline ms-2">(.*?)</form>'
    undo = re.search(undo_form, text)
    assert undo, text
    assert undo.group(1) == url
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{64}"', undo.group(2))
    assert '<input type="hidden" name="active" value="1">' in undo.group(2)
    assert '<input type="hidden" name="next" value="/domains/">' in undo.group(2)
    assert ">Undo</button>" in undo.group(2)

    response = super_client.post(url, {"active": "1", "confirmed": "1", "next": LIST}, follow=True)
    domain_a.refresh_from_db()
    assert domain_a.active is True
    assert "alpha.example activated." in response.content.decode()


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("domain-create", "get"),
        ("domain-create", "post"),
        ("domain-edit", "get"),
        ("domain-edit", "post"),
        ("domain-purge", "get"),
        ("domain-purge", "post"),
        ("domain-toggle", "get"),
        ("domain-toggle", "post"),
    ],
)
def test_domain_admin_gets_404_on_super_admin_pages(client_a, domain_a, domain_b, name, method):
    for target in ("alpha.example", "beta.example"):
        args = [] if name == "domain-create" else [target]
        url = reverse(f"domains:{name}", args=args)
        data = _create_data(domain="sneaky.example", confirm=target, active="0")
        response = getattr(client_a, method)(url, data if method == "post" else None)
        assert response.status_code == 404, (name, method, target)
    domain_a.refresh_from_db()
    assert domain_a.active is True
    assert Domain.objects.filter(domain__in=["alpha.example", "beta.example"]).count() == 2
    assert not Domain.objects.filter(domain="sneaky.example").exists()


def test_anonymous_is_sent_to_login(client, domain_a):
    for url in (LIST, CREATE, _detail("alpha.example")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_inactive_domain_admin_assignment_hides_domain(client_a, domain_a):
    DomainAdmin.objects.filter(domain_id="alpha.example").update(active=False)
    assert client_a.get(_detail("alpha.example")).status_code == 404


def test_domain_admin_with_two_domains_sees_both(domain_a, domain_b, client):
    admin = make_admin("two@admins.example", domains=[domain_a])
    admin_assign_domain(actor=None, admin=admin, domain=domain_b)
    client.force_login(admin)
    assert len(_rows(client.get(LIST).content.decode())) == 2


# --- purge -----------------------------------------------------------------------------------


def _purge(name: str) -> str:
    return reverse("domains:domain-purge", args=[name])


def test_purge_page_asks_to_type_the_name(super_client, domain_a):
    make_mailbox(domain_a, "one")
    response = super_client.get(_purge("alpha.example"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Type the domain name to confirm" in html
    assert "1 mailbox" in html
    assert Domain.objects.filter(domain="alpha.example").exists()


def test_purge_with_wrong_name_deletes_nothing(super_client, domain_a):
    make_mailbox(domain_a, "one")
    for typed in ("", "beta.example", "alpha"):
        response = super_client.post(_purge("alpha.example"), {"confirm": typed})
        assert response.status_code == 200
        assert response.context["form"].errors["confirm"]
    assert "Type “alpha.example” exactly to confirm." in response.content.decode()
    assert Domain.objects.filter(domain="alpha.example").exists()
    assert Mailbox.objects.filter(domain_id="alpha.example").count() == 1


def test_purge_removes_everything_of_the_domain_and_keeps_log(
    super_client, domain_a, domain_b, admin_a
):
    gamma = make_domain("gamma.example")
    mailbox = make_mailbox(domain_a, "one")
    make_mailbox(domain_a, "two")
    make_alias(domain_a, "info")
    make_alias(domain_a, "", ["one@alpha.example"])
    alias_domain_create(actor=None, alias_domain=domain_a, target_domain=gamma)
    Quota2.objects.create(username=mailbox.username, bytes=10)
    _add_vacation(mailbox.username, "alpha.example")
    # Rows of other domains must survive.
    other = make_mailbox(domain_b, "one")
    Quota2.objects.create(username=other.username, bytes=20)
    _add_vacation(other.username, "beta.example")
    log_before = Log.objects.filter(domain="alpha.example").count()

    response = super_client.post(_purge("alpha.example"), {"confirm": " Alpha.Example "})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Domain.objects.filter(domain="alpha.example").exists()
    assert not DomainSettings.objects.filter(domain_id="alpha.example").exists()
    assert not Mailbox.objects.filter(domain_id="alpha.example").exists()
    assert not Alias.objects.filter(domain_id="alpha.example").exists()
    assert not DomainAdmin.objects.filter(domain_id="alpha.example").exists()
    assert not AliasDomain.objects.filter(alias_domain_id="alpha.example").exists()
    assert not Quota2.objects.filter(username__endswith="@alpha.example").exists()
    assert not Vacation.objects.filter(email__endswith="@alpha.example").exists()
    assert not VacationNotification.objects.filter(on_vacation__endswith="@alpha.example").exists()
    assert Log.objects.filter(domain="alpha.example").count() == log_before + 1
    assert Log.objects.filter(domain="alpha.example", action="delete_domain").exists()
    # Others untouched: the admin still exists, other domains' rows are there.
    assert Mailbox.objects.filter(domain_id="beta.example").count() == 1
    assert Quota2.objects.filter(username=other.username).exists()
    assert Vacation.objects.filter(email=other.username).exists()
    assert Domain.objects.filter(domain="gamma.example").exists()
    admin_a.refresh_from_db()
    html = super_client.get(LIST).content.decode()
    assert "Domain alpha.example and everything in it deleted." in html


def test_purge_of_idn_domain_accepts_unicode_name(super_client):
    make_domain("bücher.example")
    response = super_client.post(_purge("xn--bcher-kva.example"), {"confirm": "bücher.example"})
    assert response.status_code == 302
    assert not Domain.objects.filter(domain="xn--bcher-kva.example").exists()


def test_purge_refused_for_alias_domain_target(super_client, domain_a, domain_b):
    alias_domain_create(actor=None, alias_domain=domain_b, target_domain=domain_a)
    page = super_client.get(_purge("alpha.example")).content.decode()
    assert "This domain is the target of these alias domains" in page
    response = super_client.post(_purge("alpha.example"), {"confirm": "alpha.example"})
    assert response.status_code == 200
    assert "remove the alias domain first" in response.content.decode()
    assert Domain.objects.filter(domain="alpha.example").exists()
    assert AliasDomain.objects.filter(alias_domain_id="beta.example").exists()


def test_purge_clears_selected_domain(super_client, domain_a):
    super_client.post(reverse("domains:domain-work", args=["alpha.example"]))
    super_client.post(_purge("alpha.example"), {"confirm": "alpha.example"})
    assert SESSION_KEY not in super_client.session


def test_an_unchanged_domain_selection_does_not_write_the_session(client_a, domain_a):
    client_a.get("/mailboxes/", {"domain": "alpha.example"})
    with CaptureQueriesContext(connection) as queries:
        response = client_a.get("/mailboxes/", {"domain": "alpha.example"})
    assert response.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []
    assert client_a.session[SESSION_KEY] == "alpha.example"
    client_a.get("/mailboxes/", {"domain": ""})
    assert SESSION_KEY not in client_a.session
