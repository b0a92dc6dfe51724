"""CSV export of the lists: the rows the list shows, every page, never a password hash."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.listing import pagination
from mailboxes.models import Mailbox
from tests.factories import make_alias, make_mailbox


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_every_page_of_the_mailbox_list_is_exported_without_hashes(
    client_a, domain_a, domain_b, monkeypatch
):
    # Rows are read a page at a time: with pages of 2 the export walks several.
    monkeypatch.setattr(pagination, "MAX_PER_PAGE", 2)
    for n in range(5):
        make_mailbox(domain_a, f"user{n}", name=f"User {n}")
    make_mailbox(domain_b, "other")
    rows = _rows(client_a.get("/api/export/mailboxes.csv"))
    assert [row["username"] for row in rows] == [f"user{n}@alpha.example" for n in range(5)]
    assert "password" not in rows[0]
    hashes = Mailbox.objects.values_list("password", flat=True)
    body = str(rows)
    assert not any(value in body for value in hashes)


def test_the_export_keeps_the_lists_search_and_domain(client_a, domain_a):
    make_mailbox(domain_a, "alice")
    make_mailbox(domain_a, "bob")
    rows = _rows(client_a.get("/api/export/mailboxes.csv", {"q": "alice"}))
    assert [row["username"] for row in rows] == ["alice@alpha.example"]
    page = client_a.get("/mailboxes/", {"q": "alice"}).content.decode()
    assert "/api/export/mailboxes.csv?q=alice" in page


def test_another_domains_rows_are_never_exported(client_b, domain_a, domain_b):
    make_mailbox(domain_a, "user")
    make_alias(domain_a, "info", ["user@alpha.example"])
    for url in (
        "/api/export/mailboxes.csv",
        "/api/export/aliases.csv",
        "/api/export/domains.csv",
        "/api/export/alias-domains.csv",
        "/api/export/log.csv",
    ):
        body = str(_rows(client_b.get(url, {"domain": "alpha.example"})))
        assert "alpha.example" not in body, url
        body = str(_rows(client_b.get(url)))
        assert "alpha.example" not in body, url


def test_each_list_exports_its_columns(super_client, domain_a):
    make_mailbox(domain_a, "user")
    make_alias(domain_a, "info", ["user@alpha.example", "x@elsewhere.example"])
    aliases = _rows(super_client.get("/api/export/aliases.csv"))
    assert aliases == [
        {
            **aliases[0],
            "address": "info@alpha.example",
            "targets": "user@alpha.example,x@elsewhere.example",
        }
    ]
    domains = _rows(super_client.get("/api/export/domains.csv"))
    assert [(d["domain"], d["mailbox_count"]) for d in domains] == [("alpha.example", "1")]
    log = _rows(super_client.get("/api/export/log.csv"))
    # Newest first, as the log page shows it.
    assert log[0]["action"] == "create_alias"
    assert [row["action"] for row in log].index("create_mailbox") < [
        row["action"] for row in log
    ].index("create_domain")


def test_formula_cells_are_defused(client_a, domain_a):
    make_mailbox(domain_a, "user", name="=HYPERLINK(1)")
    rows = _rows(client_a.get("/api/export/mailboxes.csv"))
    assert rows[0]["name"] == "'=HYPERLINK(1)"


def test_an_anonymous_export_goes_to_the_login(client, db):
    response = client.get("/api/export/mailboxes.csv")
    assert response.status_code == 302
