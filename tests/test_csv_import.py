"""CSV import: upload, the dry run's preview, apply (all or nothing, or the valid rows), CLI."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from aliases.models import Alias
from domains.models import Domain
from mail.passwords import verify_password
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox

MAILBOXES = reverse("csvimport:import-mailboxes")
ALIASES = reverse("csvimport:import-aliases")
DOMAINS = reverse("csvimport:import-domains")


def upload(client, url, data: bytes, name: str = "file.csv"):
    return client.post(url, {"file": SimpleUploadedFile(name, data, "text/csv")})


def payload_of(response) -> str:
    found = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert found, "the preview has no apply form"
    return found.group(1)


def apply(client, url, preview, mode: str = "all", **extra):
    return client.post(url, {"step": "apply", "payload": payload_of(preview), "mode": mode} | extra)


def summary(response) -> str:
    found = re.search(r'id="import-summary">([^<]+)<', response.content.decode())
    assert found, "the page has no summary"
    return found.group(1)


def exported(client, name: str) -> bytes:
    return b"".join(client.get(reverse(f"api:export-{name}")).streaming_content)


@pytest.mark.django_db
def test_export_then_import_dry_run_is_all_unchanged(super_client, domain_a, domain_b):
    make_mailbox(domain_a, "jane", name="=Jane, Doe")
    make_mailbox(domain_b, "bob")
    make_alias(domain_a, "info", ["jane@alpha.example", "x@elsewhere.example"])
    make_alias(domain_b, "")
    for name, url, count in (
        ("mailboxes", MAILBOXES, 2),
        ("aliases", ALIASES, 2),
        ("domains", DOMAINS, 2),
    ):
        preview = upload(super_client, url, exported(super_client, name))
        assert preview.status_code == 200, preview.content.decode()[:2000]
        assert summary(preview) == (
            f"0 to create, 0 to update, {count} unchanged, 0 with errors."
        ), name


@pytest.mark.django_db
def test_create_update_preview_then_apply(client_a, domain_a):
    make_mailbox(domain_a, "jane", name="Jane")
    data = (
        b"username,name,quota_bytes,active,password\n"
        b"jane@alpha.example,Jane Doe,,,\n"
        b"new@alpha.example,New,,1,Given-Secret-Phrase-91\n"
        b"gen@alpha.example,Generated,,,\n"
    )
    preview = upload(client_a, MAILBOXES, data)
    assert summary(preview) == "2 to create, 1 to update, 0 unchanged, 0 with errors."
    assert Mailbox.objects.count() == 1  # the dry run writes nothing
    done = apply(client_a, MAILBOXES, preview)
    assert done["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(done.content.decode())))
    assert rows[0] == ["username", "password"]
    assert [r[0] for r in rows[1:]] == ["gen@alpha.example"]
    gen = Mailbox.objects.get(pk="gen@alpha.example")
    assert verify_password(rows[1][1], gen.password)
    assert verify_password(
        "Given-Secret-Phrase-91", Mailbox.objects.get(pk="new@alpha.example").password
    )
    assert Mailbox.objects.get(pk="jane@alpha.example").name == "Jane Doe"
    assert Log.objects.filter(action="create_mailbox").count() >= 2
    assert Log.objects.filter(
        action="edit_mailbox", data__startswith="jane@alpha.example: name "
    ).exists()


@pytest.mark.django_db
def test_errors_write_nothing_all_or_nothing_and_valid_rows_on_request(client_a, domain_a):
    data = (
        "username;name\n"
        "one@alpha.example;One\n"
        "bad address@alpha.example;Bad\n"
        "bob@beta.example;Other domain\n"
        "one@alpha.example;Twice\n"
        "two@alpha.example;Two\n"
    ).encode("utf-8-sig")
    preview = upload(client_a, MAILBOXES, data)
    assert summary(preview) == "2 to create, 0 to update, 0 unchanged, 3 with errors."
    page = preview.content.decode()
    assert "No such domain: beta.example." in page
    assert "Also on row 2." in page
    refused = apply(client_a, MAILBOXES, preview)
    assert refused.status_code == 200
    assert "Nothing was written: row 3" in refused.content.decode()
    assert Mailbox.objects.count() == 0
    done = apply(client_a, MAILBOXES, preview, mode="valid")
    assert done.status_code == 200  # the generated passwords
    assert set(Mailbox.objects.values_list("pk", flat=True)) == {
        "one@alpha.example",
        "two@alpha.example",
    }
    assert not Mailbox.objects.filter(domain_id="beta.example").exists()


@pytest.mark.django_db
def test_limits_are_checked_for_the_whole_file(client_a, domain_a):
    Domain.objects.filter(pk=domain_a.pk).update(mailboxes=3)
    make_mailbox(domain_a, "first")
    data = b"username\na@alpha.example\nb@alpha.example\nc@alpha.example\n"
    preview = upload(client_a, MAILBOXES, data)
    assert summary(preview) == "0 to create, 0 to update, 0 unchanged, 3 with errors."
    assert "may have 3 mailboxes: this file adds 3 with 2 free" in preview.content.decode()
    assert 'name="payload"' not in preview.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "This is not a CSV file"),
        ("username\nj\u00e9r\u00f4me@alpha.example\n".encode("latin-1"), "not in a known encoding"),
        (b"name,quota_bytes\nJane,0\n", "Required columns are missing: username"),
        (b"", "file is empty."),
        (b'username\n"unclosed@alpha.example\n', "not a readable CSV file"),
    ],
)
def test_refused_files(client_a, domain_a, data, message):
    answer = upload(client_a, MAILBOXES, data)
    assert answer.status_code == 200
    assert message in answer.content.decode()


@pytest.mark.django_db
def test_too_large_is_refused(client_a, domain_a, settings):
    settings.VIMBADMIN_IMPORT_MAX_BYTES = 100
    answer = upload(client_a, MAILBOXES, b"username\n" + b"x@alpha.example\n" * 20)
    assert answer.status_code == 200
    assert "The file is too large: at most 100 bytes." in answer.content.decode()


@pytest.mark.django_db
def test_aliases_import_and_domain_import_is_for_super_admins(client_a, domain_a, super_client):
    make_alias(domain_a, "info", ["a@elsewhere.example"])
    data = (
        b"address,targets,active\n"
        b"info@alpha.example,b@elsewhere.example,\n"
        b'sales@alpha.example,"c@x.example,d@x.example",0\n'
    )
    preview = upload(client_a, ALIASES, data)
    assert summary(preview) == "1 to create, 1 to update, 0 unchanged, 0 with errors."
    assert apply(client_a, ALIASES, preview).status_code == 302
    assert Alias.objects.get(pk="info@alpha.example").goto == "b@elsewhere.example"
    sales = Alias.objects.get(pk="sales@alpha.example")
    assert sales.targets == ["c@x.example", "d@x.example"] and not sales.active
    assert client_a.get(DOMAINS).status_code == 404
    assert upload(client_a, DOMAINS, b"domain\nnew.example\n").status_code == 404
    preview = upload(super_client, DOMAINS, b"domain,mailboxes,active\nnew.example,5,1\n")
    assert apply(super_client, DOMAINS, preview).status_code == 302
    assert Domain.objects.get(pk="new.example").mailboxes == 5
    preview = upload(super_client, DOMAINS, b"domain,transport,description\nplain.example,,Plain\n")
    assert apply(super_client, DOMAINS, preview).status_code == 302
    assert Domain.objects.get(pk="plain.example").transport == domain_a.transport


@pytest.mark.django_db
def test_cli_dry_run_and_apply(domain_a, tmp_path):
    make_domain("gamma.example")
    source = tmp_path / "in.csv"
    source.write_text("username,name\njane@gamma.example,Jane\nbad@nowhere.example,X\n")
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_csv", "mailboxes", str(source), "--json", stdout=out)
    assert refused.value.returncode == 1
    report = json.loads(out.getvalue())
    assert report["summary"] == {"create": 1, "update": 0, "unchanged": 0, "error": 1}
    assert report["rows"][1]["row"] == 3
    assert not Mailbox.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_csv", "mailboxes", str(source), "--apply", stdout=io.StringIO())
    assert not Mailbox.objects.exists()
    passwords = tmp_path / "passwords.csv"
    out = io.StringIO()
    call_command(
        "import_csv",
        "mailboxes",
        str(source),
        "--apply",
        "--only-valid",
        "--passwords-file",
        str(passwords),
        stdout=out,
    )
    assert "created 1, updated 0" in out.getvalue()
    rows = list(csv.reader(passwords.open()))
    assert rows[1][0] == "jane@gamma.example"
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"
    assert verify_password(rows[1][1], Mailbox.objects.get(pk="jane@gamma.example").password)
