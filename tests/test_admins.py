"""Super admins manage admins: list, create, edit, toggle, promote, password, domains, purge."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Admin
from accounts.scoping import is_superadmin
from accounts.services import admin_purge, admin_set_active, admin_set_superadmin
from domains.models import ALL_DOMAINS, DomainAdmin
from mail import passwords
from pfa.models import Log
from tests.factories import PASSWORD, make_admin, make_domain

NEW = "Fresh-Orbit-Lantern-42"


def _domains_of(admin: Admin) -> set[str]:
    return set(
        DomainAdmin.objects.filter(username_id=admin.pk, active=True)
        .exclude(domain_id=ALL_DOMAINS)
        .values_list("domain_id", flat=True)
    )


def _messages(client: Client, url: str) -> str:
    return client.get(url).content.decode()


# --------------------------------------------------------------------------------------------
# List


def test_list_shows_admins_with_role_state_and_domain_count(super_client, admin_a, domain_b):
    make_admin("two@alpha.example", domains=[domain_b])
    response = super_client.get("/accounts/admins/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("root@admins.example", "admin@alpha.example", "two@alpha.example"):
        assert name in html
    assert "Super admin" in html
    assert "Domain admin" in html
    assert "/accounts/admins/admin@alpha.example/toggle/" in html
    table = response.context["table"]
    rows = {row.record.pk: row.record for row in table.rows}
    assert rows["admin@alpha.example"].domain_count == 1
    assert rows["root@admins.example"].domain_count == 0
    assert rows["root@admins.example"].is_super
    assert not rows["two@alpha.example"].is_super


def test_list_honours_either_superadmin_representation(super_client, admin_a):
    # A database where only the domain_admins ALL row survived still marks a super admin.
    Admin.objects.filter(pk=admin_a.pk).update(superadmin=False)
    DomainAdmin.objects.create(username_id=admin_a.pk, domain_id=ALL_DOMAINS, active=True)
    response = super_client.get("/accounts/admins/?q=alpha")
    (row,) = response.context["table"].rows
    assert row.record.is_super


def test_list_search_sort_and_pagination(super_client, settings, db):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 5
    for n in range(12):
        make_admin(f"user{n:02d}@gamma.example")
    response = super_client.get("/accounts/admins/?q=GAMMA")
    table = response.context["table"]
    assert table.paginator.count == 12
    assert len(table.page.object_list) == 5
    assert all(row.record.pk.endswith("@gamma.example") for row in table.rows)
    response = super_client.get("/accounts/admins/?q=gamma&sort=-username&page=1")
    names = [row.record.pk for row in response.context["table"].page.object_list]
    assert names[0] == "user11@gamma.example"
    response = super_client.get("/accounts/admins/?q=gamma&page=3")
    names = [row.record.pk for row in response.context["table"].page.object_list]
    assert names == ["user10@gamma.example", "user11@gamma.example"]
    for column in ("is_super", "-active", "domain_count", "-created"):
        assert super_client.get(f"/accounts/admins/?sort={column}").status_code == 200
    response = super_client.get("/accounts/admins/?q=nothing-matches")
    assert "No admins match." in response.content.decode()


def test_list_query_count_does_not_grow(super_client, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 200

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert super_client.get("/accounts/admins/").status_code == 200
        return len(ctx.captured_queries)

    for n in range(10):
        make_admin(f"few{n}@alpha.example", domains=[domain_a])
    few = count()
    for n in range(90):
        make_admin(f"many{n}@alpha.example", domains=[domain_a])
    assert count() == few


# --------------------------------------------------------------------------------------------
# Create


def test_create_page_offers_domains_and_a_suggestion(super_client, domain_a, domain_b):
    html = super_client.get("/accounts/admins/new/").content.decode()
    assert "alpha.example" in html
    assert "beta.example" in html
    assert f'value="{ALL_DOMAINS}"' not in html
    assert "js-generate-password" in html
    assert "Suggested strong password:" in html


def test_create_admin_with_domains(super_client, domain_a, domain_b):
    response = super_client.post(
        "/accounts/admins/new/",
        {
            "username": "New@Alpha.Example",
            "password": NEW,
            "password2": NEW,
            "domains": [domain_a.pk, domain_b.pk],
            "email_other": "Me@Elsewhere.Example",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/admins/new@alpha.example/"
    admin = Admin.objects.get(pk="new@alpha.example")
    assert admin.active
    assert not is_superadmin(admin)
    assert admin.email_other == "me@elsewhere.example"
    assert passwords.verify_password(NEW, admin.password)
    assert _domains_of(admin) == {"alpha.example", "beta.example"}
    assert Log.objects.filter(action="create_admin", data="new@alpha.example").exists()
    html = _messages(super_client, response["Location"])
    assert "Admin new@alpha.example created." in html


def test_create_super_admin_the_postfix_admin_way(super_client, db):
    super_client.post(
        "/accounts/admins/new/",
        {"username": "boss@admins.example", "password": NEW, "password2": NEW, "superadmin": "on"},
    )
    admin = Admin.objects.get(pk="boss@admins.example")
    assert admin.superadmin
    assert DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "bad address"}, "is not a valid e-mail address"),
        ({"username": "admin@alpha.example"}, "An admin with this address already exists."),
        ({"password": "short", "password2": "short"}, "This password is too short."),
        ({"password2": "different-but-long-1"}, "The two passwords do not match."),
        ({"email_other": "nope"}, "is not a valid e-mail address"),
        ({"domains": ["no-such.example"]}, "Select a valid choice."),
    ],
)
def test_create_rejects_bad_input(super_client, admin_a, data, message):
    before = set(Admin.objects.values_list("pk", flat=True))
    post = {"username": "fresh@alpha.example", "password": NEW, "password2": NEW, **data}
    response = super_client.post("/accounts/admins/new/", post)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert set(Admin.objects.values_list("pk", flat=True)) == before
    assert not Log.objects.filter(action="create_admin", username__startswith="root@").exists()


# --------------------------------------------------------------------------------------------
# Detail and edit


def test_detail_lists_domains_and_assign_choices(super_client, admin_a, domain_b):
    make_domain("gamma.example")
    response = super_client.get("/accounts/admins/admin@alpha.example/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/accounts/admins/admin@alpha.example/domains/alpha.example/unassign/" in html
    choices = {d.pk for d in response.context["assign_form"].fields["domain"].queryset}
    assert choices == {"beta.example", "gamma.example"}


def test_detail_of_missing_admin_is_404(super_client, db):
    assert super_client.get("/accounts/admins/ghost@nowhere.example/").status_code == 404


def test_edit_email_other(super_client, admin_a):
    page = super_client.get("/accounts/admins/admin@alpha.example/edit/")
    assert page.status_code == 200
    response = super_client.post(
        "/accounts/admins/admin@alpha.example/edit/", {"email_other": "Alt@Other.Example"}
    )
    assert response.status_code == 302
    assert Admin.objects.get(pk=admin_a.pk).email_other == "alt@other.example"
    assert Log.objects.filter(
        action="edit_admin", data='admin@alpha.example: email_other "" -> alt@other.example'
    ).exists()
    response = super_client.post(
        "/accounts/admins/admin@alpha.example/edit/", {"email_other": "broken"}
    )
    assert response.status_code == 200
    assert "is not a valid e-mail address" in response.content.decode()
    assert Admin.objects.get(pk=admin_a.pk).email_other == "alt@other.example"


# --------------------------------------------------------------------------------------------
# Toggle, promote, demote


def test_toggle_active(super_client, admin_a):
    url = "/accounts/admins/admin@alpha.example/toggle/"
    assert super_client.get(url).status_code == 405
    response = super_client.post(url, {"active": "0"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/admins/"
    assert not Admin.objects.get(pk=admin_a.pk).active
    assert "admin@alpha.example deactivated." in _messages(super_client, "/accounts/admins/")
    assert Log.objects.filter(action="edit_admin", data="admin@alpha.example: inactive").exists()
    super_client.post(url, {"active": "1", "next": "/accounts/admins/?q=alpha"})
    assert Admin.objects.get(pk=admin_a.pk).active


def test_nobody_deactivates_demotes_or_purges_themself(super_client, superadmin):
    base = "/accounts/admins/root@admins.example"
    super_client.post(f"{base}/toggle/", {"active": "0"})
    assert "You cannot deactivate yourself." in _messages(super_client, "/accounts/admins/")
    super_client.post(f"{base}/superadmin/", {"superadmin": "0"})
    assert "You cannot demote yourself." in _messages(super_client, f"{base}/")
    assert super_client.get(f"{base}/delete/").status_code == 200
    super_client.post(f"{base}/delete/")
    assert "You cannot delete yourself." in _messages(super_client, f"{base}/")
    admin = Admin.objects.get(pk=superadmin.pk)
    assert admin.active
    assert is_superadmin(admin)


def test_last_active_super_admin_cannot_be_removed(superadmin):
    # Only the shell (actor None) can reach this: in the UI the actor is always another one.
    for action in (
        lambda: admin_set_active(actor=None, admin=superadmin, active=False),
        lambda: admin_set_superadmin(actor=None, admin=superadmin, superadmin=False),
        lambda: admin_purge(actor=None, admin=superadmin),
    ):
        with pytest.raises(ValidationError, match="last active super admin"):
            action()
    assert Admin.objects.get(pk=superadmin.pk).active


def test_promote_and_demote(super_client, admin_a):
    url = "/accounts/admins/admin@alpha.example/superadmin/"
    assert super_client.get(url).status_code == 405
    response = super_client.post(url, {"superadmin": "1"})
    assert response.status_code == 302
    admin = Admin.objects.get(pk=admin_a.pk)
    assert admin.superadmin
    assert DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).exists()
    assert "is now a super admin" in _messages(super_client, response["Location"])
    super_client.post(url, {"superadmin": "0"})
    admin = Admin.objects.get(pk=admin_a.pk)
    assert not admin.superadmin
    assert not DomainAdmin.objects.filter(username_id=admin.pk, domain_id=ALL_DOMAINS).exists()
    # Demotion keeps the ordinary domain assignment.
    assert _domains_of(admin) == {"alpha.example"}
    assert Log.objects.filter(data="admin@alpha.example: domain admin").exists()


def test_demoted_second_super_admin_can_demote_nobody(superadmin):
    other = make_admin("second@admins.example", superadmin=True)
    client = Client()
    client.force_login(other)
    client.post("/accounts/admins/root@admins.example/superadmin/", {"superadmin": "0"})
    assert not is_superadmin(Admin.objects.get(pk=superadmin.pk))
    # root is now a domain admin: every management page is a 404 for them.
    root = Client()
    root.force_login(Admin.objects.get(pk=superadmin.pk))
    assert root.get("/accounts/admins/").status_code == 404


# --------------------------------------------------------------------------------------------
# Password


def test_set_another_admins_password(super_client, admin_a):
    other = Client()
    other.force_login(admin_a)
    url = "/accounts/admins/admin@alpha.example/password/"
    page = super_client.get(url).content.decode()
    assert "js-generate-password" in page
    response = super_client.post(url, {"password": NEW, "password2": NEW})
    assert response.status_code == 302
    assert passwords.verify_password(NEW, Admin.objects.get(pk=admin_a.pk).password)
    assert Log.objects.filter(action="edit_password", data="admin@alpha.example").exists()
    assert other.get("/accounts/password/").status_code == 302


def test_set_password_applies_policy(super_client, admin_a):
    before = Admin.objects.get(pk=admin_a.pk).password
    url = "/accounts/admins/admin@alpha.example/password/"
    response = super_client.post(url, {"password": "short-pw", "password2": "short-pw"})
    assert "This password is too short." in response.content.decode()
    weak = "admin@alpha.example1"
    response = super_client.post(url, {"password": weak, "password2": weak})
    assert "The password is too similar to the e-mail address." in response.content.decode()
    assert Admin.objects.get(pk=admin_a.pk).password == before


# --------------------------------------------------------------------------------------------
# Delete


def test_delete_confirms_then_purges(super_client, admin_a, domain_a):
    url = "/accounts/admins/admin@alpha.example/delete/"
    page = super_client.get(url)
    assert page.status_code == 200
    assert "Delete the admin admin@alpha.example?" in page.content.decode()
    assert Admin.objects.filter(pk=admin_a.pk).exists()
    response = super_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/admins/"
    assert not Admin.objects.filter(pk=admin_a.pk).exists()
    assert not DomainAdmin.objects.filter(username_id=admin_a.pk).exists()
    assert Log.objects.filter(action="delete_admin", data="admin@alpha.example").exists()
    # The domain itself stays.
    assert super_client.get("/accounts/domains/alpha.example/admins/").status_code == 200


# --------------------------------------------------------------------------------------------
# Domains, from both sides


def test_assign_and_unassign_from_the_admin_page(super_client, admin_a, domain_b):
    base = "/accounts/admins/admin@alpha.example"
    response = super_client.post(f"{base}/domains/assign/", {"domain": "beta.example"})
    assert response.status_code == 302
    assert _domains_of(admin_a) == {"alpha.example", "beta.example"}
    assert Log.objects.filter(data="admin@alpha.example: + beta.example").exists()
    super_client.post(f"{base}/domains/beta.example/unassign/")
    assert _domains_of(admin_a) == {"alpha.example"}
    assert Log.objects.filter(data="admin@alpha.example: - beta.example").exists()
    response = super_client.post(f"{base}/domains/assign/", {"domain": "alpha.example"})
    assert "Choose one of the listed domains." in _messages(super_client, f"{base}/")
    assert super_client.post(f"{base}/domains/nowhere.example/unassign/").status_code == 404


def test_domain_admins_page(super_client, admin_a, admin_b, domain_a):
    url = "/accounts/domains/alpha.example/admins/"
    response = super_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "admin@alpha.example" in html
    choices = {a.pk for a in response.context["assign_form"].fields["admin"].queryset}
    assert "admin@beta.example" in choices
    assert "admin@alpha.example" not in choices
    response = super_client.post(url, {"admin": "admin@beta.example"})
    assert response.status_code == 302
    assert _domains_of(admin_b) == {"alpha.example", "beta.example"}
    response = super_client.post(
        "/accounts/admins/admin@beta.example/domains/alpha.example/unassign/", {"next": url}
    )
    assert response["Location"] == url
    assert _domains_of(admin_b) == {"beta.example"}
    response = super_client.post(url, {"admin": "ghost@nowhere.example"})
    assert response.status_code == 400
    assert "Choose one of the listed admins." in response.content.decode()
    assert super_client.get("/accounts/domains/nowhere.example/admins/").status_code == 404


# --------------------------------------------------------------------------------------------
# Domain admins see none of this


MANAGEMENT_URLS = [
    ("get", "/accounts/admins/"),
    ("get", "/accounts/admins/new/"),
    ("post", "/accounts/admins/new/"),
    ("get", "/accounts/admins/admin@beta.example/"),
    ("get", "/accounts/admins/admin@beta.example/edit/"),
    ("post", "/accounts/admins/admin@beta.example/edit/"),
    ("post", "/accounts/admins/admin@beta.example/toggle/"),
    ("post", "/accounts/admins/admin@beta.example/superadmin/"),
    ("get", "/accounts/admins/admin@beta.example/password/"),
    ("post", "/accounts/admins/admin@beta.example/password/"),
    ("get", "/accounts/admins/admin@beta.example/delete/"),
    ("post", "/accounts/admins/admin@beta.example/delete/"),
    ("post", "/accounts/admins/admin@beta.example/domains/assign/"),
    ("post", "/accounts/admins/admin@beta.example/domains/beta.example/unassign/"),
    ("get", "/accounts/domains/beta.example/admins/"),
    ("post", "/accounts/domains/beta.example/admins/"),
]


@pytest.mark.parametrize(("method", "url"), MANAGEMENT_URLS)
def test_domain_admin_gets_404_everywhere(client_b, admin_b, admin_a, method, url):
    data = {
        "active": "0",
        "superadmin": "1",
        "password": NEW,
        "password2": NEW,
        "domain": "alpha.example",
        "admin": "admin@alpha.example",
        "username": "x@beta.example",
        "email_other": "x@y.example",
    }
    before = (list(Admin.objects.values()), list(DomainAdmin.objects.values()))
    logs = Log.objects.count()
    response = getattr(client_b, method)(url, data) if method == "post" else client_b.get(url)
    assert response.status_code == 404
    assert (list(Admin.objects.values()), list(DomainAdmin.objects.values())) == before
    assert Log.objects.count() == logs


@pytest.mark.parametrize(("method", "url"), MANAGEMENT_URLS)
def test_anonymous_is_sent_to_login(client, admin_b, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_state_changes_need_csrf(superadmin, admin_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superadmin)
    response = client.post("/accounts/admins/admin@alpha.example/toggle/", {"active": "0"})
    assert response.status_code == 403
    assert Admin.objects.get(pk=admin_a.pk).active
    response = client.post("/accounts/admins/admin@alpha.example/delete/")
    assert response.status_code == 403
    assert Admin.objects.filter(pk=admin_a.pk).exists()


def test_password_hash_never_shown(super_client, admin_a):
    stored = Admin.objects.get(pk=admin_a.pk).password
    for url in ("/accounts/admins/", "/accounts/admins/admin@alpha.example/"):
        assert stored not in super_client.get(url).content.decode()
    assert PASSWORD not in super_client.get("/accounts/admins/").content.decode()


def test_internationalised_domains_are_shown_in_unicode(super_client, admin_a):
    idn = make_domain("bücher.example")
    assert idn.pk == "xn--bcher-kva.example"
    base = "/accounts/admins/admin@alpha.example"
    html = super_client.get(f"{base}/").content.decode()
    assert '<option value="xn--bcher-kva.example">bücher.example</option>' in html
    super_client.post(f"{base}/domains/assign/", {"domain": idn.pk})
    assert "xn--bcher-kva.example" in _domains_of(admin_a)
    html = super_client.get(f"{base}/").content.decode()
    assert ">bücher.example</a>" in html or "<td>bücher.example</td>" in html
    assert super_client.get("/accounts/domains/xn--bcher-kva.example/admins/").status_code == 200
