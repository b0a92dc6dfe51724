"""No logged-in page may stay in a browser or proxy cache: every app response says no-store.

The URL walk (tests/support/urlwalk.py) finds every routed URL, so a new page is covered as soon
as it is routed; it is fetched as a super admin, a domain admin and a mailbox owner, together
with redirects, error pages and refused posts. Static files stay cacheable.
"""

from __future__ import annotations

import itertools

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

from tests.factories import make_mailbox, owner_client_for
from tests.support.urlwalk import all_url_patterns
from vimbadmin.urls import urlpatterns as app_urlpatterns

# Values for the parameters that are not objects of a domain: a mailed token's parts.
TOKEN_VALUES = {"uidb64": ["MQ"], "token": ["a1b2c3-0123456789abcdef"]}


def _boom(request) -> HttpResponse:
    raise RuntimeError("failing on purpose")


# Used by the error page test: the app's routes plus one that fails.
urlpatterns = [path("boom/", _boom), *app_urlpatterns]
handler500 = "vimbadmin.errors.server_error"


def _urls(objects: dict[str, list[str]]) -> list[str]:
    values = {**objects, **TOKEN_VALUES}
    urls = []
    for name, pattern, params in all_url_patterns():
        if name is None:
            assert not params, f"unnamed pattern {pattern.pattern} with {params}"
            urls.append("/" + str(pattern.pattern))
            continue
        missing = [p for p in params if p not in values]
        assert not missing, (
            f"{name}: no value for {missing}; add one to the world fixture (tests/conftest.py)"
        )
        for combo in itertools.product(*(values[p] for p in params)):
            urls.append(reverse(name, kwargs=dict(zip(params, combo, strict=True))))
    return sorted(set(urls))


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and "private" in directives


@pytest.fixture
def owner_client(domain_a) -> Client:
    return owner_client_for(make_mailbox(domain_a, "owner"))


@pytest.mark.django_db
def test_every_page_a_logged_in_user_gets_is_no_store(
    super_client,
    client_a,
    client_b,
    owner_client,
    world,
):
    urls = _urls(world)
    assert "/mailboxes/new/" in urls
    assert "/me/" in urls
    seen_statuses: set[int] = set()
    failures = []
    for who, client in (
        ("super admin", super_client),
        ("domain admin", client_a),
        ("other domain's admin", client_b),
        ("mailbox owner", owner_client),
    ):
        for url in urls:
            response = client.get(url)
            seen_statuses.add(response.status_code)
            if not _no_store(response):
                cache = response.get("Cache-Control")
                failures.append(f"{who} GET {url} ({response.status_code}): {cache!r}")
    assert not failures, "\n".join(failures)
    # Pages, redirects (the owner on admin pages), 404s (out of scope) and 405s (POST-only).
    assert {200, 302, 404, 405} <= seen_statuses


@pytest.mark.django_db
def test_refused_and_failed_requests_of_a_logged_in_user_are_no_store(superadmin, settings):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(superadmin)
    refused = csrf_client.post("/mailboxes/new/", {})
    assert refused.status_code == 403
    assert _no_store(refused)

    missing = csrf_client.get("/no-such-page/")
    assert missing.status_code == 404
    assert _no_store(missing)

    settings.ROOT_URLCONF = "tests.test_cache_control"
    failing = Client(raise_request_exception=False)
    failing.force_login(superadmin)
    failed = failing.get("/boom/")
    assert failed.status_code == 500
    assert _no_store(failed)


@pytest.mark.django_db
def test_the_login_pages_are_no_store_too():
    for url in ("/accounts/login/", "/me/login/", "/accounts/password-reset/"):
        response = Client().get(url)
        assert response.status_code == 200
        assert _no_store(response), url


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/vimbadmin.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
