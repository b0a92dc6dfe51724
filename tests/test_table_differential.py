"""The fast table renderer shows what django-tables2's own Bootstrap 5 template shows.

core/listing/tables.py writes the header, rows and page links of every list in one Python pass
instead of django-tables2's template loops, reading django-tables2's internals to do so. Each
project table is rendered here both ways from the same table object, and the two HTML documents
are compared after parsing (whitespace and attribute order do not count). A django-tables2
release that renders differently fails this test, before a user sees the difference.

The intended differences: the empty state, where the project's template (templates/_table.html)
says what to do next (clear the search, or create the first object) where django-tables2 shows
the empty text alone, compared separately: everything but the <tbody> must match; and the sorted
column's `aria-sort` (django-tables2 marks it with a CSS class only), checked and then set aside.
"""

from __future__ import annotations

import re

import pytest
from pytest_django.asserts import assertHTMLEqual

from accounts.services import admin_assign_domain
from domains.services import alias_domain_create
from tests.factories import make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

PROJECT_TEMPLATE = "_table.html"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
# Every list page of the project, one per table class.
LISTS = {
    "domains": "/domains/",
    "mailboxes": "/mailboxes/",
    "aliases": "/aliases/",
    "alias domains": "/domains/alias-domains/",
    "admins": "/accounts/admins/",
    "log": "/log/",
}
# A filter that matches nothing, per list.
NOTHING = {"log": "?admin=nobody@nowhere.example"}
ROWS = 13  # more than ten pages of one row: django-tables2 then shortens the range with "…"


def render_both(response) -> tuple[str, str]:
    """Render the response's table with the project's template and with django-tables2's."""
    assert response.status_code == 200
    table = response.context["table"]
    # as_html() is django-tables2's own entry point; it restarts the odd/even row counter.
    table.template_name = PROJECT_TEMPLATE
    ours = without_aria_sort(table.as_html(response.wsgi_request))
    table.template_name = DJANGO_TABLES2_TEMPLATE
    theirs = table.as_html(response.wsgi_request)
    return same_token(ours), same_token(theirs)


def same_token(text: str) -> str:
    """Replace CSRF tokens: {% csrf_token %} masks the secret anew on every call."""
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}"', r'\1…"', text)


ARIA_SORT = re.compile(r' aria-sort="(ascending|descending)"')


def without_aria_sort(ours: str) -> str:
    """Check that exactly the sorted header says so to screen readers; drop it for comparing."""
    headers = re.findall(r"<th [^>]*>", ours)
    sorted_headers = [th for th in headers if re.search(r'class="[^"]*\b(asc|desc)\b', th)]
    marked = [th for th in headers if ARIA_SORT.search(th)]
    assert marked == sorted_headers, headers
    for th in marked:
        direction = "ascending" if re.search(r'class="[^"]*\basc\b', th) else "descending"
        assert f'aria-sort="{direction}"' in th
    return ARIA_SORT.sub("", ours)


def without_tbody(text: str) -> str:
    return re.sub(r"<tbody\b.*?</tbody>", "<tbody></tbody>", text, count=1, flags=re.S)


@pytest.fixture
def filled(superadmin, domain_a, domain_b, admin_a):
    """Rows for every list: enough for pages with previous, next and a shortened range."""
    for n in range(ROWS):
        make_mailbox(domain_a, f"user{n:02d}", name=f"User <{n}> & Co")
        make_alias(domain_a, f"list{n:02d}", [f"user{n:02d}@alpha.example", "x@elsewhere.example"])
        alias_domain = make_domain(f"alias{n:02d}.example")
        alias_domain_create(actor=None, alias_domain=alias_domain, target_domain=domain_a)
        if n % 2:
            # The domain admin's list of alias domains has rows too.
            admin_assign_domain(actor=None, admin=admin_a, domain=alias_domain)
        make_admin(f"admin{n:02d}@alpha.example", domains=[domain_a])
    make_domain("xn--bcher-kva.example", description="IDN & co")
    make_mailbox(domain_b, "inactive", active=False)


# Pages with previous and next links, a shortened range, sorting both ways, a search.
QUERIES = [
    "",
    "?per_page=1&page=7",
    "?per_page=3&page=2&sort=-modified",
    "?per_page=5&page=1&q=1&sort=created",
    "?per_page=2&page=last",
]


def page_of(client, url: str):
    if "page=last" in url:
        last = client.get(url.replace("page=last", "page=1")).context["table"].paginator.num_pages
        url = url.replace("page=last", f"page={last}")
    return client.get(url)


@pytest.mark.parametrize("name", LISTS)
def test_the_fast_renderer_matches_django_tables2(filled, super_client, client_a, name):
    views = [(super_client, query) for query in QUERIES]
    if name != "admins":  # a page of super admins only
        views.append((client_a, "?per_page=4&page=2"))
    for client, query in views:
        ours, theirs = render_both(page_of(client, LISTS[name] + query))
        assert "<td" in ours
        assertHTMLEqual(ours, theirs, msg=f"{LISTS[name]}{query}")


@pytest.mark.parametrize("name", LISTS)
def test_an_empty_list_differs_only_in_its_empty_state(superadmin, super_client, name):
    query = NOTHING.get(name, "?q=nothing-matches-this")
    ours, theirs = render_both(super_client.get(LISTS[name] + query))
    assert "empty-state" in ours
    assert "empty-state" not in theirs
    assertHTMLEqual(without_tbody(ours), without_tbody(theirs))
