"""The one-pass list rendering shows what Django's template tags would: dates, IDN names, the
header's sort links and the page links, in every language and time zone."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from core.listing.tables import DateCells, display_address, display_domain
from tests.factories import make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

FORMATS = [
    "SHORT_DATETIME_FORMAT",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "Y-m-d H:i",
    "Y-m-d H:i:s",
    r"j.n.y G\h i \\ P",
    "D, d M Y f a A g h N F E l",
    "c U w W z t L",
    # Formats showing the time zone take Django's own path.
    "Y-m-d H:i T O e",
    "r",
]
TIMES = [
    dt.datetime(2026, 3, 29, 0, 0, 0, tzinfo=dt.UTC),  # midnight
    dt.datetime(2026, 3, 29, 1, 30, 0, tzinfo=dt.UTC),  # around a DST change in Berlin
    dt.datetime(2026, 10, 25, 12, 0, 0, tzinfo=dt.UTC),  # noon
    dt.datetime(2026, 12, 31, 23, 5, 9, 123456, tzinfo=dt.UTC),
    dt.datetime(1999, 1, 1, 11, 59, 59, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_date_cells_match_the_date_filter(language, zone, settings):
    settings.TIME_ZONE = zone
    with translation.override(language), timezone.override(zone):
        for name in FORMATS:
            cells = DateCells(name, "—")
            for value in TIMES:
                expected = date_filter(timezone.template_localtime(value), name) or "—"
                assert cells(value) == expected, (name, value)


def test_date_cells_fall_back_for_dates_and_empty_output():
    assert DateCells("Y-m-d", "—")(dt.date(2026, 1, 2)) == "2026-01-02"
    assert DateCells("", "—")(TIMES[0]) == "—"


def test_idn_names_are_shown_in_unicode():
    assert display_domain("xn--bcher-kva.example") == "bücher.example"
    assert display_address("anna@xn--bcher-kva.example") == "anna@bücher.example"
    assert display_domain("not_a-valid--name") == "not_a-valid--name"
    assert display_address("no-at-sign") == "no-at-sign"


def test_lists_show_idn_domains_and_catch_alls_in_unicode(super_client):
    idn = make_domain("bücher.example")
    make_mailbox(idn, "anna")
    make_alias(idn, "sales", ["anna@bücher.example", "@bücher.example"])
    make_alias(idn, "", ["anna@bücher.example"])

    text = html.unescape(super_client.get("/mailboxes/?domain=").content.decode())
    assert '<a href="/mailboxes/anna@xn--bcher-kva.example/">anna@bücher.example</a>' in text
    assert "<td>bücher.example</td>" in text

    text = html.unescape(super_client.get("/aliases/?domain=").content.decode())
    assert "anna@bücher.example, @bücher.example" in text
    assert ">@bücher.example (catch-all)</a>" in text

    text = html.unescape(super_client.get("/domains/").content.decode())
    assert '<a href="/domains/xn--bcher-kva.example/">bücher.example</a>' in text


def test_sort_links_keep_the_query_and_flip_the_direction(super_client, domain_a):
    make_mailbox(domain_a, "alice")

    text = super_client.get("/mailboxes/?q=al&domain=alpha.example&sort=name").content.decode()

    head = text.split("<thead", 1)[1].split("</thead>", 1)[0]
    headers = re.findall(r'<th([^>]*) scope="col">(.*?)</th>', head, re.S)
    # The first header is the bulk box for the whole page (a box, no text).
    assert 'aria-label="Select all on this page"' in headers[0][1]
    assert [re.sub(r"<[^>]+>", "", label).strip() for _, label in headers] == [
        "",
        "Address",
        "Name",
        "Domain",
        "Quota and usage",
        "Active",
        "Created",
        "Actions",
    ]
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', head))
    assert links["?q=al&amp;domain=alpha.example&amp;sort=-name"] == "Name"
    assert links["?q=al&amp;domain=alpha.example&amp;sort=username"] == "Address"
    assert 'class="asc orderable"' in head
    assert "Actions</th>" in head and "sort=actions" not in head


def test_page_links_mark_the_current_page_and_skip_ranges(super_client, domain_a, settings):
    settings.VIMBADMIN_LIST_PAGE_SIZE = 1
    for i in range(15):
        make_alias(domain_a, f"a{i:02d}")

    text = super_client.get("/aliases/?domain=alpha.example&page=8").content.decode()

    nav = text.split('<nav aria-label="Table navigation">', 1)[1].split("</nav>", 1)[0]
    items = re.findall(r'<li class="([^"]+)"><a ([^>]*)>(.*?)</a></li>', nav, re.S)
    labels = [re.sub(r"<[^>]+>|&laquo;|&raquo;", "", label).strip() for _, _, label in items]
    # django-tables2's range: ten numbers around the current page, first and last kept.
    numbers = ["1", "...", "5", "6", "7", "8", "9", "10", "...", "15"]
    assert labels == ["previous", *numbers, "next"]
    classes = dict(zip(labels, (css for css, _, _ in items), strict=False))
    assert classes["8"] == "page-item active"
    assert classes["previous"] == "previous page-item"
    hrefs = [attrs for _, attrs, _ in items]
    assert 'href="?domain=alpha.example&amp;page=7" class="page-link"' in hrefs[0]
    assert hrefs[2].strip() == 'class="page-link"'  # the gap is not a link
    assert 'href="?domain=alpha.example&amp;page=9" class="page-link"' in hrefs[-1]


def test_one_page_has_no_page_links(super_client, domain_a):
    make_alias(domain_a, "sales")

    text = super_client.get("/aliases/?domain=alpha.example").content.decode()

    assert "Table navigation" not in text
