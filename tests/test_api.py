"""The REST API as a program sees it: tokens, scope per role, writes through the services."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.services import admin_set_active, admin_unassign_domain
from aliases.models import Alias
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from domains.models import AliasDomain, Domain
from mail import passwords
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"


class Api:
    """A client sending one token's key with every request, JSON in and out."""

    def __init__(self, key: str) -> None:
        self.client = Client(REMOTE_ADDR="203.0.113.7")
        self.headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, params or {}, **self.headers)

    def post(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.post(url, body, content_type="application/json", **self.headers)

    def patch(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.patch(url, body, content_type="application/json", **self.headers)

    def delete(self, url: str) -> Any:
        return self.client.delete(url, **self.headers)


def api_for(admin: Any, **kwargs: Any) -> Api:
    kwargs.setdefault("expires", timezone.now() + datetime.timedelta(days=1))
    _token, key = api_token_create(actor=None, admin=admin, name=kwargs.pop("name", "t"), **kwargs)
    return Api(key)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def objects(domain_a, domain_b):
    make_mailbox(domain_a, "user")
    make_alias(domain_a, "info", ["user@alpha.example"])
    make_mailbox(domain_b, "user")
    make_alias(domain_b, "info", ["user@beta.example"])


def _error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


# --- tokens ---------------------------------------------------------------------------------


def test_a_token_is_stored_hashed_and_shown_once(admin_a):
    token, key = api_token_create(actor=admin_a, admin=admin_a, name="billing", expires=None)
    assert key.startswith(f"vimb_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in repr(list(ApiToken.objects.values()))
    assert stored.key_hash != key and len(stored.key_hash) == 64


def test_without_a_token_the_api_answers_401_even_with_a_session(client_a, objects):
    response = client_a.get("/api/v1/mailboxes/")
    assert response.status_code == 401
    assert _error(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_is_refused_and_counted(admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    api_for(admin_a)
    wrong = Api("vimb_000000000000_" + "x" * 43)
    codes = [wrong.get("/api/v1/domains/").status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401]
    # The address is then held back like after wrong passwords.
    assert codes[3] == 429
    assert _error(wrong.get("/api/v1/domains/"))["code"] == "throttled"


def test_expired_revoked_and_deactivated_tokens_are_refused(superadmin, admin_a, domain_a):
    expired, key = api_token_create(
        actor=None, admin=admin_a, name="old", expires=timezone.now() + datetime.timedelta(days=1)
    )
    ApiToken.objects.filter(pk=expired.pk).update(expires=timezone.now())
    assert Api(key).get("/api/v1/domains/").status_code == 401

    token, key = api_token_create(actor=None, admin=admin_a, name="x", expires=None)
    api = Api(key)
    assert api.get("/api/v1/domains/").status_code == 200
    api_token_revoke(actor=admin_a, token=token)
    assert api.get("/api/v1/domains/").status_code == 401

    _token, key = api_token_create(actor=None, admin=admin_a, name="y", expires=None)
    api = Api(key)
    admin_set_active(actor=superadmin, admin=admin_a, active=False)
    assert api.get("/api/v1/domains/").status_code == 401


def test_a_lost_domain_is_lost_by_every_token_at_once(admin_a, domain_a, objects):
    api = api_for(admin_a)
    assert api.get("/api/v1/mailboxes/user@alpha.example/").status_code == 200
    admin_unassign_domain(actor=None, admin=admin_a, domain=domain_a)
    assert api.get("/api/v1/mailboxes/user@alpha.example/").status_code == 404
    assert api.get("/api/v1/mailboxes/").json()["results"] == []


def test_last_use_and_client_address_are_recorded(admin_a):
    token, key = api_token_create(actor=None, admin=admin_a, name="x", expires=None)
    Api(key).get("/api/v1/domains/")
    token.refresh_from_db()
    assert token.last_used is not None
    assert token.last_address == "203.0.113.7"


def test_requests_are_throttled_per_token(admin_a, admin_b, settings):
    settings.VIMBADMIN_API_RATE = "3/minute"
    api = api_for(admin_a)
    other = api_for(admin_b)
    codes = [api.get("/api/v1/domains/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert other.get("/api/v1/domains/").status_code == 200


def test_a_token_may_be_limited_only_to_the_admins_own_domains(admin_a, domain_b):
    with pytest.raises(Exception, match="not one of your domains"):
        api_token_create(
            actor=admin_a, admin=admin_a, name="x", expires=None, domains=["beta.example"]
        )


def test_an_admin_creates_tokens_only_for_themself(admin_a, admin_b):
    with pytest.raises(Exception, match="themselves"):
        api_token_create(actor=admin_a, admin=admin_b, name="x", expires=None)


# --- the token page -------------------------------------------------------------------------


def test_the_token_page_creates_shows_the_key_once_and_revokes(client_a, admin_a, domain_a):
    response = client_a.post(
        "/api/tokens/",
        {"name": "billing", "lifetime": "30", "read_only": "on", "domains": "alpha.example"},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(admin=admin_a)
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert token.read_only and token.domains == ["alpha.example"]
    assert token.expires is not None
    assert token.expires - timezone.now() > datetime.timedelta(days=29)
    page = client_a.get("/api/tokens/").content.decode()
    assert "billing" in page and key not in page
    assert client_a.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked is not None
    assert Api(key).get("/api/v1/domains/").status_code == 401


def test_the_token_page_refuses_a_domain_the_admin_does_not_manage(client_a, domain_b):
    response = client_a.post(
        "/api/tokens/", {"name": "x", "lifetime": "30", "domains": "beta.example"}
    )
    assert response.status_code == 200
    assert "not one of your domains" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_another_admins_token_cannot_be_revoked(client_b, admin_a):
    token, _key = api_token_create(actor=None, admin=admin_a, name="x", expires=None)
    assert client_b.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked is None


def test_the_token_command_creates_lists_and_revokes(admin_a, capsys):
    import json

    from django.core.management import call_command

    call_command("api_token", "create", "--admin", admin_a.pk, "--name", "cli", "--json")
    created = json.loads(capsys.readouterr().out)
    assert created["key"].startswith("vimb_")
    assert Api(created["key"]).get("/api/v1/domains/").status_code == 200
    call_command("api_token", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in listed] == ["cli"]
    assert "key" not in listed[0]
    call_command("api_token", "revoke", created["prefix"])
    assert Api(created["key"]).get("/api/v1/domains/").status_code == 401


# --- resources per role ---------------------------------------------------------------------


def test_a_domain_admin_lists_only_their_rows(admin_a, objects):
    api = api_for(admin_a)
    assert [d["domain"] for d in api.get("/api/v1/domains/").json()["results"]] == ["alpha.example"]
    mailboxes = api.get("/api/v1/mailboxes/").json()["results"]
    assert [m["username"] for m in mailboxes] == ["user@alpha.example"]
    aliases = api.get("/api/v1/aliases/").json()["results"]
    assert [a["address"] for a in aliases] == ["info@alpha.example"]
    assert api.get("/api/v1/mailboxes/", {"domain": "beta.example"}).json()["results"] == []


def test_another_domains_objects_are_404_and_unchanged(admin_a, objects):
    api = api_for(admin_a)
    before = list(Mailbox.objects.values()), list(Alias.objects.values())
    for url in (
        "/api/v1/domains/beta.example/",
        "/api/v1/mailboxes/user@beta.example/",
        "/api/v1/aliases/info@beta.example/",
    ):
        assert api.get(url).status_code == 404
        assert _error(api.get(url))["code"] == "not_found"
        assert api.patch(url, {"active": False}).status_code == 404
        assert api.delete(url).status_code == 404
    assert (list(Mailbox.objects.values()), list(Alias.objects.values())) == before


def test_a_super_admin_sees_every_domain(superadmin, objects):
    api = api_for(superadmin)
    names = [d["domain"] for d in api.get("/api/v1/domains/").json()["results"]]
    assert names == ["alpha.example", "beta.example"]


def test_a_domain_limited_token_sees_only_its_domains(superadmin, domain_a, objects):
    api = api_for(superadmin, domains=["alpha.example"])
    names = [d["domain"] for d in api.get("/api/v1/domains/").json()["results"]]
    assert names == ["alpha.example"]
    assert api.get("/api/v1/mailboxes/user@beta.example/").status_code == 404
    response = api.post(
        "/api/v1/mailboxes/",
        {"domain": "beta.example", "local_part": "new", "password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert _error(response)["fields"]["domain"][0]["code"] == "does_not_exist"
    response = api.post("/api/v1/domains/", {"domain": "gamma.example"})
    assert response.status_code == 403
    assert not Domain.objects.filter(domain="gamma.example").exists()


def test_a_read_only_token_reads_but_never_writes(admin_a, objects):
    api = api_for(admin_a, read_only=True)
    assert api.get("/api/v1/mailboxes/user@alpha.example/").status_code == 200
    response = api.patch("/api/v1/mailboxes/user@alpha.example/", {"active": False})
    assert response.status_code == 403
    assert _error(response)["code"] == "read_only_token"
    assert Mailbox.objects.get(pk="user@alpha.example").active


def test_a_domain_admin_cannot_change_domains(admin_a, domain_a):
    api = api_for(admin_a)
    response = api.patch("/api/v1/domains/alpha.example/", {"description": "x"})
    assert response.status_code == 403
    assert _error(response)["code"] == "permission_denied"
    assert api.post("/api/v1/domains/", {"domain": "new.example"}).status_code == 403


# --- writes ---------------------------------------------------------------------------------


def test_mailbox_create_update_password_and_delete(admin_a, domain_a):
    api = api_for(admin_a, name="provisioning")
    response = api.post(
        "/api/v1/mailboxes/",
        {
            "domain": "alpha.example",
            "local_part": "New",
            "password": NEW_PASSWORD,
            "name": "New User",
            "quota_bytes": 1024**3,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "new@alpha.example"
    assert body["quota_bytes"] == 1024**3
    assert "password" not in body
    row = Log.objects.filter(action="create_mailbox").latest("id")
    prefix = _prefix(admin_a, "provisioning")
    assert row.username == f"{admin_a.pk} (203.0.113.7, API token provisioning [{prefix}])"

    response = api.patch(
        "/api/v1/mailboxes/new@alpha.example/",
        {"active": False, "quota_bytes": 2 * 1024**3, "password": "Another-Fine-Secret-77"},
    )
    assert response.status_code == 200, response.json()
    mailbox = Mailbox.objects.get(pk="new@alpha.example")
    assert not mailbox.active and mailbox.quota == 2 * 1024**3
    assert passwords.verify_password("Another-Fine-Secret-77", mailbox.password)
    assert not Alias.objects.get(pk="new@alpha.example").active

    assert api.delete("/api/v1/mailboxes/new@alpha.example/").status_code == 204
    assert not Mailbox.objects.filter(pk="new@alpha.example").exists()
    assert Log.objects.filter(action="delete_mailbox", username__contains="API token").exists()


def _prefix(admin: Any, name: str) -> str:
    return ApiToken.objects.get(admin=admin, name=name).prefix


def test_a_refused_change_writes_nothing(admin_a, domain_a, objects):
    api = api_for(admin_a)
    # The password is refused after the quota was accepted: the request is one transaction.
    response = api.patch(
        "/api/v1/mailboxes/user@alpha.example/", {"quota_bytes": 5 * 1024**2, "password": "short"}
    )
    assert response.status_code == 400
    assert "password" in _error(response)["fields"]
    assert Mailbox.objects.get(pk="user@alpha.example").quota != 5 * 1024**2


def test_field_errors_have_codes(admin_a, domain_a):
    api = api_for(admin_a)
    response = api.post("/api/v1/mailboxes/", {"domain": "alpha.example"})
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "validation_error"
    assert error["fields"]["local_part"][0]["code"] == "required"
    assert error["fields"]["password"][0]["code"] == "required"
    response = api.post(
        "/api/v1/mailboxes/",
        {"domain": "alpha.example", "local_part": "a b", "password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "local_part" in _error(response)["fields"]
    response = api.client.post(
        "/api/v1/mailboxes/", "{not json", content_type="application/json", **api.headers
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "parse_error"


def test_limits_apply_as_in_the_pages(admin_a, domain_a, superadmin):
    Domain.objects.filter(pk="alpha.example").update(mailboxes=1)
    api = api_for(admin_a)
    body = {"domain": "alpha.example", "password": NEW_PASSWORD}
    assert api.post("/api/v1/mailboxes/", {**body, "local_part": "one"}).status_code == 201
    response = api.post("/api/v1/mailboxes/", {**body, "local_part": "two"})
    assert response.status_code == 400
    # On the field the pages show it on.
    assert "limit" in _error(response)["fields"]["local_part"][0]["message"]
    assert not Mailbox.objects.filter(pk="two@alpha.example").exists()


def test_alias_create_update_and_delete(admin_a, domain_a, objects):
    api = api_for(admin_a)
    response = api.post(
        "/api/v1/aliases/",
        {"domain": "alpha.example", "local_part": "sales", "targets": ["user@alpha.example"]},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["targets"] == ["user@alpha.example"]
    response = api.patch(
        "/api/v1/aliases/sales@alpha.example/",
        {"targets": ["a@elsewhere.example", "b@elsewhere.example"], "active": False},
    )
    assert response.status_code == 200
    alias = Alias.objects.get(pk="sales@alpha.example")
    assert alias.goto == "a@elsewhere.example,b@elsewhere.example" and not alias.active
    # A mailbox's own alias row is read here but changed only as the mailbox.
    assert api.get("/api/v1/aliases/user@alpha.example/").json()["is_mailbox"] is True
    assert api.delete("/api/v1/aliases/user@alpha.example/").status_code == 403
    assert api.delete("/api/v1/aliases/sales@alpha.example/").status_code == 204
    catchall = api.post(
        "/api/v1/aliases/",
        {"domain": "alpha.example", "local_part": "", "targets": ["user@alpha.example"]},
    )
    assert catchall.json()["address"] == "@alpha.example"
    assert api.get("/api/v1/aliases/@alpha.example/").status_code == 200


def test_domain_create_update_and_delete_by_a_super_admin(superadmin):
    api = api_for(superadmin)
    response = api.post("/api/v1/domains/", {"domain": "Gamma.example", "mailboxes": 10})
    assert response.status_code == 201, response.json()
    assert response.json()["domain"] == "gamma.example"
    assert response.json()["mailboxes"] == 10
    response = api.patch("/api/v1/domains/gamma.example/", {"description": "G", "active": False})
    assert response.status_code == 200
    domain = Domain.objects.get(pk="gamma.example")
    assert domain.description == "G" and not domain.active and domain.mailboxes == 10
    response = api.post("/api/v1/domains/", {"domain": "gamma.example"})
    assert response.status_code == 400
    assert "domain" in _error(response)["fields"]
    assert api.delete("/api/v1/domains/gamma.example/").status_code == 204
    assert not Domain.objects.filter(pk="gamma.example").exists()


def test_alias_domains(admin_a, domain_a, superadmin):
    other = make_domain("alpha-alias.example")
    from accounts.services import admin_assign_domain

    admin_assign_domain(actor=None, admin=admin_a, domain=other)
    api = api_for(admin_a)
    response = api.post(
        "/api/v1/alias-domains/",
        {"alias_domain": "alpha-alias.example", "target_domain": "alpha.example"},
    )
    assert response.status_code == 201, response.json()
    assert (
        api.patch("/api/v1/alias-domains/alpha-alias.example/", {"active": False}).json()["active"]
        is False
    )
    listed = api.get("/api/v1/alias-domains/").json()["results"]
    assert [row["alias_domain"] for row in listed] == ["alpha-alias.example"]
    assert api.delete("/api/v1/alias-domains/alpha-alias.example/").status_code == 204
    assert not AliasDomain.objects.exists()


# --- lists ----------------------------------------------------------------------------------


def test_lists_page_by_cursor_and_search(admin_a, domain_a):
    for n in range(7):
        make_mailbox(domain_a, f"box{n}")
    api = api_for(admin_a)
    seen, params = [], {"limit": "3"}
    while True:
        body = api.get("/api/v1/mailboxes/", params).json()
        seen += [row["username"] for row in body["results"]]
        if body["next_cursor"] is None:
            break
        params = {"limit": "3", "cursor": body["next_cursor"]}
    assert seen == [f"box{n}@alpha.example" for n in range(7)]
    found = api.get("/api/v1/mailboxes/", {"q": "box3"}).json()["results"]
    assert [row["username"] for row in found] == ["box3@alpha.example"]
    response = api.get("/api/v1/mailboxes/", {"cursor": "!!"})
    assert response.status_code == 400
    assert "cursor" in _error(response)["fields"]


def test_a_list_costs_the_same_queries_for_more_rows(
    admin_a, domain_a, django_assert_max_num_queries
):
    api = api_for(admin_a)
    for n in range(3):
        make_mailbox(domain_a, f"few{n}")
    api.get("/api/v1/mailboxes/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/mailboxes/")
    for n in range(20):
        make_mailbox(domain_a, f"more{n}")
    with CaptureQueriesContext(connection) as more:
        api.get("/api/v1/mailboxes/")
    assert len(more) == len(few)


def test_a_quota_refusal_names_the_apis_field(admin_a, domain_a):
    Domain.objects.filter(pk="alpha.example").update(maxquota=10)
    api = api_for(admin_a)
    response = api.post(
        "/api/v1/mailboxes/",
        {
            "domain": "alpha.example",
            "local_part": "big",
            "password": NEW_PASSWORD,
            "quota_bytes": 50 * 1024**2,
        },
    )
    assert response.status_code == 400
    assert list(_error(response)["fields"]) == ["quota_bytes"]


# --- admins and the log ---------------------------------------------------------------------


def test_only_a_super_admin_sees_and_changes_admins(superadmin, admin_a, admin_b, domain_b):
    assert api_for(admin_a).get("/api/v1/admins/").json()["results"] == []
    assert api_for(admin_a).get(f"/api/v1/admins/{admin_b.pk}/").status_code == 404
    limited = api_for(superadmin, domains=["beta.example"])
    assert limited.get("/api/v1/admins/").json()["results"] == []
    api = api_for(superadmin)
    names = [row["username"] for row in api.get("/api/v1/admins/").json()["results"]]
    assert names == [admin_a.pk, admin_b.pk, superadmin.pk]
    assert api.get(f"/api/v1/admins/{superadmin.pk}/").json()["superadmin"] is True
    response = api.post(f"/api/v1/admins/{admin_a.pk}/domains/", {"domain": "beta.example"})
    assert response.status_code == 201
    assignments = api.get(f"/api/v1/admins/{admin_a.pk}/domains/").json()
    assert {row["domain"] for row in assignments} == {"alpha.example", "beta.example"}
    # The admin's own token reaches the new domain at once.
    assert api_for(admin_a).get("/api/v1/domains/beta.example/").status_code == 200
    assert api.delete(f"/api/v1/admins/{admin_a.pk}/domains/beta.example/").status_code == 204
    assert api_for(admin_a).get("/api/v1/domains/beta.example/").status_code == 404
    response = api.patch(f"/api/v1/admins/{admin_a.pk}/", {"active": False})
    assert response.json()["active"] is False


def test_the_log_shows_the_tokens_domains_only(superadmin, admin_a, objects):
    rows = api_for(admin_a).get("/api/v1/log/").json()["results"]
    assert rows and {row["domain"] for row in rows} == {"alpha.example"}
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, reverse=True)
    limited = api_for(superadmin, domains=["beta.example"]).get("/api/v1/log/").json()
    assert {row["domain"] for row in limited["results"]} == {"beta.example"}
    everything = api_for(superadmin).get("/api/v1/log/", {"limit": "2"}).json()
    assert len(everything["results"]) == 2 and everything["next_cursor"]
    assert api_for(admin_a).post("/api/v1/log/", {}).status_code == 405


def test_a_tokens_name_stays_with_its_own_request(client_a, admin_a, domain_a):
    api = api_for(admin_a, name="first")
    assert api.get("/api/schema/").status_code == 200
    assert api.get("/api/v1/domains/").status_code == 200
    # The next request in the same thread, by the page, is logged without a token.
    client_a.post(
        "/aliases/new/",
        {"domain": "alpha.example", "local_part": "x", "targets": "y@elsewhere.example"},
    )
    row = Log.objects.filter(action="create_alias").latest("id")
    assert "API token" not in row.username
