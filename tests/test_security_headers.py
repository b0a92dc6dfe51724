"""Security headers, error pages, static files and production settings (`check --deploy`)."""

from __future__ import annotations

import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLResolver, get_resolver, path, reverse
from django.views.defaults import server_error

from domains.services import alias_domain_create
from tests.factories import PASSWORD, make_admin, make_alias, make_mailbox
from vimbadmin.security import CONTENT_SECURITY_POLICY
from vimbadmin.urls import urlpatterns as app_urlpatterns

BASE_DIR = Path(__file__).resolve().parent.parent


def _raise_error(request):
    raise RuntimeError("secret-internal-detail")


def _raise_denied(request):
    raise PermissionDenied("You may not touch this domain.")


def _raise_bad(request):
    raise SuspiciousOperation("secret-suspicious-detail")


def _accept_post(request):
    return HttpResponse("posted")


# Used by @pytest.mark.urls below: the app's own routes plus three that fail on purpose.
urlpatterns = [
    path("boom/", _raise_error),
    path("denied/", _raise_denied),
    path("bad/", _raise_bad),
    path("post/", _accept_post),
    *app_urlpatterns,
]

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _assert_security_headers(response) -> None:
    assert response["Content-Security-Policy"] == EXPECTED_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def test_policy_constant_is_the_documented_one():
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


@pytest.mark.django_db
def test_headers_on_pages_for_anonymous_and_admins(client, super_client, client_a):
    pages = [
        (client, "/no-such-page/"),
        (super_client, "/no-such-page/"),
        (client_a, "/no-such-page/"),
    ]
    for name in ("accounts:login", "selfservice:login"):
        url = _url(name)
        if url:
            pages.append((client, url))
    for name in ("domains:domain-list", "mailboxes:mailbox-list"):
        url = _url(name)
        if url:
            pages += [(super_client, url), (client_a, url)]
    for browser, url in pages:
        response = browser.get(url)
        assert response.status_code in (200, 404), url
        _assert_security_headers(response)


@pytest.mark.django_db
def test_not_found_page_is_friendly(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Page not found" in text
    assert "Traceback" not in text


@pytest.mark.django_db
@pytest.mark.urls("tests.test_security_headers")
def test_server_error_page_shows_no_traceback():
    browser = Client(raise_request_exception=False)
    response = browser.get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Server error" in text
    assert "secret-internal-detail" not in text
    assert "Traceback" not in text
    _assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.urls("tests.test_security_headers")
def test_permission_denied_and_bad_request_pages(client):
    denied = client.get("/denied/")
    assert denied.status_code == 403
    assert "Not allowed" in denied.content.decode()
    assert "You may not touch this domain." in denied.content.decode()
    bad = client.get("/bad/")
    assert bad.status_code == 400
    assert "Bad request" in bad.content.decode()
    assert "secret-suspicious-detail" not in bad.content.decode()


def test_server_error_template_needs_no_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    text = response.content.decode()
    assert "Server error" in text
    assert "/static/bootstrap/css/bootstrap.min.css" in text


@pytest.mark.django_db
@pytest.mark.urls("tests.test_security_headers")
def test_csrf_failure_page_explains_what_to_do(superadmin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(superadmin)
    response = browser.post("/post/")
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()


@pytest.mark.django_db
def test_bootstrap_and_own_static_files_are_served_by_the_app(client):
    for url, kind in (
        ("/static/bootstrap/css/bootstrap.min.css", "text/css"),
        ("/static/css/vimbadmin.css", "text/css"),
        ("/static/js/vimbadmin.js", "javascript"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert kind in response["Content-Type"]
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 1000


@pytest.mark.django_db
def test_base_layout_links_bootstrap_and_deferred_script(client):
    text = client.get("/no-such-page/").content.decode()
    assert '<link rel="stylesheet" href="/static/bootstrap/css/bootstrap.min.css">' in text
    assert '<script src="/static/js/vimbadmin.js" defer></script>' in text
    assert 'href="#main"' in text


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


def _inline_code(text: str) -> list[str]:
    found = []
    for label, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("style= attribute", STYLE_ATTRIBUTE),
        ("<style> element", STYLE_ELEMENT),
        ("on…= event handler", EVENT_HANDLER),
    ):
        for match in pattern.finditer(text):
            start = max(match.start() - 60, 0)
            found.append(f"{label}: …{text[start : match.end() + 40]!r}…")
    return found


def test_no_template_carries_inline_script_or_style():
    # The CSP forbids inline script and style, so the browser would silently drop them.
    offenders = {}
    for template in sorted(BASE_DIR.glob("*/templates/**/*.html")) + sorted(
        BASE_DIR.glob("templates/**/*.html")
    ):
        if "emails" in template.parts:
            continue  # E-mails are not served under the CSP; mail clients want inline style.
        found = _inline_code(template.read_text())
        if found:
            offenders[str(template.relative_to(BASE_DIR))] = found
    assert offenders == {}


@pytest.mark.django_db
def test_rendered_main_pages_carry_no_inline_script_or_style(client, super_client, client_a):
    names = [
        "domains:domain-list",
        "domains:domain-create",
        "domains:aliasdomain-list",
        "mailboxes:mailbox-list",
        "mailboxes:mailbox-create",
        "aliases:alias-list",
        "aliases:alias-create",
        "accounts:admin-list",
        "accounts:admin-create",
        "accounts:password-change",
        "auditlog:log-list",
    ]
    offenders = {}
    for browser, url in [(client, _url(n)) for n in ("accounts:login", "selfservice:login")] + [
        (b, _url(n)) for n in names for b in (super_client, client_a)
    ]:
        if url is None:
            continue
        response = browser.get(url)
        if response.status_code != 200:
            continue
        found = _inline_code(response.content.decode())
        if found:
            offenders[url] = found
    assert offenders == {}


def _named_routes() -> list[tuple[str, list[str]]]:
    """List every named route of the app as ("namespace:name", [keyword arguments])."""
    found = []

    def walk(patterns, namespace: str = "") -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif entry.name:
                # The named groups: path() converters and regex routes (the REST API's) alike.
                found.append((namespace + entry.name, list(entry.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns)
    return found


@pytest.mark.django_db
def test_every_page_renders_without_error_or_inline_code(superadmin, domain_a, domain_b):
    mailbox = make_mailbox(domain_a, "anna")
    alias = make_alias(domain_a, "sales", ["anna@alpha.example"])
    alias_domain_create(actor=superadmin, alias_domain=domain_b, target_domain=domain_a)
    admin = make_admin("boss@alpha.example", domains=[domain_a])
    browser = Client(raise_request_exception=False)
    browser.force_login(superadmin)
    owner = Client(raise_request_exception=False)
    owner.post("/me/login/", {"address": "anna@alpha.example", "password": PASSWORD})
    values = {
        "domain": domain_a.domain,
        "address": alias.address,
        "alias_domain": domain_b.domain,
        "uidb64": "x",
        "token": "y",
        "pk": "1",
    }
    offenders, errors, seen = {}, {}, 0
    for name, converters in _named_routes():
        kwargs = {key: values.get(key) for key in converters}
        if "username" in kwargs:
            kwargs["username"] = admin.pk if name.startswith("accounts:") else mailbox.pk
        url = reverse(name, kwargs=kwargs)
        client = owner if name.startswith("selfservice:") else browser
        response = client.get(url)
        if response.status_code >= 500:
            errors[url] = response.status_code
        elif response.status_code == 200 and "text/html" in response["Content-Type"]:
            seen += 1
            found = _inline_code(response.content.decode())
            if found:
                offenders[url] = found
    assert errors == {}
    assert offenders == {}
    assert seen >= 20


def _deploy_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECURE_COOKIES", "SECURE_HSTS_INCLUDE_SUBDOMAINS"}
        and key not in {"SECURE_HSTS_PRELOAD", "DATABASE_URL", "DATABASE_TEST_NAME"}
        # Set while the browser tests run in the same session; never in production.
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env.update(
        DJANGO_SETTINGS_MODULE="vimbadmin.settings",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS="mail.example.org",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        VIMBADMIN_BASE_URL="https://mail.example.org",
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env=_deploy_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNING" not in result.stderr


def test_check_deploy_warns_when_cookies_are_not_secure():
    # Proves the previous test can fail: the same check notices an insecure switch.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env=_deploy_env(SECURE_COOKIES="false"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "security.W012" in result.stdout + result.stderr


def test_hsts_subdomains_and_preload_can_be_switched_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env=_deploy_env(SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="false"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "security.W005" in output
    assert "security.W021" in output


def test_every_table_header_cell_has_a_scope():
    # Screen readers announce a cell's headers only when <th> says what it heads.
    header_without_scope = re.compile(r"<th(?![a-z])(?![^>]*\bscope=)[^>]*>", re.IGNORECASE)
    offenders = {}
    for template in sorted(BASE_DIR.glob("templates/**/*.html")) + sorted(
        BASE_DIR.glob("*/templates/**/*.html")
    ):
        if "emails" in template.parts:
            continue
        found = header_without_scope.findall(template.read_text())
        if found:
            offenders[str(template.relative_to(BASE_DIR))] = found
    assert offenders == {}
