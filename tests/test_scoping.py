"""A domain admin never reaches another domain: every object URL, list, search and choice field.

The URL patterns are discovered, so a new view is covered as soon as it is routed. A parameter
name this file does not know makes the test fail: either map it below or list the URL as public.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.db.models import Model
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, path, reverse

import core.listing.pagination
from accounts.models import Admin
from accounts.scoping import OutOfScope, list_scope, scoped_domain_names
from accounts.services import admin_assign_domain, admin_unassign_domain
from aliases.models import Alias
from api.services import api_token_create
from core.context import RequestContextMiddleware
from core.listing.pagination import ListQuerySet, by_keys
from domains.models import AliasDomain, Domain, DomainAdmin
from domains.services import alias_domain_create
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox
from tests.support.urlwalk import all_url_patterns

# Reached through a mailed token, not by an object of a domain: their own tests cover them.
PUBLIC_TOKEN_URLS = {
    "accounts:password-reset-confirm",
    "selfservice:password-reset-confirm",
    "selfservice:email-other-confirm",
}

LEAK = "alpha.example"

# Tables the mail system reads, and the admin tables: none may change by an out-of-scope request.
SNAPSHOT_MODELS: tuple[type[Model], ...] = (Domain, Mailbox, Alias, AliasDomain, Admin, DomainAdmin)

# Posted with every request, so that a view that acted before checking scope would change
# something visible.
POST_DATA = {
    "active": "0",
    "superadmin": "1",
    "confirm": "1",
    "password": "Fresh-Orbit-Lantern-42",
    "password2": "Fresh-Orbit-Lantern-42",
    "new_password1": "Fresh-Orbit-Lantern-42",
    "new_password2": "Fresh-Orbit-Lantern-42",
    "domain": "beta.example",
    "admin": "admin@beta.example",
    "description": "changed",
    "name": "changed",
    "goto": "someone@beta.example",
    "targets": "someone@beta.example",
    "forward_to": "someone@beta.example",
    "quota": "1",
    "email_other": "changed@beta.example",
}


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    rows = {
        model._meta.db_table: sorted(
            (dict(r) for r in model._default_manager.values()), key=lambda r: repr(sorted(r))
        )
        for model in SNAPSHOT_MODELS
    }
    rows = {table: sorted(values, key=repr) for table, values in rows.items()}
    rows["log"] = [{"count": Log.objects.count()}]
    return rows


def _handles(pattern: URLPattern, method: str) -> bool:
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        # A route of a REST API viewset: the methods it maps.
        return method in actions
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None:
        return True
    return method in view_class.http_method_names and hasattr(view_class, method)


def _object_patterns(
    patterns: list[tuple[str | None, URLPattern, list[str]]], world: dict[str, list[str]]
) -> tuple[list[tuple[str, URLPattern, list[str]]], list[str]]:
    """Split the patterns that take parameters into checkable ones and unmapped ones."""
    checkable, unknown = [], []
    for name, pattern, params in patterns:
        if not params or name in PUBLIC_TOKEN_URLS:
            continue
        if name is None:
            unknown.append(f"unnamed pattern {pattern.pattern} with {params}")
            continue
        missing = [p for p in params if p not in world]
        if missing:
            unknown.append(f"{name}: {missing}")
            continue
        checkable.append((name, pattern, params))
    return checkable, unknown


def test_every_object_url_is_404_for_another_domains_admin(client_b, admin_b, world):
    failures: list[str] = []
    # The REST API reads no session: its URLs are called with admin_b's token instead.
    _token, key = api_token_create(actor=None, admin=admin_b, name="walk", expires=None)
    api = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    checked = 0
    checkable, unknown = _object_patterns(all_url_patterns(), world)
    for name, pattern, params in checkable:
        for values in itertools.product(*(world[p] for p in params)):
            url = reverse(name, kwargs=dict(zip(params, values, strict=True)))
            for method in ("get", "post"):
                before = _snapshot()
                extra = api if url.startswith("/api/v1/") else {}
                response = (
                    client_b.post(url, POST_DATA, **extra)
                    if method == "post"
                    else client_b.get(url, **extra)
                )
                # 405 only where the view has no handler for the method at all: that answer
                # does not depend on the object, so it tells nothing.
                allowed = {404} if _handles(pattern, method) else {404, 405}
                if response.status_code not in allowed:
                    failures.append(f"{method.upper()} {url} ({name}): {response.status_code}")
                if _snapshot() != before:
                    failures.append(f"{method.upper()} {url} ({name}) changed the database")
                checked += 1
    assert not unknown, (
        "URL parameters without a scoping value; map them in the world fixture (tests/conftest.py) "
        f"or list public token URLs: {unknown}"
    )
    assert not failures, "\n".join(failures)
    assert checked > 0


def test_unknown_parameter_names_fail_the_walk(world):
    # A new parameter name is reported, not skipped; so is an unnamed pattern.
    fake = path("x/<int:widget_id>/", lambda request, widget_id: None, name="widget-detail")
    unnamed = path("y/<str:domain>/", lambda request, domain: None)
    patterns = [("x:widget-detail", fake, ["widget_id"]), (None, unnamed, ["domain"])]
    checkable, unknown = _object_patterns(patterns, world)
    assert checkable == []
    assert unknown == [
        "x:widget-detail: ['widget_id']",
        "unnamed pattern y/<str:domain>/ with ['domain']",
    ]
    # The public token URLs are skipped on purpose, by name only.
    token = path("r/<uidb64>/<token>/", lambda request, **kw: None, name="password-reset-confirm")
    assert _object_patterns(
        [("accounts:password-reset-confirm", token, ["uidb64", "token"])], world
    ) == ([], [])
    assert _object_patterns([("other:reset", token, ["uidb64", "token"])], world)[1]


def test_scoping_values_really_exist_for_the_super_admin(super_client, world):
    # The walk proves something only if its URLs lead to real objects for someone allowed.
    checkable, _unknown = _object_patterns(all_url_patterns(), world)
    dead = []
    for name, pattern, params in checkable:
        if not _handles(pattern, "get"):
            continue
        combos = itertools.product(*(world[p] for p in params))
        codes = [
            super_client.get(reverse(name, kwargs=dict(zip(params, v, strict=True)))).status_code
            for v in combos
        ]
        if all(code == 404 for code in codes):
            dead.append(name)
    assert not dead, f"no mapped value reaches a real object: {dead}"


def _list_names() -> list[str]:
    return sorted(
        name
        for name, _pattern, params in all_url_patterns()
        if name and name.endswith("-list") and not params
    )


def test_list_pages_and_search_never_show_another_domain(client_b, admin_b, world):
    names = _list_names()
    assert "accounts:admin-list" in names
    # The REST API reads no session: its lists are read with admin_b's token instead.
    _token, key = api_token_create(actor=None, admin=admin_b, name="walk", expires=None)
    for name in names:
        url = reverse(name)
        extra = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if url.startswith("/api/v1/") else {}
        for query in ("", "?q=alpha", "?q=alpha.example", "?q=user", "?q=info"):
            response = client_b.get(url + query, **extra)
            assert response.status_code in (200, 404), f"{url}{query}: {response.status_code}"
            # The search box and paging links echo the query itself; that is not a leak.
            html = response.content.decode().replace(f'value="{LEAK}"', "")
            html = html.replace(f"q={LEAK}", "")
            assert LEAK not in html, f"{url}{query} shows {LEAK}"


def _choice_values(form: forms.BaseForm) -> Iterator[str]:
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            yield from (str(obj.pk) for obj in queryset)
            yield from (str(obj) for obj in queryset)
        else:
            for value, label in getattr(field, "choices", []) or []:
                yield str(value)
                yield str(label)


def _forms_in(context: Any) -> Iterator[forms.BaseForm]:
    for layer in context or []:
        for value in layer.values() if hasattr(layer, "values") else []:
            if isinstance(value, forms.BaseForm):
                yield value


def test_form_pages_never_offer_another_domain(client_b, world):
    checked = []
    for name, _pattern, params in all_url_patterns():
        if not name or not name.endswith("-create"):
            continue
        if set(params) - {"domain"}:
            continue
        url = reverse(name, kwargs=dict.fromkeys(params, "beta.example"))
        response = client_b.get(url)
        assert response.status_code in (200, 404), f"{url}: {response.status_code}"
        assert LEAK not in response.content.decode(), f"{url} shows {LEAK}"
        for form in _forms_in(response.context):
            leaked = [v for v in _choice_values(form) if LEAK in v or "alpha-alias." in v]
            assert not leaked, f"{url} offers {leaked}"
        checked.append(name)
    assert "accounts:admin-create" in checked


# An admin with more domains than the literal limit, and deep pages ---------------------------

# The admin's domains and the others: every name contains "alpha", so a search for it finds
# rows of every tenant, and the others' rows sort between the admin's.
MINE = ("alpha.example", "alpha-2.example", "alpha-3.example", "alpha-4.example")
OTHERS = ("alpha-b.example", "alpha-z.example")

# Query strings asked of each list: searches, the selected domain (the admin's, another's), and
# each list's own filters. A list not named here is asked the first two.
LIST_QUERIES: dict[str, tuple[dict[str, str], ...]] = {
    "mailboxes:mailbox-list": (
        {},
        {"q": "user"},
        {"q": "alpha"},
        {"domain": "alpha-3.example"},
        {"domain": "alpha-3.example", "q": "user"},
        {"domain": "alpha-b.example"},
    ),
    "aliases:alias-list": (
        {},
        {"q": "info"},
        {"q": "alpha"},
        {"show_mailbox_aliases": "1"},
        {"show_mailbox_aliases": "1", "q": "user1"},
        {"domain": "alpha-3.example"},
        {"domain": "alpha-b.example"},
    ),
    "auditlog:log-list": (
        {},
        {"action": "create_mailbox"},
        {"domain": "alpha-3.example"},
        {"domain": "alpha-b.example"},
    ),
}
DEFAULT_QUERIES: tuple[dict[str, str], ...] = ({}, {"q": "alpha"})

# The lists narrowed by the selected domain (the others only take it to clear the selection).
FILTERED_LISTS = frozenset({"mailboxes:mailbox-list", "aliases:alias-list", "auditlog:log-list"})


@pytest.fixture
def many(superadmin, admin_a, admin_b, domain_a, domain_b) -> tuple[str, ...]:
    """admin_a manages four domains (alpha-4 an alias of alpha), admin_b the other two."""
    domains = {domain_a.domain: domain_a, domain_b.domain: domain_b}
    for name in (*MINE, *OTHERS):
        if name not in domains:
            domains[name] = make_domain(name)
    for name in MINE[1:]:
        admin_assign_domain(actor=None, admin=admin_a, domain=domains[name])
    for name in OTHERS:
        admin_assign_domain(actor=None, admin=admin_b, domain=domains[name])
    for name in (*MINE[:3], *OTHERS):
        for n in range(3):
            make_mailbox(domains[name], f"user{n}")
        make_alias(domains[name], "info", [f"user0@{name}"])
        make_alias(domains[name], "info-2", [f"user1@{name}"])
    alias_domain_create(actor=None, alias_domain=domains["alpha-4.example"], target_domain=domain_a)
    alias_domain_create(
        actor=None, alias_domain=domains["alpha-z.example"], target_domain=domains[OTHERS[0]]
    )
    return MINE


def _domain_of(record: Any) -> str:
    if isinstance(record, Domain):
        return record.domain
    if isinstance(record, AliasDomain):
        return record.alias_domain_id
    return getattr(record, "domain_id", None) or record.domain


def _every_page(client: Any, url: str, query: dict[str, str]) -> list[tuple[str, str]]:
    """Return (key, domain) of the rows of every page of a list, in the order shown."""
    rows, number = [], 1
    while True:
        response = client.get(url, {"domain": "", **query, "page": number})
        assert response.status_code == 200, f"{url} {query} page {number}"
        table = response.context["table"]
        rows += [(str(row.record.pk), _domain_of(row.record)) for row in table.paginated_rows]
        if not table.page.has_next():
            return rows
        number += 1


@pytest.mark.parametrize("limit", [None, 2], ids=["literal-domains", "past-the-limit"])
def test_every_list_and_search_shows_exactly_the_admins_rows_on_every_page(
    super_client, client_a, many, limit, settings, monkeypatch
):
    if limit is not None:
        # admin_a's four domains are then more than a list spells out: the scope's subquery.
        monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", limit)
    # Two rows a page, every page past the first fetched by its keys, the later half of the
    # list read from its end: each fast path of the paginators is walked.
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    monkeypatch.setattr(core.listing.pagination, "DEFERRED_FROM_ROW", 1)
    # The REST API's lists page by key: tests/test_api.py walks them the same way.
    names = [name for name in _list_names() if not name.startswith("api:")]
    assert {"mailboxes:mailbox-list", "aliases:alias-list", "auditlog:log-list"} <= set(names)
    foreign_seen = set()
    for name in names:
        url = reverse(name)
        if client_a.get(url).status_code == 404:
            continue  # a super admin's list (admins): the walk above covers its 404
        for query in LIST_QUERIES.get(name, DEFAULT_QUERIES):
            everyone = _every_page(super_client, url, query)
            mine = _every_page(client_a, url, query)
            selected = query.get("domain")
            expected = [
                row
                for row in everyone
                if row[1] in many and (name not in FILTERED_LISTS or selected in (None, row[1]))
            ]
            assert mine == expected, f"{url} {query}"
            foreign_seen |= {row[1] for row in everyone} - set(many)
            assert len(set(mine)) == len(mine), f"{url} {query}: a row on two pages"
    # The others' rows were there to be leaked, in every kind of list.
    assert set(OTHERS) <= foreign_seen


def test_a_key_outside_the_scope_never_becomes_a_row(admin_a, domain_a, domain_b, monkeypatch):
    make_mailbox(domain_a, "mine")
    make_mailbox(domain_b, "theirs")
    scope = list_scope(admin_a)
    assert scope.names == ("alpha.example",)
    listed = ListQuerySet.of(scope.rows(Mailbox).order_by("username"), scope=scope)
    assert [m.pk for m in by_keys(listed, ["mine@alpha.example"])] == ["mine@alpha.example"]
    # Fetched by key without the list's conditions, the row is checked against the scope.
    with pytest.raises(OutOfScope):
        list(by_keys(listed, ["theirs@beta.example", "mine@alpha.example"]))
    # Past the literal limit there are no names to check against: the scope stays in the query.
    monkeypatch.setattr("accounts.scoping.LITERAL_DOMAINS_LIMIT", 0)
    scope = list_scope(admin_a)
    assert scope.names is None
    listed = ListQuerySet.of(scope.rows(Mailbox).order_by("username"), scope=scope)
    assert [m.pk for m in by_keys(listed, ["theirs@beta.example", "mine@alpha.example"])] == [
        "mine@alpha.example"
    ]


@pytest.mark.parametrize("url", ["/mailboxes/", "/aliases/", "/log/", "/mailboxes/?q=user"])
def test_a_list_page_reads_the_admins_domains_once(client_a, domain_a, url):
    make_mailbox(domain_a, "user1")
    client_a.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client_a.get(url).status_code == 200
    asking = [q["sql"] for q in queries.captured_queries if "domain_admins" in q["sql"]]
    # Whether the admin is a super admin, and their domain names: the list, its filter form
    # and the domain switcher share the names, and the list's own query names them as literals.
    assert len(asking) == 2, asking


def test_domain_names_last_one_request_and_are_forgotten_when_they_change(
    admin_a, domain_a, domain_b
):
    seen: dict[str, Any] = {}

    def view(request: Any) -> HttpResponse:
        scoped_domain_names(admin_a)
        with CaptureQueriesContext(connection) as queries:
            seen["again"] = scoped_domain_names(admin_a)
        seen["queries"] = len(queries)
        admin_assign_domain(actor=None, admin=admin_a, domain=domain_b)
        seen["changed"] = scoped_domain_names(admin_a)
        return HttpResponse()

    RequestContextMiddleware(view)(RequestFactory().get("/"))
    assert seen == {
        "again": ["alpha.example"],
        "queries": 0,
        "changed": ["alpha.example", "beta.example"],
    }
    # Outside a request nothing is kept: every call reads the database.
    admin_unassign_domain(actor=None, admin=admin_a, domain=domain_b)
    assert scoped_domain_names(admin_a) == ["alpha.example"]
