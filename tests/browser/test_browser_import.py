"""CSV import in a real browser: upload, read the preview, apply all or nothing."""

from __future__ import annotations

import pytest

from mailboxes.models import Mailbox
from tests.factories import PASSWORD, make_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_import_preview_and_apply(ui, admin_a, domain_a, tmp_path):
    make_mailbox(domain_a, "jane", name="Jane")
    source = tmp_path / "mailboxes.csv"
    source.write_bytes(
        "username;name;password\n"
        "jane@alpha.example;Jane;\n"
        "new@alpha.example;New;Given-Secret-Phrase-91\n"
        "bob@beta.example;Bob;Given-Secret-Phrase-92\n".encode("utf-8-sig")
    )
    ui.login(admin_a.username, PASSWORD)
    ui.goto("/mailboxes/")
    ui.follow(ui.page.get_by_role("link", name="Import CSV"))
    ui.check_page("import upload")
    ui.page.get_by_label("CSV file").set_input_files(str(source))
    ui.submit("Preview")
    summary = ui.page.locator("#import-summary")
    assert summary.inner_text() == "1 to create, 0 to update, 1 unchanged, 1 with errors."
    rows = ui.page.locator("#import-rows")
    assert rows.get_by_text("No such domain: beta.example.").is_visible()
    ui.check_page("import preview")
    ui.screenshot("import-preview")
    ui.submit("Apply")
    assert ui.page.get_by_text("Nothing was written: row 4").is_visible()
    assert not Mailbox.objects.filter(pk="new@alpha.example").exists()
    ui.page.get_by_label("Only the valid rows").check()
    ui.submit("Apply")
    assert ui.path() == "/mailboxes/"
    assert ui.page.get_by_text("Imported: 1 created, 0 updated.").is_visible()
    assert Mailbox.objects.filter(pk="new@alpha.example").exists()
