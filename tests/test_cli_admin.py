"""`manage.py admin`: each verb, its --json output, exit codes, passwords never as arguments."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from accounts.models import Admin
from domains.models import DomainAdmin
from mail import passwords
from pfa.models import Log
from tests.factories import make_admin, make_domain
from tests.support.commands import refused, run, run_json

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"
ROOT = Path(__file__).resolve().parent.parent


def test_admin_verbs(db, monkeypatch):
    make_domain("alpha.example")
    make_domain("beta.example")
    monkeypatch.setattr(sys, "stdin", io.StringIO(NEW_PASSWORD + "\n"))
    added = run_json(
        "admin", "add", "Boss@Admins.example", "--domain", "alpha.example",
        "--password-stdin", "--no-input",
    )  # fmt: skip
    assert added["username"] == "boss@admins.example"
    assert added["domains"] == ["alpha.example"] and added["superadmin"] is False
    assert "password" not in added
    boss = Admin.objects.get(pk="boss@admins.example")
    assert passwords.verify_password(NEW_PASSWORD, boss.password)
    updated = run_json(
        "admin", "update", "boss@admins.example", "--add-domain", "beta.example",
        "--remove-domain", "alpha.example", "--no-active", "--email-other", "boss@else.example",
    )  # fmt: skip
    assert updated["domains"] == ["beta.example"]
    assert updated["active"] is False and updated["email_other"] == "boss@else.example"
    monkeypatch.setenv("VIMBADMIN_ADMIN_PASSWORD", "Another-Fine-Secret-77")
    run("admin", "update", "boss@admins.example", "--password", "--no-input")
    boss.refresh_from_db()
    assert passwords.verify_password("Another-Fine-Secret-77", boss.password)
    promoted = run_json("admin", "update", "boss@admins.example", "--superadmin")
    assert promoted["superadmin"] is True
    assert DomainAdmin.objects.filter(username_id=boss.pk, domain_id="ALL").exists()
    view = run("admin", "view", "boss@admins.example")
    assert "username: boss@admins.example" in view
    assert [row["username"] for row in run_json("admin", "list", "--q", "boss")] == [
        "boss@admins.example"
    ]
    assert "boss@admins.example\tsuperadmin\tinactive" in run("admin", "list")
    run("admin", "delete", "boss@admins.example")
    assert not Admin.objects.filter(pk="boss@admins.example").exists()
    assert Log.objects.filter(action="create_admin", username__startswith="cli").exists()


def test_admin_exit_codes_and_generated_password(db):
    make_admin("one@admins.example")
    assert refused("admin", "view", "nobody@admins.example").returncode == 3
    assert refused("admin", "add", "one@admins.example", "--generate-password").returncode == 1
    assert refused("admin", "add", "x@admins.example", "--domain", "no.example").returncode == 3
    error = refused("admin", "add", "x@admins.example", "--no-input")
    assert "No password" in str(error)
    assert not Admin.objects.filter(pk="x@admins.example").exists()
    added = run_json("admin", "add", "gen@admins.example", "--generate-password")
    assert passwords.verify_password(
        added["password"], Admin.objects.get(pk=added["username"]).password
    )
    error = refused("admin", "update", "gen@admins.example", "--remove-domain", "no.example")
    assert error.returncode == 3


def test_the_last_super_admin_is_kept(db):
    make_admin("root@admins.example", superadmin=True)
    error = refused("admin", "delete", "root@admins.example")
    assert error.returncode in (1, 4)
    assert Admin.objects.filter(pk="root@admins.example").exists()


def test_an_admin_password_is_never_taken_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "admin", "update", "a@b.example", "--password", "secret"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unrecognized arguments: secret" in result.stderr
