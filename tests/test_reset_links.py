"""Reset links: built from VIMBADMIN_BASE_URL, bound to the reset address, used once (L7, L9)."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core import mail
from django.core.checks import run_checks
from django.db import connection  # noqa: F401 (read by the needs_row_locks condition)
from django.test import Client

from accounts.models import Admin
from accounts.services import admin_set_superadmin, admin_update
from mail import passwords
from pfa.models import Log
from tests.factories import PASSWORD, make_admin, make_domain, make_mailbox
from tests.support.mailtools import mail_sent
from tests.support.race import needs_row_locks, race

BASE = "https://mail-admin.example.org"
RESETS = {
    "admin": ("/accounts/password-reset/", "email", "/accounts/password-reset/"),
    "mailbox": ("/me/password-reset/", "address", "/me/password-reset/"),
}
NEW = "Fresh-Orbit-Lantern-42"
OTHER = "Quiet-Harbor-Compass-77"


@pytest.fixture
def accounts(domain_a, admin_a):
    make_mailbox(domain_a, "olive", email_other="olive@home.example")
    return {"admin": "admin@alpha.example", "mailbox": "olive@alpha.example"}


def request_link(realm: str, address: str, **meta: str) -> list[str]:
    url, field, _prefix = RESETS[realm]
    mail.outbox.clear()
    with mail_sent():
        response = Client().post(url, {field: address}, **meta)
    assert response.status_code == 302
    return [message.body for message in mail.outbox]


def link_in(body: str) -> str:
    match = re.search(r"(https?://\S+/password-reset/\S+/\S+/)", body)
    assert match, body
    return match.group(1)


# Base URL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_links_come_from_the_base_url_not_the_host_header(realm, accounts, settings):
    settings.VIMBADMIN_BASE_URL = BASE
    [body] = request_link(realm, accounts[realm], HTTP_HOST="localhost:31337")
    link = link_in(body)
    assert link.startswith(BASE + RESETS[realm][2])
    assert "31337" not in body
    assert "localhost" not in body


@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_no_base_url_in_production_mails_nothing_and_logs_why(realm, accounts, settings, caplog):
    settings.VIMBADMIN_BASE_URL = ""
    settings.DEBUG = False
    with caplog.at_level(logging.ERROR, logger="vimbadmin.mail"):
        assert request_link(realm, accounts[realm], HTTP_HOST="localhost:31337") == []
    assert "VIMBADMIN_BASE_URL is not set: no link sent" in caplog.text


@pytest.mark.parametrize("realm", ["admin", "mailbox"])
def test_without_base_url_debug_uses_the_request(realm, accounts, settings):
    settings.VIMBADMIN_BASE_URL = ""
    settings.DEBUG = True
    [body] = request_link(realm, accounts[realm], HTTP_HOST="localhost:8000")
    assert link_in(body).startswith("http://localhost:8000" + RESETS[realm][2])


def _mail_checks() -> list[str]:
    return sorted(
        m.id for m in run_checks(include_deployment_checks=True) if m.id.startswith("mail.")
    )


def test_check_deploy_requires_a_usable_base_url(settings):
    settings.VIMBADMIN_BASE_URL = ""
    assert _mail_checks() == ["mail.E001"]
    settings.VIMBADMIN_BASE_URL = "mail-admin.example.org"
    assert _mail_checks() == ["mail.E002"]
    settings.VIMBADMIN_BASE_URL = BASE + "/vimbadmin/"
    assert _mail_checks() == ["mail.E002"]
    settings.VIMBADMIN_BASE_URL = "http://mail-admin.example.org"
    assert _mail_checks() == ["mail.W001"]
    settings.VIMBADMIN_BASE_URL = BASE + "/"
    assert _mail_checks() == []


def test_run_dev_sets_the_base_url():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "scripts" / "run-dev.sh").read_text()
    assert 'export VIMBADMIN_BASE_URL="${VIMBADMIN_BASE_URL:-http://127.0.0.1:${PORT:-8000}}"' in (
        script
    )


# Admin tokens --------------------------------------------------------------------------------


def _open(client: Client, link: str) -> str:
    """Follow the mailed link; return the set-password form's URL (the token now in session)."""
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 302
    return response["Location"]


def test_changed_alternative_address_voids_earlier_admin_links(accounts, superadmin):
    [body] = request_link("admin", "admin@alpha.example")
    link = link_in(body)
    admin_update(
        actor=superadmin, admin=Admin.objects.get(pk="admin@alpha.example"), email_other=""
    )
    # Saved without a change: the link still works.
    assert Client().get(link.removeprefix("http://testserver")).status_code == 302
    admin_update(
        actor=superadmin,
        admin=Admin.objects.get(pk="admin@alpha.example"),
        email_other="private@home.example",
    )
    response = Client().get(link.removeprefix("http://testserver"), follow=True)
    assert "The password reset link has expired or has already been used" in response.text


def test_a_link_opened_before_the_address_changed_sets_nothing(accounts, superadmin):
    [body] = request_link("admin", "admin@alpha.example")
    client = Client()
    form_url = _open(client, link_in(body))
    admin_update(
        actor=superadmin,
        admin=Admin.objects.get(pk="admin@alpha.example"),
        email_other="private@home.example",
    )
    before = Admin.objects.get(pk="admin@alpha.example").password
    response = client.post(form_url, {"password": NEW, "password2": NEW})
    assert response.status_code == 200
    assert Admin.objects.get(pk="admin@alpha.example").password == before


def test_a_role_change_voids_earlier_admin_links(accounts, superadmin):
    [body] = request_link("admin", "admin@alpha.example")
    admin_set_superadmin(
        actor=superadmin, admin=Admin.objects.get(pk="admin@alpha.example"), superadmin=True
    )
    response = Client().get(link_in(body).removeprefix("http://testserver"), follow=True)
    assert "The password reset link has expired or has already been used" in response.text


# One link, one password, even when two clients race -----------------------------------------


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("pfa_cleanup")
@pytest.mark.parametrize("round_", range(3))
def test_two_clients_racing_with_one_admin_link_set_one_password(settings, round_):
    # A slow hash widens the window in which both requests have checked the token.
    settings.VIMBADMIN_PASSWORD_SCHEME = "ARGON2ID"
    domain = make_domain("alpha.example")
    make_admin("adm@alpha.example", domains=[domain])
    [body] = request_link("admin", "adm@alpha.example")
    link = link_in(body)
    clients = [Client(), Client()]
    forms = [_open(client, link) for client in clients]
    assert all(INTERNAL_RESET_SESSION_TOKEN in client.session for client in clients)

    outcomes = race(
        [
            lambda: clients[0].post(forms[0], {"password": NEW, "password2": NEW}),
            lambda: clients[1].post(forms[1], {"password": OTHER, "password2": OTHER}),
        ]
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    statuses = sorted(o.status_code for o in outcomes)
    assert statuses == [200, 302]
    loser = next(o for o in outcomes if o.status_code == 200)
    assert "This password reset link is invalid or has expired." in loser.text
    winner = 0 if outcomes[0].status_code == 302 else 1
    stored = Admin.objects.get(pk="adm@alpha.example").password
    assert passwords.verify_password((NEW, OTHER)[winner], stored)
    assert not passwords.verify_password(PASSWORD, stored)
    assert Log.objects.filter(action="edit_password", data="adm@alpha.example").count() == 1
