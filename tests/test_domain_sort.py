"""Domains are listed by the Unicode name people read, not by the stored `xn--` form: the domain
list (both ways, every page), the API (every cursor page), the CSV export, the CLI and every
domain select or checklist; domains Postfix Admin writes get their key from the repair paths."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.scoping import forget_domain_names
from api.services import api_token_create
from core.listing import pagination
from core.listing.pagination import keyset_page
from domains.counters import ensure_missing
from domains.models import Domain, DomainCounters, by_sort_name
from domains.selectors import domain_list
from domains.services import alias_domain_create
from mail.names import domain_sort_key, normalize_domain
from tests.factories import make_admin, make_domain

pytestmark = pytest.mark.django_db

# As a person reads them: accents and case aside first, so "ärzte" comes after "alpha" (not
# after "zeta", where its code point or its stored xn--rzte-koa would put it).
MADE = ["zeta.example", "bücher.example", "ärzte.home.arpa", "alpha.local", "örebro.example"]
# Written by Postfix Admin itself: no counters row, so no sort key until a repair path stores it.
RAW = ["ćevapi.example", "delta.example"]
ORDER = [
    "alpha.local",
    "ärzte.home.arpa",
    "bücher.example",
    "ćevapi.example",
    "delta.example",
    "örebro.example",
    "zeta.example",
]
STORED = [normalize_domain(name) for name in ORDER]


def insert_as_postfix_admin(name: str) -> str:
    """Insert a domain row the way Postfix Admin's PHP does: one INSERT into `domain`, nothing
    of the project's tables."""
    stored = normalize_domain(name)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO domain (domain, description, aliases, mailboxes, maxquota, quota,"
            " transport, backupmx, created, modified, active)"
            " VALUES (%s, '', 0, 0, 0, 0, 'virtual', %s, %s, %s, %s)",
            [stored, False, now, now, True],
        )
    return stored


class Api:
    """A client sending one API token's key, as an API client does."""

    def __init__(self, admin: Any) -> None:
        expires = timezone.now() + datetime.timedelta(days=1)
        _token, key = api_token_create(actor=None, admin=admin, name="sort", expires=expires)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, params or {})


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def domains(db) -> list[str]:
    for name in MADE:
        make_domain(name)
    for name in RAW:
        insert_as_postfix_admin(name)
    return STORED


def _listed(client: Any, **params: Any) -> list[str]:
    """Return the domains of every page of the domain list, walking `?page=`."""
    names: list[str] = []
    page = 1
    while True:
        response = client.get("/domains/", {**params, "page": page, "per_page": 2})
        assert response.status_code == 200
        table = response.context["table"]
        names += [row.record.domain for row in table.paginated_rows]
        if not table.page.has_next():
            return names
        page += 1


def test_the_key_orders_as_a_dictionary_and_ties_break_on_the_name():
    keys = sorted(STORED, key=domain_sort_key)
    assert keys == STORED
    # A plain letter before its accented form; ß after ss, where the folded letters tie.
    pair = [normalize_domain("straße.de"), "strasse.de"]
    assert sorted(pair, key=domain_sort_key) == ["strasse.de", normalize_domain("straße.de")]
    # The stored name comes last: no two domains share a key, so a list pages by it alone.
    assert domain_sort_key("ZETA.example") != domain_sort_key("zeta.example")


@pytest.mark.parametrize("deferred_from_row", [500, 1])
def test_the_domain_list_pages_in_unicode_order_both_ways(
    super_client, domains, monkeypatch, deferred_from_row
):
    # From row 1: deep pages fetch their keys first, past the middle from the end.
    monkeypatch.setattr(pagination, "DEFERRED_FROM_ROW", deferred_from_row)
    assert _listed(super_client) == STORED
    assert _listed(super_client, sort="domain") == STORED
    assert _listed(super_client, sort="-domain") == STORED[::-1]
    page = super_client.get("/domains/", {"per_page": 3}).content.decode()
    # Shown in Unicode, in that order.
    shown = [page.index(f">{name}<") for name in ORDER[:3]]
    assert shown == sorted(shown)


def test_a_domain_admin_sees_their_domains_in_the_same_order(domains):
    admin = make_admin(domains=list(Domain.objects.filter(pk__in=STORED[::2])))
    client = Client()
    client.force_login(admin)
    assert _listed(client) == STORED[::2]


def test_the_list_page_stores_the_key_of_domains_postfix_admin_wrote(super_client, domains):
    raw = [normalize_domain(name) for name in RAW]
    assert not DomainCounters.objects.filter(domain_id__in=raw).exists()
    # Before any repair, such a domain goes by its stored name: right for an ASCII name, among
    # the x's for an IDN.
    before = list(by_sort_name(Domain.objects.filter(pk__in=STORED)).values_list("pk", flat=True))
    others = [name for name in STORED if name not in (raw[0], "zeta.example")]
    assert before == [*others, raw[0], "zeta.example"]
    _listed(super_client)
    keys = dict(DomainCounters.objects.filter(domain_id__in=raw).values_list("domain", "sort_name"))
    assert keys == {name: domain_sort_key(name) for name in raw}


def test_domain_counters_and_the_counters_repair_fill_missing_keys(domains):
    raw = normalize_domain(RAW[0])
    call_command("domain_counters", stdout=io.StringIO())
    key = "cevapi.example ćevapi.example xn--evapi-fxa.example"
    assert DomainCounters.objects.get(domain_id=raw).sort_name == key
    # A row an older release made, without the key: the next list page or recount fills it.
    DomainCounters.objects.update(sort_name=None)
    call_command("domain_counters", "--usage-only", stdout=io.StringIO())
    assert not DomainCounters.objects.filter(sort_name=None).exists()
    DomainCounters.objects.update(sort_name=None)
    ensure_missing(Domain.objects.all())
    stored = dict(DomainCounters.objects.values_list("domain", "sort_name"))
    assert stored == {name: domain_sort_key(name) for name in STORED}


def test_the_api_walks_every_cursor_page_in_unicode_order(superadmin, domains):
    api = Api(superadmin)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = api.get("/api/v1/domains/", params).json()
        names += [row["domain"] for row in body["results"]]
        if body["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": body["next_cursor"]}
    assert names == STORED
    assert len(names) == len(set(names))


@pytest.mark.parametrize("keyed", [False, True])
def test_keyset_pages_read_to_the_end_both_ways(superadmin, domains, keyed):
    # keyed: from the counters' key column alone, as a list does once every domain has its key.
    assert ensure_missing(Domain.objects.all())
    rows = domain_list(superadmin, {}, keyed=keyed)
    for descending, expected in ((False, STORED), (True, STORED[::-1])):
        seen: list[str] = []
        after = None
        while True:
            page, after = keyset_page(
                rows, key="sort_name", after=after, size=3, descending=descending
            )
            seen += [row.domain for row in page]
            if after is None:
                break
        assert seen == expected


def test_ensure_missing_tells_when_some_domains_still_have_no_key(domains):
    raw = [normalize_domain(name) for name in RAW]
    # One of the two stored: the list cannot read from the key column alone yet.
    assert not ensure_missing(Domain.objects.all(), limit=1)
    assert DomainCounters.objects.filter(domain_id__in=raw).count() == 1
    assert ensure_missing(Domain.objects.all())
    assert DomainCounters.objects.filter(domain_id__in=raw, sort_name__isnull=False).count() == 2


def test_an_api_cursor_of_another_shape_is_a_field_error(superadmin, domains):
    api = Api(superadmin)
    for key in (["a"], ["a", "b"], None, True, {"a": 1}):
        cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
        response = api.get("/api/v1/domains/", {"cursor": cursor})
        assert response.status_code == 400, key
        assert "cursor" in response.json()["error"]["fields"]


def test_the_csv_export_and_the_cli_list_in_unicode_order(super_client, domains, monkeypatch):
    monkeypatch.setattr(pagination, "MAX_PER_PAGE", 2)
    response = super_client.get("/api/export/domains.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert [row["domain"] for row in csv.DictReader(io.StringIO(body))] == STORED
    out = io.StringIO()
    call_command("domain", "list", stdout=out)
    assert [line.split("\t")[0] for line in out.getvalue().splitlines()] == STORED


def test_domain_selects_and_checklists_offer_unicode_order(super_client, domains):
    forget_domain_names()
    create = super_client.get("/mailboxes/new/").content.decode()
    assert _select_values(create, "domain") == STORED
    aliases = super_client.get("/aliases/new/").content.decode()
    assert _select_values(aliases, "domain") == STORED
    listed = super_client.get("/mailboxes/").content.decode()
    assert _select_values(listed, "domain") == ["", *STORED]
    admin = super_client.get("/accounts/admins/new/").content.decode()
    assert _checkbox_values(admin, "domains") == STORED


def _select_values(html: str, name: str) -> list[str]:
    start = html.index(f'<select name="{name}"')
    block = html[start : html.index("</select>", start)]
    return [chunk.split('"', 1)[0] for chunk in block.split('<option value="')[1:]]


def _checkbox_values(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"', html)


def test_alias_domains_are_listed_by_the_unicode_names_too(super_client, superadmin, domains):
    zeta = Domain.objects.get(pk="zeta.example")
    sources = ["örebro.example", "ärzte.home.arpa", "delta.example", "alpha.local"]
    for name in sources:
        source = Domain.objects.get(pk=normalize_domain(name))
        alias_domain_create(actor=None, alias_domain=source, target_domain=zeta)
    expected = [normalize_domain(name) for name in ORDER if name in sources]
    table = super_client.get("/domains/alias-domains/").context["table"]
    assert [row.record.alias_domain_id for row in table.paginated_rows] == expected
    table = super_client.get("/domains/alias-domains/", {"sort": "-alias_domain"}).context["table"]
    assert [row.record.alias_domain_id for row in table.paginated_rows] == expected[::-1]
    api = Api(superadmin)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        body = api.get("/api/v1/alias-domains/", params).json()
        names += [row["alias_domain"] for row in body["results"]]
        if body["next_cursor"] is None:
            break
        params = {"limit": 1, "cursor": body["next_cursor"]}
    assert names == expected
    response = super_client.get("/api/export/alias-domains.csv")
    body = b"".join(response.streaming_content).decode()
    assert [row["alias_domain"] for row in csv.DictReader(io.StringIO(body))] == expected
    # The domain's page names the alias domains pointing at it in the same order.
    page = super_client.get("/domains/zeta.example/").content.decode()
    shown = [page.index(f"<li>{name} →") for name in ORDER if name in sources]
    assert shown == sorted(shown)
