"""A domain admin never reaches another domain: every object URL, list, search and choice field.

The URL patterns are discovered, so a new view is covered as soon as it is routed. A parameter
name this file does not know makes the test fail: either map it below or list the URL as public.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from django import forms
from django.db.models import Model
from django.urls import URLPattern, path, reverse

from accounts.models import Admin
from aliases.models import Alias
from domains.models import AliasDomain, Domain, DomainAdmin
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.support.urlwalk import all_url_patterns

# Reached through a mailed token, not by an object of a domain: their own tests cover them.
PUBLIC_TOKEN_URLS = {
    "accounts:password-reset-confirm",
    "selfservice:password-reset-confirm",
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


def test_every_object_url_is_404_for_another_domains_admin(client_b, world):
    failures: list[str] = []
    checked = 0
    checkable, unknown = _object_patterns(all_url_patterns(), world)
    for name, pattern, params in checkable:
        for values in itertools.product(*(world[p] for p in params)):
            url = reverse(name, kwargs=dict(zip(params, values, strict=True)))
            for method in ("get", "post"):
                before = _snapshot()
                response = client_b.post(url, POST_DATA) if method == "post" else client_b.get(url)
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


def test_list_pages_and_search_never_show_another_domain(client_b, world):
    names = _list_names()
    assert "accounts:admin-list" in names
    for name in names:
        url = reverse(name)
        for query in ("", "?q=alpha", "?q=alpha.example", "?q=user", "?q=info"):
            response = client_b.get(url + query)
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
