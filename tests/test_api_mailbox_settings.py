"""A mailbox's forwarding, automatic reply and app passwords through /api/v1/: the admin pages'
services (same rules, log rows and notice mail), in the token's scope, JSON errors by field."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from aliases.models import Alias
from api.services import api_token_create
from domains.services import alias_domain_create
from mailboxes.models import Mailbox
from pfa.models import Log, MailboxAppPassword, Vacation
from tests.factories import make_domain, make_mailbox
from tests.support.mailtools import mail_sent

V1 = "/api/v1/mailboxes"
VACATION = {
    "active": True,
    "subject": "Away",
    "body": "Back on Monday.\n",
    "active_from": "2030-07-01T09:00:00Z",
    "active_until": "2030-07-15T18:30:00Z",
    "interval_seconds": 86400,
}


class Api:
    """A client sending one token's key with every request, JSON in and out."""

    def __init__(self, key: str) -> None:
        self.client = Client(REMOTE_ADDR="203.0.113.7")
        self.auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def get(self, url: str) -> Any:
        return self.client.get(url, **self.auth)

    def put(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.put(url, json.dumps(body), content_type="application/json", **self.auth)

    def post(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.post(url, body, content_type="application/json", **self.auth)

    def delete(self, url: str) -> Any:
        return self.client.delete(url, **self.auth)


def api_for(admin: Any, **kwargs: Any) -> Api:
    expires = timezone.now() + datetime.timedelta(days=1)
    _token, key = api_token_create(actor=None, admin=admin, name="t", expires=expires, **kwargs)
    return Api(key)


@pytest.fixture(autouse=True)
def _fresh_throttle_and_vacation_domain(settings):
    cache.clear()
    settings.VIMBADMIN_VACATION_DOMAIN = "autoreply.example.org"


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(domain_a, "owner", email_other="owner.private@elsewhere.example")


@pytest.fixture
def stranger(domain_b) -> Mailbox:
    return make_mailbox(domain_b, "user")


@pytest.fixture(params=["superadmin", "admin_a"])
def api(request) -> Api:
    """A token of a super admin and of the domain's admin: both reach alpha.example."""
    return api_for(request.getfixturevalue(request.param))


def notices() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if "was changed" in m.subject]


def _error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


def _goto(mailbox: Mailbox) -> str:
    return Alias.objects.get(address=mailbox.username).goto


# --- forwarding -----------------------------------------------------------------------------


def test_forwarding_is_read_and_set_with_log_row_and_notice(api, owner):
    url = f"{V1}/{owner.username}/forwarding/"
    response = api.get(url)
    assert response.status_code == 200
    assert response.json() == {"destinations": [], "keep_copy": True}
    body = {"destinations": ["Boss@Elsewhere.example"], "keep_copy": False}
    with mail_sent():
        response = api.put(url, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"destinations": ["boss@elsewhere.example"], "keep_copy": False}
    assert _goto(owner) == "boss@elsewhere.example"
    assert api.get(url).json() == response.json()
    row = Log.objects.filter(action="edit_alias", domain="alpha.example").latest("timestamp")
    assert "boss@elsewhere.example" in row.data and "API token t" in row.username
    (notice,) = notices()
    assert notice.subject == "The forwarding of owner@alpha.example was changed"
    assert notice.to == ["owner@alpha.example", "owner.private@elsewhere.example"]
    assert "changed by an administrator" in notice.body


def test_a_forwarding_loop_to_the_mailbox_itself_is_a_field_error_and_writes_nothing(
    api, owner, domain_a
):
    alias_domain_create(
        actor=None, alias_domain=make_domain("alias.example"), target_domain=domain_a
    )
    before, logs = _goto(owner), Log.objects.count()
    with mail_sent():
        response = api.put(
            f"{V1}/{owner.username}/forwarding/",
            {
                "destinations": ["friend@elsewhere.example", "owner@alias.example"],
                "keep_copy": True,
            },
        )
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "validation_error"
    (message,) = error["fields"]["destinations"]
    assert "owner@alias.example is this mailbox itself" in message["message"]
    assert _goto(owner) == before and Log.objects.count() == logs
    assert notices() == []


def test_forwarding_needs_a_target_or_the_copy_and_a_list(api, owner):
    url = f"{V1}/{owner.username}/forwarding/"
    response = api.put(url, {"destinations": [], "keep_copy": False})
    assert response.status_code == 400
    assert _error(response)["fields"]["destinations"][0]["message"] == (
        "Without forwarding targets the mailbox must keep its mail."
    )
    response = api.put(url, {"destinations": ["not an address"], "keep_copy": True})
    assert response.status_code == 400 and "destinations" in _error(response)["fields"]
    response = api.put(url, {"destinations": "x@elsewhere.example"})
    assert response.status_code == 400
    assert set(_error(response)["fields"]) == {"destinations", "keep_copy"}
    assert _goto(owner) == owner.username


# --- vacation -------------------------------------------------------------------------------


def test_vacation_is_read_and_set_with_log_row_and_notice(api, owner):
    url = f"{V1}/{owner.username}/vacation/"
    response = api.get(url)
    assert response.status_code == 200
    assert response.json()["active"] is False and response.json()["active_from"] is None
    assert response.json()["available"] is True
    with mail_sent():
        response = api.put(url, VACATION)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["active"] is True and answer["replying"] is True
    assert answer["subject"] == "Away" and answer["body"] == "Back on Monday.\n"
    assert answer["interval_seconds"] == 86400
    assert answer["active_from"].startswith("2030-07-01T09:00:00")
    row = Vacation.objects.get(email=owner.username)
    assert row.activeuntil == datetime.datetime(2030, 7, 15, 18, 30, tzinfo=datetime.UTC)
    assert "owner#alpha.example@autoreply.example.org" in _goto(owner)
    log = Log.objects.get(action="edit_vacation")
    assert log.data == "owner@alpha.example: on" and "API token t" in log.username
    (notice,) = notices()
    assert notice.subject == "The vacation auto-reply of owner@alpha.example was changed"
    # Switched off: the routing goes, the text stays.
    with mail_sent():
        response = api.put(url, {**VACATION, "active": False})
    assert response.json()["replying"] is False and response.json()["subject"] == "Away"
    assert "autoreply" not in _goto(owner)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"active_from": "next tuesday"}, "active_from", "Datetime has wrong format"),
        ({"active_until": "2030-06-01T00:00:00Z"}, "active_until", "The end must be after"),
        ({"subject": ""}, "subject", "Enter a subject."),
        ({"interval_seconds": -1}, "interval_seconds", "The interval cannot be negative."),
    ],
)
def test_a_bad_vacation_is_a_field_error_and_writes_nothing(api, owner, change, field, message):
    with mail_sent():
        response = api.put(f"{V1}/{owner.username}/vacation/", {**VACATION, **change})
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "validation_error"
    assert error["fields"][field][0]["message"].startswith(message)
    assert not Vacation.objects.filter(email=owner.username).exists()
    assert _goto(owner) == owner.username
    assert not Log.objects.filter(action="edit_vacation").exists()
    assert notices() == []


def test_vacation_cannot_be_switched_on_without_a_vacation_domain(api, owner, settings):
    settings.VIMBADMIN_VACATION_DOMAIN = ""
    response = api.put(f"{V1}/{owner.username}/vacation/", VACATION)
    assert response.status_code == 400
    assert _error(response)["fields"]["active"][0]["message"].startswith(
        "Auto-replies are not set up on this server"
    )
    assert not Vacation.objects.filter(email=owner.username).exists()


# --- app passwords --------------------------------------------------------------------------


def test_app_passwords_are_listed_created_once_and_revoked(api, owner):
    url = f"{V1}/{owner.username}/app-passwords/"
    assert api.get(url).json() == []
    response = api.post(url, {"description": "Phone"})
    assert response.status_code == 201, response.content
    created = response.json()
    raw = created["password"]
    assert len(raw) == 24 and created["description"] == "Phone" and created["created"]
    row = MailboxAppPassword.objects.get(username=owner.username)
    assert row.pk == created["id"]
    assert row.password_hash == "{SHA512.HEX}" + hashlib.sha512(raw.encode()).hexdigest()
    log = Log.objects.get(action="add_app_password")
    assert log.data == "owner@alpha.example: Phone" and "API token t" in log.username
    listed = api.get(url).json()
    assert listed == [{"id": row.pk, "description": "Phone", "created": created["created"]}]
    assert raw not in api.get(url).content.decode()

    assert api.delete(f"{url}{row.pk}/").status_code == 204
    assert not MailboxAppPassword.objects.filter(pk=row.pk).exists()
    assert Log.objects.filter(
        action="edit_mailbox", data="owner@alpha.example: app password Phone revoked"
    ).exists()
    assert api.delete(f"{url}{row.pk}/").status_code == 404


def test_an_app_password_needs_a_description(api, owner):
    response = api.post(f"{V1}/{owner.username}/app-passwords/", {"description": "  "})
    assert response.status_code == 400
    assert _error(response)["fields"]["description"][0]["message"] == "Name the app or device."
    assert not MailboxAppPassword.objects.exists()


def test_another_mailboxs_app_password_is_404_under_this_mailbox(superadmin, owner, domain_a):
    api = api_for(superadmin)
    other = make_mailbox(domain_a, "other")
    api.post(f"{V1}/{other.username}/app-passwords/", {"description": "Tablet"})
    row = MailboxAppPassword.objects.get(username=other.username)
    assert api.delete(f"{V1}/{owner.username}/app-passwords/{row.pk}/").status_code == 404
    assert MailboxAppPassword.objects.filter(pk=row.pk).exists()


# --- scope and read-only tokens -------------------------------------------------------------

SETTINGS = {
    "forwarding": {"destinations": ["x@elsewhere.example"], "keep_copy": True},
    "vacation": VACATION,
}


def _every_call(api: Api, address: str, app_password_id: int) -> list[Any]:
    base = f"{V1}/{address}"
    return [
        api.get(f"{base}/forwarding/"),
        api.put(f"{base}/forwarding/", SETTINGS["forwarding"]),
        api.get(f"{base}/vacation/"),
        api.put(f"{base}/vacation/", SETTINGS["vacation"]),
        api.get(f"{base}/app-passwords/"),
        api.post(f"{base}/app-passwords/", {"description": "Laptop"}),
        api.delete(f"{base}/app-passwords/{app_password_id}/"),
    ]


def _state(mailbox: Mailbox) -> tuple[Any, ...]:
    return (
        _goto(mailbox),
        Vacation.objects.filter(email=mailbox.username).exists(),
        sorted(MailboxAppPassword.objects.values_list("pk", flat=True)),
        Log.objects.count(),
    )


def test_a_mailbox_out_of_scope_is_404_and_unchanged(admin_a, superadmin, stranger, domain_a):
    api_for(superadmin).post(f"{V1}/{stranger.username}/app-passwords/", {"description": "P"})
    row = MailboxAppPassword.objects.get(username=stranger.username)
    tokens = (api_for(admin_a), api_for(superadmin, domains=["alpha.example"]))
    before = _state(stranger)
    for api in tokens:
        for response in _every_call(api, stranger.username, row.pk):
            assert response.status_code == 404, response.content
            assert _error(response)["code"] == "not_found"
    assert _state(stranger) == before
    for response in _every_call(tokens[0], "nobody@alpha.example", row.pk):
        assert response.status_code == 404


def test_a_read_only_token_reads_but_never_writes(admin_a, owner):
    api = api_for(admin_a, read_only=True)
    base = f"{V1}/{owner.username}"
    assert api.get(f"{base}/forwarding/").status_code == 200
    assert api.get(f"{base}/vacation/").status_code == 200
    assert api.get(f"{base}/app-passwords/").status_code == 200
    before = _state(owner)
    calls = _every_call(api, owner.username, 1)
    for response in (calls[1], calls[3], calls[5], calls[6]):
        assert response.status_code == 403
        assert _error(response)["code"] == "read_only_token"
    assert _state(owner) == before
