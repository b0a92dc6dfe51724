"""Every list pages the same way: `?per_page=` is capped, a page that cannot exist is a 404."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

import core.listing.pagination
from core.listing.pagination import ListPaginationMixin
from domains.services import alias_domain_create
from pfa.models import Log
from tests.factories import make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

LISTS = [
    "/domains/",
    "/domains/alias-domains/",
    "/accounts/admins/",
    "/mailboxes/",
    "/aliases/",
    "/log/",
]


def _rows(html: str) -> list[str]:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr.*?</tr>", body, flags=re.S)


@pytest.fixture
def five_of_each(domain_a):
    Log.objects.all().delete()
    start = timezone.now() - datetime.timedelta(days=1)
    for n in range(5):
        target = make_domain(f"d{n}.example")
        alias_domain_create(actor=None, alias_domain=target, target_domain=domain_a)
        make_admin(f"admin{n}@admins.example")
        make_mailbox(domain_a, f"box{n}")
        make_alias(domain_a, f"alias{n}", ["box0@alpha.example"])
        Log.objects.create(
            timestamp=start + datetime.timedelta(minutes=n),
            username="x (192.0.2.1)",
            domain="alpha.example",
            action="edit_alias",
            data=f"row{n}",
        )


@pytest.mark.parametrize("url", LISTS)
def test_per_page_is_capped_on_every_list(super_client, five_of_each, url, monkeypatch):
    response = super_client.get(url, {"per_page": "100000"})
    assert response.status_code == 200
    assert response.context["table"].paginator.per_page == core.listing.pagination.MAX_PER_PAGE
    monkeypatch.setattr(core.listing.pagination, "MAX_PER_PAGE", 3)
    response = super_client.get(url, {"per_page": "100000"})
    assert len(_rows(response.content.decode())) == 3
    assert 'class="page-link"' in response.content.decode()
    # A smaller page size is honoured, nonsense gives the configured one.
    assert len(_rows(super_client.get(url, {"per_page": "2"}).content.decode())) == 2
    response = super_client.get(url, {"per_page": "-1"})
    assert response.status_code == 200
    assert len(_rows(response.content.decode())) == 3


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "page", ["99999999999999999999", "9223372036854775808", "-1", "0", "abc", "1.5", "٣", " 2"]
)
def test_page_that_cannot_exist_is_not_found_on_every_list(
    super_client, client_a, five_of_each, url, page
):
    assert super_client.get(url, {"page": page}).status_code == 404
    if url != "/accounts/admins/":
        assert client_a.get(url, {"page": page}).status_code == 404


@pytest.mark.parametrize("url", LISTS)
def test_page_past_the_end_shows_a_page(super_client, five_of_each, url, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 2
    # The last page that may exist, and one just past the limit.
    last = core.listing.pagination.MAX_FIRST_ROW // 2
    for page in ("", "1", "3", "999", str(last)):
        response = super_client.get(url, {"page": page})
        assert response.status_code == 200, page
        assert _rows(response.content.decode())
    assert super_client.get(url, {"page": str(last + 1)}).status_code == 404


def _routed_lists() -> dict[str, type]:
    """Return the view class of every routed list page (a name ending in -list), by path."""
    found: dict[str, type] = {}

    def walk(entries: list, prefix: str) -> None:
        for entry in entries:
            if isinstance(entry, URLResolver):
                namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
                walk(entry.url_patterns, namespace)
            elif getattr(entry.callback, "actions", None) is not None:
                continue  # the REST API pages by key (tests/test_api.py)
            elif entry.name and entry.name.endswith("-list"):
                found[reverse(f"{prefix}{entry.name}")] = entry.callback.view_class

    walk(get_resolver().url_patterns, "")
    return found


def test_every_list_pages_through_the_one_capped_mixin():
    # A new list page is checked by the tests above only once it is in LISTS.
    lists = _routed_lists()
    assert sorted(lists) == sorted(LISTS)
    for path, view in lists.items():
        assert issubclass(view, ListPaginationMixin), path
        # The mixin's get_table() is the one that caps the page size and checks the page.
        assert view.get_table is ListPaginationMixin.get_table, path
