"""`manage.py domain|mailbox|alias|aliasdomain`: each verb, its --json output and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from aliases.models import Alias
from domains.models import AliasDomain, Domain
from mail import passwords
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import make_domain, make_mailbox
from tests.support.commands import refused, run, run_json

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"
ROOT = Path(__file__).resolve().parent.parent


def test_domain_verbs(db):
    added = run_json("domain", "add", "Gamma.example", "--mailboxes", "2", "--description", "G")
    assert added["domain"] == "gamma.example" and added["mailboxes"] == 2
    # The RFC 2142 aliases came with it, as from the page.
    assert Alias.objects.filter(domain_id="gamma.example").exists()
    assert run_json("domain", "view", "gamma.example")["description"] == "G"
    updated = run_json("domain", "update", "gamma.example", "--no-active", "--quota", "500")
    assert updated["active"] is False and updated["quota"] == 500 and updated["mailboxes"] == 2
    assert [row["domain"] for row in run_json("domain", "list")] == ["gamma.example"]
    assert "gamma.example" in run("domain", "list", "--q", "gam")
    # A purge asks for --yes.
    assert refused("domain", "delete", "gamma.example").returncode == 1
    assert Domain.objects.filter(pk="gamma.example").exists()
    run("domain", "delete", "gamma.example", "--yes")
    assert not Domain.objects.filter(pk="gamma.example").exists()
    assert Log.objects.filter(action="delete_domain", username__startswith="cli").exists()


def test_exit_codes(db):
    make_domain("alpha.example")
    assert refused("domain", "view", "nowhere.example").returncode == 3
    assert refused("domain", "add", "alpha.example").returncode == 1
    assert refused("mailbox", "view", "nobody@alpha.example").returncode == 3


def test_mailbox_verbs_with_passwords_from_stdin_and_the_environment(db, monkeypatch):
    make_domain("alpha.example", mailboxes=1)
    monkeypatch.setattr(sys, "stdin", io.StringIO(NEW_PASSWORD + "\n"))
    added = run_json(
        "mailbox", "add", "jane@alpha.example", "--name", "Jane", "--password-stdin", "--no-input"
    )
    assert added["username"] == "jane@alpha.example" and "password" not in added
    box = Mailbox.objects.get(pk="jane@alpha.example")
    assert passwords.verify_password(NEW_PASSWORD, box.password)
    # The domain's limit applies as on the page.
    monkeypatch.setenv("VIMBADMIN_MAILBOX_PASSWORD", NEW_PASSWORD)
    error = refused("mailbox", "add", "john@alpha.example", "--no-input")
    assert error.returncode == 1 and "limit" in str(error)
    monkeypatch.setenv("VIMBADMIN_MAILBOX_PASSWORD", "Another-Fine-Secret-77")
    updated = run_json(
        "mailbox",
        "update",
        "jane@alpha.example",
        "--no-active",
        "--quota-bytes",
        "1048576",
        "--password",
        "--no-input",
    )
    assert updated["active"] is False and updated["quota_bytes"] == 1048576
    box.refresh_from_db()
    assert passwords.verify_password("Another-Fine-Secret-77", box.password)
    assert [
        row["username"] for row in run_json("mailbox", "list", "--domain", "alpha.example")
    ] == ["jane@alpha.example"]
    assert "jane@alpha.example" in run("mailbox", "list", "--q", "Jane")
    run("mailbox", "delete", "jane@alpha.example")
    assert not Mailbox.objects.exists()


def test_a_generated_password_is_printed_once(db):
    make_domain("alpha.example")
    added = run_json("mailbox", "add", "gen@alpha.example", "--generate-password")
    box = Mailbox.objects.get(pk="gen@alpha.example")
    assert passwords.verify_password(added["password"], box.password)


def test_without_a_password_source_and_no_input_nothing_is_created(db):
    make_domain("alpha.example")
    error = refused("mailbox", "add", "x@alpha.example", "--no-input")
    assert "No password" in str(error)
    assert not Mailbox.objects.exists()


def test_alias_and_alias_domain_verbs(db):
    alpha = make_domain("alpha.example")
    make_domain("alpha-alias.example")
    make_mailbox(alpha, "user")
    added = run_json("alias", "add", "info@alpha.example", "--target", "user@alpha.example")
    assert added["targets"] == ["user@alpha.example"]
    catchall = run_json("alias", "add", "@alpha.example", "--target", "user@alpha.example")
    assert catchall["address"] == "@alpha.example"
    updated = run_json(
        "alias",
        "update",
        "info@alpha.example",
        "--target",
        "a@elsewhere.example",
        "--target",
        "b@elsewhere.example",
        "--no-active",
    )
    assert updated["targets"] == ["a@elsewhere.example", "b@elsewhere.example"]
    assert updated["active"] is False
    listed = [row["address"] for row in run_json("alias", "list")]
    assert listed == ["@alpha.example", "info@alpha.example"]
    with_own = [row["address"] for row in run_json("alias", "list", "--show-mailbox-aliases")]
    assert "user@alpha.example" in with_own
    # A mailbox's own row is not deleted as an alias.
    assert refused("alias", "delete", "user@alpha.example").returncode == 4
    run("alias", "delete", "info@alpha.example")
    assert not Alias.objects.filter(pk="info@alpha.example").exists()

    row = run_json("aliasdomain", "add", "alpha-alias.example", "alpha.example")
    assert row["target_domain"] == "alpha.example"
    assert (
        run_json("aliasdomain", "update", "alpha-alias.example", "--no-active")["active"] is False
    )
    assert [r["alias_domain"] for r in run_json("aliasdomain", "list")] == ["alpha-alias.example"]
    run("aliasdomain", "delete", "alpha-alias.example")
    assert not AliasDomain.objects.exists()


def test_a_password_is_never_taken_from_the_command_line():
    # --password is a switch: a value after it is refused before anything runs (exit 2, usage).
    result = subprocess.run(
        [sys.executable, "manage.py", "mailbox", "update", "a@b.example", "--password", "secret"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unrecognized arguments: secret" in result.stderr
