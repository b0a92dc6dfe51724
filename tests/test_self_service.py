"""Mailbox owners' self-service: login, overview, password change, forgotten password, sessions."""

from __future__ import annotations

import datetime
import logging
import re
import subprocess

import pytest
from django.contrib.auth import SESSION_KEY as ADMIN_SESSION_KEY
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, include, path, reverse
from django.utils import timezone

from accounts.models import AuthEvent
from accounts.owner_session import mailbox_login_required
from domains.services import alias_domain_create, domain_set_active
from mail.passwords import verify_password
from mailboxes.models import Mailbox
from mailboxes.services import (
    mailbox_reset_password,
    mailbox_set_active,
    mailbox_set_forwarding,
    mailbox_set_password,
)
from mailboxes.tokens import encode_uid, mailbox_reset_token
from pfa.models import Log, Quota2
from tests.factories import PASSWORD, make_alias, make_domain, make_mailbox
from tests.support.mailtools import closed_port, mail_sent

NEW_PASSWORD = "Purple-Otter-Lantern-42"
GENERIC_ERROR = "The e-mail address or the password is not correct."
LOCKED_TEXT = "Too many failed attempts"
LOGIN_URL = "/me/login/"


@pytest.fixture
def owner(domain_a) -> Mailbox:
    return make_mailbox(
        domain_a, "owner", name="Olive Owner", email_other="olive@elsewhere.example"
    )


def login(client: Client, address: str, password: str = PASSWORD):
    return client.post(reverse("selfservice:login"), {"address": address, "password": password})


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    response = login(client, owner.username)
    assert response.status_code == 302
    return client


def reload(mailbox: Mailbox) -> Mailbox:
    return Mailbox.objects.get(pk=mailbox.pk)


# --------------------------------------------------------------------------------------------
# Login


def test_login_opens_the_overview_without_an_admin_login(owner):
    client = Client()
    response = login(client, "  Owner@Alpha.Example ")
    assert response.status_code == 302
    assert response["Location"] == reverse("selfservice:overview")
    page = client.get(reverse("selfservice:overview"))
    assert page.status_code == 200
    assert "owner@alpha.example" in page.text
    assert "Olive Owner" in page.text
    # An owner is not a Django user: no admin login in the session, request.user anonymous.
    assert not page.wsgi_request.user.is_authenticated
    assert ADMIN_SESSION_KEY not in client.session
    assert AuthEvent.objects.filter(
        realm="mailbox", kind="login", username="owner@alpha.example"
    ).exists()


def test_login_rotates_the_session_key_and_csrf_token(owner):
    client = Client()
    client.get(reverse("selfservice:login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before_session = client.cookies["sessionid"].value
    before_csrf = client.cookies["csrftoken"].value
    login(client, owner.username)
    assert client.cookies["sessionid"].value != before_session
    assert client.cookies["csrftoken"].value != before_csrf
    assert client.session["probe"] == 1


@pytest.mark.parametrize("case", ["wrong", "unknown", "inactive_mailbox", "inactive_domain"])
def test_refused_logins_get_the_same_answer(case, owner, domain_a):
    address, password = owner.username, PASSWORD
    if case == "wrong":
        password = "not-the-password-1"
    elif case == "unknown":
        address = "nobody@alpha.example"
    elif case == "inactive_mailbox":
        mailbox_set_active(actor=None, mailbox=owner, active=False)
    else:
        domain_set_active(actor=None, domain=domain_a, active=False)
    client = Client()
    response = login(client, address, password)
    assert response.status_code == 200
    assert GENERIC_ERROR in response.text
    assert "vimb_mailbox" not in client.session
    assert client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)
    assert AuthEvent.objects.filter(realm="mailbox", kind="login_failed", username=address).exists()


def test_unparsable_address_is_just_a_refused_login(db):
    response = login(Client(), "not an address", "whatever-123")
    assert response.status_code == 200
    assert GENERIC_ERROR in response.text


def test_legacy_md5_crypt_hash_logs_in_and_is_upgraded(owner):
    legacy = subprocess.run(
        ["openssl", "passwd", "-1", "-stdin"],
        input="Old-School-Pass-7\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert legacy.startswith("$1$")
    Mailbox.objects.filter(pk=owner.pk).update(password=legacy)
    client = Client()
    response = login(client, owner.username, "Old-School-Pass-7")
    assert response.status_code == 302
    stored = reload(owner).password
    assert stored.startswith("{SHA512-CRYPT}$6$")
    assert verify_password("Old-School-Pass-7", stored)
    # The upgrade must not end the session that caused it.
    assert client.get(reverse("selfservice:overview")).status_code == 200


def test_login_is_throttled_with_a_fail2ban_line(owner, settings, caplog):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 3
    client = Client()
    with caplog.at_level(logging.WARNING, logger="vimbadmin.auth"):
        for _ in range(3):
            assert GENERIC_ERROR in login(client, owner.username, "bad-guess-123").text
    assert (
        "vimbadmin auth failure: realm=mailbox user=owner@alpha.example client=127.0.0.1"
        in caplog.text
    )
    # Now even the right password is refused, with a message that says why.
    response = login(client, owner.username)
    assert response.status_code == 200
    assert LOCKED_TEXT in response.text
    assert "vimb_mailbox" not in client.session


def test_login_page_links_reset_only_when_enabled(db, settings):
    assert reverse("selfservice:password-reset") in Client().get(reverse("selfservice:login")).text
    settings.VIMBADMIN_SELF_SERVICE_PASSWORD_RESET = False
    assert "/me/password-reset/" not in Client().get(reverse("selfservice:login")).text


def test_login_next_only_leads_into_the_owner_area(owner):
    client = Client()
    response = client.post(
        reverse("selfservice:login") + "?next=/me/password/",
        {"address": owner.username, "password": PASSWORD},
    )
    assert response["Location"] == "/me/password/"
    client2 = Client()
    response = client2.post(
        reverse("selfservice:login") + "?next=https://evil.example/",
        {"address": owner.username, "password": PASSWORD},
    )
    assert response["Location"] == reverse("selfservice:overview")


# --------------------------------------------------------------------------------------------
# Overview


def test_overview_shows_quota_usage_aliases_and_forwarding(domain_a, domain_b):
    owner = make_mailbox(domain_a, "bob", quota_bytes=1000 * 1024 * 1024)
    Quota2.objects.create(username=owner.username, bytes=250 * 1024 * 1024, messages=3)
    make_alias(domain_a, "sales", targets=["bob@alpha.example", "carol@elsewhere.example"])
    make_alias(domain_a, "info", targets=["bob@alpha.example"])
    # Substrings of other addresses must not count as delivering to bob.
    make_alias(domain_a, "lookalike", targets=["jimbob@alpha.example", "bob@alpha.example.org"])
    make_alias(domain_b, "other", targets=["carol@elsewhere.example"])
    mailbox_set_forwarding(actor=None, mailbox=owner, targets=["bob@home.example"], keep_copy=True)
    alias_domain = make_domain("gamma.example")
    alias_domain_create(actor=None, alias_domain=alias_domain, target_domain=domain_a)
    client = Client()
    login(client, owner.username)
    page = client.get(reverse("selfservice:overview")).text
    assert "25% of the quota" in page
    assert '<meter class="w-100 d-block mt-1" min="0" max="100"' in page
    assert "sales@alpha.example" in page
    assert "info@alpha.example" in page
    assert "lookalike@alpha.example" not in page
    assert "other@beta.example" not in page
    assert "bob@home.example" in page
    assert "a copy is forwarded" in page
    assert "bob@gamma.example" in page


def _delivering_section(page: str) -> str:
    section = page.split('id="me-aliases"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_overview_names_only_its_own_domains_aliases_and_counts_the_others(
    client_a, domain_a, domain_b, monkeypatch
):
    # Audit I2: alpha's admin points an alias of alpha at a mailbox of beta.
    bob = make_mailbox(domain_b, "bob")
    response = client_a.post(
        reverse("aliases:alias-create"),
        {"domain": "alpha.example", "local_part": "secret-project", "targets": "bob@beta.example"},
    )
    assert response.status_code == 302
    make_alias(domain_b, "team", targets=["bob@beta.example"])
    client = Client()
    login(client, bob.username)
    section = _delivering_section(client.get(reverse("selfservice:overview")).text)
    assert "team@beta.example" in section
    assert "secret-project" not in section
    assert "alpha.example" not in section
    assert "And 1 address in another domain." in section

    # Capped on both sides, and what is past the cap is only said.
    monkeypatch.setattr("mailboxes.selectors.DELIVERING_ALIASES_LIMIT", 1)
    make_alias(domain_b, "crew", targets=["bob@beta.example"])
    make_alias(domain_a, "other", targets=["bob@beta.example"])
    section = _delivering_section(client.get(reverse("selfservice:overview")).text)
    assert "crew@beta.example" in section
    assert "team@beta.example" not in section
    assert "Only the first 1 of this domain is shown." in section
    assert "And more than 1 address in other domains." in section


def test_overview_without_quota2_row_says_usage_is_unknown(owner_client):
    page = owner_client.get(reverse("selfservice:overview")).text
    assert "No figure from the mail server yet" in page
    # One "Log out" on the page: the header's (first-hour review, F24).
    assert page.count(">Log out</button>") == 1
    assert "<meter" not in page
    assert "not forwarded" in page


def test_owner_pages_show_the_owner_menu_not_the_admin_menu(owner_client):
    page = owner_client.get(reverse("selfservice:overview")).text
    assert reverse("selfservice:logout") in page
    assert reverse("domains:domain-list") not in page
    assert reverse("accounts:logout") not in page


# --------------------------------------------------------------------------------------------
# Password change


def change(client: Client, current: str, new1: str, new2: str | None = None):
    return client.post(
        reverse("selfservice:password"),
        {
            "current_password": current,
            "new_password1": new1,
            "new_password2": new1 if new2 is None else new2,
        },
    )


@pytest.mark.parametrize(
    ("current", "new1", "new2", "message"),
    [
        ("Wrong-Current-Pass-1", NEW_PASSWORD, None, "Your current password is wrong."),
        (PASSWORD, "short", None, "This password is too short"),
        (PASSWORD, "password123456", None, "This password is too common"),
        (PASSWORD, NEW_PASSWORD, "Something-Else-99", "The two passwords do not match."),
    ],
)
def test_password_change_refusals_change_nothing(owner, owner_client, current, new1, new2, message):
    before = reload(owner)
    response = change(owner_client, current, new1, new2)
    assert response.status_code == 200
    assert message in response.text
    after = reload(owner)
    assert after.password == before.password
    assert after.password_expiry == before.password_expiry
    assert not Log.objects.filter(action="edit_password").exists()
    assert len(mail.outbox) == 0


def test_wrong_current_password_counts_towards_the_lockout(owner, owner_client, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    change(owner_client, "Wrong-Current-Pass-1", NEW_PASSWORD)
    change(owner_client, "Wrong-Current-Pass-2", NEW_PASSWORD)
    response = change(owner_client, PASSWORD, NEW_PASSWORD)
    assert LOCKED_TEXT in response.text
    assert verify_password(PASSWORD, reload(owner).password)


def test_password_change_success(owner, owner_client, django_capture_on_commit_callbacks):
    other = Client()
    login(other, owner.username)
    assert other.get(reverse("selfservice:overview")).status_code == 200
    # An expiry long past, so the move is visible even at MariaDB's one-second precision.
    Mailbox.objects.filter(pk=owner.pk).update(
        password_expiry=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = change(owner_client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("selfservice:overview")
    stored = reload(owner)
    assert stored.password.startswith("{SHA512-CRYPT}")
    assert verify_password(NEW_PASSWORD, stored.password)
    assert not verify_password(PASSWORD, stored.password)
    assert stored.password_expiry > timezone.now() + datetime.timedelta(days=300)
    row = Log.objects.get(action="edit_password")
    assert row.username == "owner@alpha.example (127.0.0.1)"
    assert row.data == "owner@alpha.example"
    assert row.domain == "alpha.example"
    # The confirmed alternative address is told as well.
    assert [m.to for m in mail.outbox] == [["owner@alpha.example", "olive@elsewhere.example"]]
    assert NEW_PASSWORD not in mail.outbox[0].body
    # This session goes on; the other session of the same mailbox is over.
    page = owner_client.get(reverse("selfservice:overview"))
    assert page.status_code == 200
    assert "Your password has been changed." in page.text
    assert other.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)


def test_the_service_tells_the_owner_only_of_their_own_changes(
    owner, superadmin, django_capture_on_commit_callbacks
):
    # The mail comes from the service, so every path the owner takes (page, reset link, API)
    # sends it; an admin's change goes with the settings mail the admin chooses instead.
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_set_password(actor=superadmin, mailbox=owner, password=NEW_PASSWORD)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_set_password(actor=owner.username, mailbox=owner, password=PASSWORD)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (
            ["owner@alpha.example", "olive@elsewhere.example"],
            "The password of owner@alpha.example was changed",
        )
    ]
    assert PASSWORD not in mail.outbox[0].body


def test_password_set_elsewhere_ends_owner_sessions(owner, owner_client):
    mailbox_set_password(actor=None, mailbox=owner, password=NEW_PASSWORD)
    assert owner_client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)


def test_deactivation_ends_owner_sessions(owner, owner_client):
    mailbox_set_active(actor=None, mailbox=owner, active=False)
    assert owner_client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)


def test_failing_smtp_server_does_not_undo_the_change(
    owner, owner_client, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    with (
        caplog.at_level(logging.WARNING, logger="vimbadmin.mail"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = change(owner_client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert verify_password(NEW_PASSWORD, reload(owner).password)
    assert "sending mailbox_password_changed e-mail for owner@alpha.example failed" in caplog.text
    assert owner_client.get(reverse("selfservice:overview")).status_code == 200


def test_password_change_needs_a_post_with_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("selfservice:login"))
    token = page.context["csrf_token"] if page.context else client.cookies["csrftoken"].value
    client.post(
        reverse("selfservice:login"),
        {"address": owner.username, "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    response = client.post(
        reverse("selfservice:password"),
        {
            "current_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 403
    assert verify_password(PASSWORD, reload(owner).password)


# --------------------------------------------------------------------------------------------
# Forgotten password


def request_reset(client: Client, address: str):
    # The link is queued on commit for the background sender: commit, then wait for it.
    with mail_sent():
        return client.post(reverse("selfservice:password-reset"), {"address": address})


def reset_link() -> str:
    assert len(mail.outbox) == 1
    match = re.search(
        r"http://testserver(/me/password-reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body
    )
    assert match
    return match.group(1)


def test_reset_link_goes_to_the_alternative_address_and_works_once(owner):
    client = Client()
    response = request_reset(client, "OWNER@alpha.example")
    assert response["Location"] == reverse("selfservice:password-reset-done")
    assert [m.to for m in mail.outbox] == [["olive@elsewhere.example"]]
    link = reset_link()
    landing = client.get(link)
    # The token leaves the address bar before the form is shown.
    assert landing.status_code == 302
    assert landing["Location"].endswith("/set-password/")
    form_page = client.get(landing["Location"])
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.text
    mismatch = client.post(
        landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": "Other-Thing-77"}
    )
    assert "The two passwords do not match." in mismatch.text
    weak = client.post(landing["Location"], {"new_password1": "short", "new_password2": "short"})
    assert "This password is too short" in weak.text
    assert verify_password(PASSWORD, reload(owner).password)
    done = client.post(
        landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("selfservice:password-reset-complete")
    stored = reload(owner).password
    assert stored.startswith("{SHA512-CRYPT}")
    assert verify_password(NEW_PASSWORD, stored)
    assert Log.objects.filter(action="edit_password", data=owner.username).exists()
    assert login(Client(), owner.username, NEW_PASSWORD).status_code == 302
    # Used once: the same link is dead now, in this browser and in a fresh one.
    for browser in (client, Client()):
        again = browser.get(link, follow=True)
        assert "The password reset link is invalid" in again.text
    reused = client.post(
        landing["Location"],
        {"new_password1": "Yet-Another-Pass-5", "new_password2": "Yet-Another-Pass-5"},
    )
    assert "The password reset link is invalid" in reused.text
    assert verify_password(NEW_PASSWORD, reload(owner).password)


@pytest.mark.parametrize("case", ["unknown", "no_alternative", "inactive"])
def test_reset_answers_the_same_and_sends_nothing(case, owner, domain_a):
    address = owner.username
    if case == "unknown":
        address = "nobody@alpha.example"
    elif case == "no_alternative":
        address = make_mailbox(domain_a, "plain").username
    else:
        mailbox_set_active(actor=None, mailbox=owner, active=False)
    client = Client()
    response = request_reset(client, address)
    assert response.status_code == 302
    assert response["Location"] == reverse("selfservice:password-reset-done")
    assert len(mail.outbox) == 0
    page = client.get(response["Location"])
    assert "If the mailbox exists and has an alternative e-mail address" in page.text


def test_expired_reset_link_is_refused(owner):
    token = mailbox_reset_token._make_token_with_timestamp(
        owner,
        mailbox_reset_token._num_seconds(mailbox_reset_token._now()) - 3601,
        mailbox_reset_token.secret,
    )
    link = reverse(
        "selfservice:password-reset-confirm", kwargs={"uidb64": encode_uid(owner), "token": token}
    )
    response = Client().get(link)
    assert response.status_code == 200
    assert "The password reset link is invalid" in response.text
    fresh = mailbox_reset_token.make_token(owner)
    link = reverse(
        "selfservice:password-reset-confirm", kwargs={"uidb64": encode_uid(owner), "token": fresh}
    )
    assert Client().get(link).status_code == 302


def test_reset_link_expires_after_the_timeout(owner, settings):
    request_reset(Client(), owner.username)
    link = reset_link()
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert "The password reset link is invalid" in Client().get(link).text


def test_garbage_reset_links_are_refused(owner):
    for uid, token in (("!!", "abc-def"), (encode_uid(owner), "set-password"), ("Zm9v", "1-2")):
        link = reverse("selfservice:password-reset-confirm", kwargs={"uidb64": uid, "token": token})
        response = Client().get(link)
        assert response.status_code == 200
        assert "The password reset link is invalid" in response.text


def test_reset_requests_are_throttled(owner, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(3):
        response = request_reset(client, owner.username)
        assert response["Location"] == reverse("selfservice:password-reset-done")
    assert len(mail.outbox) == 2
    # One counted row per account, address and hour (L11), not one row per request.
    requested = AuthEvent.objects.filter(kind="reset_requested", username=owner.username)
    assert sum(requested.values_list("count", flat=True)) == 2


def test_reset_requests_are_throttled_per_client_address(domain_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 2
    mailboxes = [
        make_mailbox(domain_a, f"r{i}", email_other=f"r{i}@elsewhere.example") for i in range(3)
    ]
    client = Client()
    for mailbox in mailboxes:
        request_reset(client, mailbox.username)
    assert [m.to for m in mail.outbox] == [["r0@elsewhere.example"], ["r1@elsewhere.example"]]


def test_reset_switched_off_answers_404(owner, settings):
    token = mailbox_reset_token.make_token(owner)
    settings.VIMBADMIN_SELF_SERVICE_PASSWORD_RESET = False
    client = Client()
    for url in (
        reverse("selfservice:password-reset"),
        reverse("selfservice:password-reset-done"),
        reverse("selfservice:password-reset-complete"),
        reverse(
            "selfservice:password-reset-confirm",
            kwargs={"uidb64": encode_uid(owner), "token": token},
        ),
    ):
        assert client.get(url).status_code == 404
    assert request_reset(client, owner.username).status_code == 404
    assert len(mail.outbox) == 0


# --------------------------------------------------------------------------------------------
# Sessions: owner and admin logins never stand in for each other


def test_admin_session_does_not_open_owner_pages(super_client, owner):
    for name in ("selfservice:overview", "selfservice:password"):
        response = super_client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)
    page = super_client.get(reverse("selfservice:overview"), follow=True)
    assert "Log in to your mailbox" in page.text
    response = super_client.post(
        reverse("selfservice:password"),
        {
            "current_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response["Location"].startswith(LOGIN_URL)
    assert verify_password(PASSWORD, reload(owner).password)


def test_admin_logged_in_through_the_admin_login_still_needs_the_owner_login(superadmin, owner):
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": superadmin.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert ADMIN_SESSION_KEY in client.session
    assert client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)


# Pages anyone may open: the admin login, logout and forgotten-password pages.
PUBLIC_ADMIN_PAGES = {"login", "logout", "password-reset", "password-reset-done"}
PUBLIC_ADMIN_PAGES |= {"password-reset-confirm", "password-reset-complete"}
# The second step of a login, for either realm (tests/test_twofactor_login.py walks it).
LOGIN_STEP_PAGES = {"code", "cancel", "enrol"}


def _admin_urls(values: dict[str, str]) -> list[str]:
    """Return every admin URL of the project, with its arguments filled in."""
    urls: list[str] = []

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace and namespace != "selfservice" and pattern.name:
                if namespace == "accounts" and pattern.name in PUBLIC_ADMIN_PAGES:
                    continue
                if namespace == "twofactor" and pattern.name in LOGIN_STEP_PAGES:
                    continue
                if getattr(pattern.callback, "actions", None) is not None or (
                    namespace == "api" and pattern.name == "schema"
                ):
                    # The REST API answers any session without a token 401/403, never a login
                    # redirect (tests/test_api.py, tests/test_api_schema.py).
                    continue
                names = list(pattern.pattern.regex.groupindex)
                kwargs = {name: values.get(name, "x") for name in names}
                urls.append(reverse(f"{namespace}:{pattern.name}", kwargs=kwargs))

    walk(get_resolver().url_patterns, "")
    return urls


def test_owner_session_does_not_open_admin_pages(owner, owner_client, domain_a):
    values = {
        "username": owner.username,
        "domain": domain_a.domain,
        "address": owner.username,
        "pk": "1",
    }
    urls = _admin_urls(values)
    assert reverse("domains:domain-list") in urls
    assert reverse("mailboxes:mailbox-detail", kwargs={"username": owner.username}) in urls
    login_url = reverse("accounts:login")
    log_rows = Log.objects.count()
    for url in urls:
        for method in (owner_client.get, owner_client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(login_url), url
            assert not response.wsgi_request.user.is_authenticated
    # Nothing was changed by any of those posts.
    assert reload(owner).active
    assert verify_password(PASSWORD, reload(owner).password)
    assert Log.objects.count() == log_rows


def test_one_browser_with_both_logins_logs_out_of_each_separately(superadmin, owner):
    client = Client()
    client.force_login(superadmin)
    login(client, owner.username)
    assert client.get(reverse("selfservice:overview")).status_code == 200
    admin_page = client.get(reverse("domains:domain-list"))
    assert admin_page.status_code == 200
    # Owner logout leaves the admin logged in.
    response = client.post(reverse("selfservice:logout"))
    assert response["Location"] == reverse("selfservice:login")
    assert client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)
    assert client.get(reverse("domains:domain-list")).status_code == 200
    # Admin logout leaves the owner logged in.
    login(client, owner.username)
    assert client.get(reverse("selfservice:overview")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("domains:domain-list"))["Location"].startswith(
        reverse("accounts:login")
    )
    assert client.get(reverse("selfservice:overview")).status_code == 200


def test_logout_is_post_only(owner_client):
    assert owner_client.get(reverse("selfservice:logout")).status_code == 405
    assert owner_client.get(reverse("selfservice:overview")).status_code == 200
    owner_client.post(reverse("selfservice:logout"))
    assert owner_client.get(reverse("selfservice:overview"))["Location"].startswith(LOGIN_URL)
    assert AuthEvent.objects.filter(realm="mailbox", kind="logout").exists()


def test_every_owner_page_needs_the_owner_login(db):
    client = Client()
    for name in ("selfservice:overview", "selfservice:password"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN_URL}?next={reverse(name)}"


def test_reset_service_refuses_a_used_or_foreign_token(owner, domain_a):
    token = mailbox_reset_token.make_token(owner)
    mailbox_reset_password(mailbox=owner, token=token, password=NEW_PASSWORD)
    with pytest.raises(ValidationError):
        mailbox_reset_password(mailbox=reload(owner), token=token, password="Third-Pass-Word-3")
    other = make_mailbox(domain_a, "other", email_other="x@elsewhere.example")
    with pytest.raises(ValidationError):
        mailbox_reset_password(
            mailbox=other, token=mailbox_reset_token.make_token(owner), password="Third-Pass-Word-3"
        )
    assert verify_password(NEW_PASSWORD, reload(owner).password)
    assert verify_password(PASSWORD, reload(other).password)


def _probe(request):
    return HttpResponse(f"owner {request.mailbox.username}")


# The project's routes plus one function view behind the decorator (see the test below).
urlpatterns = [
    path("probe/", mailbox_login_required(_probe)),
    path("", include("vimbadmin.urls")),
]


@pytest.mark.urls("tests.test_self_service")
def test_function_views_use_the_same_owner_check(owner, superadmin):
    client = Client()
    assert client.get("/probe/")["Location"] == f"{LOGIN_URL}?next=/probe/"
    client.force_login(superadmin)
    assert client.get("/probe/")["Location"] == f"{LOGIN_URL}?next=/probe/"
    login(client, owner.username)
    assert client.get("/probe/").text == "owner owner@alpha.example"
