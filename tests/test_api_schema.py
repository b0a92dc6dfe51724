"""The OpenAPI document: valid, behind a login, and every operation in it called as documented."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from api.services import api_token_create
from pfa.models import Log, MailboxAppPassword
from tests.factories import make_admin, make_alias, make_domain, make_mailbox
from twofactor.services import app_password_create

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def _document(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_document_validates_and_needs_a_login(super_client):
    assert Client().get("/api/schema/").status_code in (401, 403)
    document = _document(super_client)
    validate(document)
    assert document["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_the_document_is_also_served_to_a_token(superadmin):
    _token, key = api_token_create(actor=None, admin=superadmin, name="x", expires=None)
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200


def test_the_docs_page_is_behind_the_login_and_uses_local_files(super_client):
    response = Client().get("/api/docs/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    page = super_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "<style" not in html and "<script>" not in html
    script = super_client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
    bundle = super_client.get(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )
    assert bundle.status_code == 200


class Caller:
    def __init__(self, key: str) -> None:
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def __call__(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        send = getattr(self.client, method)
        if body is None:
            return send(url, **self.auth)
        return send(url, json.dumps(body), content_type="application/json", **self.auth)


def test_every_documented_operation_answers_as_documented(super_client, superadmin, settings):
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"
    document = _document(super_client)
    alpha = make_domain("alpha.example")
    make_domain("beta.example")
    user = make_mailbox(alpha, "user")
    app_password_create(actor=None, mailbox=user, description="old")
    app_password = MailboxAppPassword.objects.get(username=user.username)
    make_alias(alpha, "info", ["user@alpha.example"])
    other = make_admin("other@admins.example")
    _token, key = api_token_create(
        actor=None,
        admin=superadmin,
        name="walk",
        expires=timezone.now() + datetime.timedelta(days=1),
    )
    call = Caller(key)
    v1 = "/api/v1"
    calls: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "domains_list": ("get", f"{v1}/domains/", None),
        "domains_create": ("post", f"{v1}/domains/", {"domain": "gamma.example"}),
        "domains_retrieve": ("get", f"{v1}/domains/gamma.example/", None),
        "domains_partial_update": ("patch", f"{v1}/domains/gamma.example/", {"quota": 100_000}),
        "mailboxes_list": ("get", f"{v1}/mailboxes/", None),
        "mailboxes_create": (
            "post",
            f"{v1}/mailboxes/",
            {"domain": "gamma.example", "local_part": "new", "password": NEW_PASSWORD},
        ),
        "mailboxes_retrieve": ("get", f"{v1}/mailboxes/new@gamma.example/", None),
        "mailboxes_partial_update": (
            "patch",
            f"{v1}/mailboxes/new@gamma.example/",
            {"name": "New"},
        ),
        "mailboxes_forwarding_retrieve": (
            "get",
            f"{v1}/mailboxes/{user.username}/forwarding/",
            None,
        ),
        "mailboxes_forwarding_update": (
            "put",
            f"{v1}/mailboxes/{user.username}/forwarding/",
            {"destinations": ["boss@elsewhere.example"], "keep_copy": True},
        ),
        "mailboxes_vacation_retrieve": ("get", f"{v1}/mailboxes/{user.username}/vacation/", None),
        "mailboxes_vacation_update": (
            "put",
            f"{v1}/mailboxes/{user.username}/vacation/",
            {
                "active": True,
                "subject": "Away",
                "active_from": "2030-07-01T09:00:00Z",
                "active_until": "2030-07-15T18:30:00Z",
            },
        ),
        "mailboxes_app_passwords_list": (
            "get",
            f"{v1}/mailboxes/{user.username}/app-passwords/",
            None,
        ),
        "mailboxes_app_passwords_create": (
            "post",
            f"{v1}/mailboxes/{user.username}/app-passwords/",
            {"description": "Phone"},
        ),
        "mailboxes_app_passwords_destroy": (
            "delete",
            f"{v1}/mailboxes/{user.username}/app-passwords/{app_password.pk}/",
            None,
        ),
        "aliases_list": ("get", f"{v1}/aliases/", None),
        "aliases_create": (
            "post",
            f"{v1}/aliases/",
            {"domain": "gamma.example", "local_part": "info", "targets": ["new@gamma.example"]},
        ),
        "aliases_retrieve": ("get", f"{v1}/aliases/info@gamma.example/", None),
        "aliases_partial_update": (
            "patch",
            f"{v1}/aliases/info@gamma.example/",
            {"active": False},
        ),
        "alias_domains_list": ("get", f"{v1}/alias-domains/", None),
        "alias_domains_create": (
            "post",
            f"{v1}/alias-domains/",
            {"alias_domain": "beta.example", "target_domain": "alpha.example"},
        ),
        "alias_domains_retrieve": ("get", f"{v1}/alias-domains/beta.example/", None),
        "alias_domains_partial_update": (
            "patch",
            f"{v1}/alias-domains/beta.example/",
            {"active": False},
        ),
        "admins_list": ("get", f"{v1}/admins/", None),
        "admins_create": (
            "post",
            f"{v1}/admins/",
            {"username": "new@admins.example", "password": NEW_PASSWORD},
        ),
        "admins_retrieve": ("get", f"{v1}/admins/new@admins.example/", None),
        "admins_partial_update": (
            "patch",
            f"{v1}/admins/new@admins.example/",
            {"phone": "123"},
        ),
        "admins_domains_create": (
            "post",
            f"{v1}/admins/{other.pk}/domains/",
            {"domain": "alpha.example"},
        ),
        "admins_domains_list": ("get", f"{v1}/admins/{other.pk}/domains/", None),
        "admins_domains_destroy": (
            "delete",
            f"{v1}/admins/{other.pk}/domains/alpha.example/",
            None,
        ),
        "log_list": ("get", f"{v1}/log/", None),
        "alias_domains_destroy": ("delete", f"{v1}/alias-domains/beta.example/", None),
        "aliases_destroy": ("delete", f"{v1}/aliases/info@gamma.example/", None),
        "mailboxes_destroy": ("delete", f"{v1}/mailboxes/new@gamma.example/", None),
        "domains_destroy": ("delete", f"{v1}/domains/gamma.example/", None),
        "admins_destroy": ("delete", f"{v1}/admins/new@admins.example/", None),
    }
    documented = {
        operation["operationId"]: (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    # A new operation fails here until a call above exercises it.
    assert set(documented) == set(calls)
    for operation_id, (method, url, body) in calls.items():
        response = call(method, url, body)
        expected = documented[operation_id][2]["responses"]
        assert str(response.status_code) in expected, (
            operation_id,
            response.status_code,
            response.content[:300],
        )
        assert method == documented[operation_id][0]
    # Every write's log row names the token.
    writes = Log.objects.filter(username__contains="API token walk")
    assert writes.filter(action="create_mailbox").exists()
    assert writes.filter(action="delete_admin").exists()
    assert writes.filter(action="edit_vacation", data="user@alpha.example: on").exists()
    assert writes.filter(action="add_app_password", data="user@alpha.example: Phone").exists()
    assert not MailboxAppPassword.objects.filter(pk=app_password.pk).exists()
