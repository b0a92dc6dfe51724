"""The API's list endpoints cost a fixed handful of queries, whatever the page size or the
table size, and a right key is checked against the throttle with one read."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ThrottleCounter
from accounts.scoping import is_superadmin
from accounts.services import admin_assign_domain
from tests.factories import make_alias, make_domain, make_mailbox
from tests.test_api import Api, api_for

LISTS = ("/api/v1/mailboxes/", "/api/v1/aliases/", "/api/v1/domains/", "/api/v1/alias-domains/")
# Token, its admin, the throttle's counters; the admin's scope; the page (and, for domains,
# their default quotas). The list pages of the UI read as many.
MOST = 7


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def _queries(api: Api, url: str, params: dict[str, Any]) -> tuple[int, list[Any]]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()["results"]


def _grow(domain: Any, admin: Any, start: int, count: int) -> None:
    for n in range(start, start + count):
        make_mailbox(domain, f"user{n:03d}")
        make_alias(domain, f"info{n:03d}", [f"user{n:03d}@{domain.domain}"])
        extra = make_domain(f"extra{n:03d}.example")
        if not is_superadmin(admin):
            admin_assign_domain(actor=None, admin=admin, domain=extra)


@pytest.mark.parametrize("role", ["super", "domain"])
@pytest.mark.parametrize("url", LISTS)
def test_list_queries_do_not_grow_with_page_size_or_rows(url, role, superadmin, admin_a, domain_a):
    admin = superadmin if role == "super" else admin_a
    api = api_for(admin)
    _grow(domain_a, admin, 0, 3)
    api.get(url)  # the first request of a key marks its address known (one write, then none)
    few, rows = _queries(api, url, {"limit": 2})
    many, all_rows = _queries(api, url, {"limit": 50})
    _grow(domain_a, admin, 3, 30)
    more, more_rows = _queries(api, url, {"limit": 50})
    assert few == many == more <= MOST
    if url != "/api/v1/alias-domains/":
        # The pages did hold more rows as the table grew.
        assert len(rows) == 2 < len(all_rows) < len(more_rows)


def test_a_right_key_writes_nothing_to_the_throttle(admin_a):
    api = api_for(admin_a)
    assert api.get("/api/v1/domains/").status_code == 200
    before = list(ThrottleCounter.objects.order_by("pk").values())
    for _ in range(3):
        assert api.get("/api/v1/domains/").status_code == 200
    assert list(ThrottleCounter.objects.order_by("pk").values()) == before
    # The first use marked the address known for the key's prefix, as a login does.
    pair = ThrottleCounter.objects.get(scope=ThrottleCounter.Scope.PAIR)
    assert pair.last_success is not None and pair.failures == 0


def test_a_right_key_clears_its_pairs_failures(admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 5
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 50
    api = api_for(admin_a)
    _prefix, secret = api.headers["HTTP_AUTHORIZATION"].removeprefix("Bearer vimb_").split("_", 1)
    wrong = Api(f"vimb_{_prefix}_{'x' * 43}")
    assert [wrong.get("/api/v1/domains/").status_code for _ in range(3)] == [401] * 3
    pair = ThrottleCounter.objects.get(scope=ThrottleCounter.Scope.PAIR)
    assert pair.failures == 3
    assert api.get("/api/v1/domains/").status_code == 200
    pair.refresh_from_db()
    assert pair.failures == 0 and pair.last_success is not None
    assert secret  # the right key differs only in its secret part


def test_wrong_keys_for_one_prefix_lock_that_pair_out(admin_a, settings):
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT = 2
    settings.VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 50
    api = api_for(admin_a)
    prefix = api.headers["HTTP_AUTHORIZATION"].removeprefix("Bearer vimb_").split("_", 1)[0]
    wrong = Api(f"vimb_{prefix}_{'y' * 43}")
    codes = [wrong.get("/api/v1/domains/").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    # Held back before the key is even looked at: the right key waits too, from this address.
    assert api.get("/api/v1/domains/").status_code == 429


@pytest.mark.parametrize("url", ("/api/v1/mailboxes/", "/api/v1/aliases/", "/api/v1/log/"))
def test_a_domain_limited_token_lists_its_domain_as_an_unlimited_one(url, admin_a, domain_a):
    """The token's limit adds no filter to a list of one of its domains (the list keeps its fast
    paths, e.g. keyset pages from MariaDB's listed-aliases table); other domains stay out."""
    other = make_domain("other.example")
    admin_assign_domain(actor=None, admin=admin_a, domain=other)
    _grow(domain_a, admin_a, 0, 3)
    make_mailbox(other, "someone")
    make_alias(other, "info", ["someone@other.example"])
    unlimited, limited = api_for(admin_a), api_for(admin_a, domains=[domain_a.domain])
    params = {"domain": domain_a.domain, "limit": 2}
    for api in (unlimited, limited):  # a first use writes or looks up once
        api.get(url, params)
    free_count, free_rows = _queries(unlimited, url, params)
    limited_count, limited_rows = _queries(limited, url, params)
    assert limited_rows == free_rows and len(limited_rows) == 2
    assert limited_count == free_count
    listed = {row.get("domain") for row in limited.get(url, {"limit": 100}).json()["results"]}
    assert "other.example" not in listed
    outside = limited.get(url, {"domain": "other.example"})
    assert outside.status_code == 200 and outside.json()["results"] == []


def test_narrowed_keeps_a_list_of_the_tokens_own_domains(admin_a, domain_a):
    from aliases.selectors import alias_list
    from api.access import narrowed
    from api.models import ApiToken
    from core.listing.pagination import ListQuerySet

    other = make_domain("other.example")
    admin_assign_domain(actor=None, admin=admin_a, domain=other)
    token = ApiToken(admin=admin_a, domains=[domain_a.domain])
    own = alias_list(admin_a, {"domain": domain_a.domain})
    assert narrowed(token, own) is own and isinstance(own, ListQuerySet)
    # A list of all the admin's domains is narrowed by a filter.
    both = alias_list(admin_a, {})
    assert narrowed(token, both) is not both
