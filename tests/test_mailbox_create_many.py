"""mailbox_create_many(): the rows, counters and log rows of mailbox_create(), for a batch,
with the limits checked for the batch as a whole and nothing written when one is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Admin
from aliases.models import Alias
from core.context import acting_through
from csvimport.plan import plan_import
from csvimport.reader import read_csv
from csvimport.services import ImportFailed, csv_import_apply
from domains.counters import ensure
from domains.services import alias_domain_create
from mail.passwords import verify_password
from mailboxes.models import Mailbox, PasswordChange, password_digest
from mailboxes.services import MailboxRefused, NewMailbox, mailbox_create, mailbox_create_many
from pfa.models import Log
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _state(domain) -> tuple:
    counters = ensure([domain.pk])[domain.pk]
    return (
        Mailbox.objects.filter(domain_id=domain.pk).count(),
        Alias.objects.filter(domain_id=domain.pk).count(),
        Log.objects.filter(domain=domain.pk).count(),
        counters.mailboxes,
        counters.alias_rows,
        counters.quota_allocated,
    )


def _row(model, **lookup) -> dict:
    """Return a row's columns that do not name the domain or the time."""
    values = model.objects.filter(**lookup).values().get()
    skip = {"username", "address", "goto", "domain", "domain_id", "maildir", "password"}
    return {
        k: v
        for k, v in values.items()
        if k not in skip and k not in ("created", "modified", "password_expiry")
    }


def test_the_rows_are_those_of_mailbox_create(superadmin):
    one = make_domain("one.example", maxquota=100, quota=1000)
    many = make_domain("many.example", maxquota=100, quota=1000)
    mailbox_create(
        actor=superadmin,
        domain=one,
        local_part="Anna",
        password=PASSWORD,
        name="Anna A",
        quota_bytes=50 * MB,
        email_other="x@other.example",
        active=False,
    )
    created = mailbox_create_many(
        actor=superadmin,
        domain=many,
        entries=[
            NewMailbox(
                local_part="Anna",
                password=PASSWORD,
                name="Anna A",
                quota_bytes=50 * MB,
                email_other="x@other.example",
                active=False,
            ),
            NewMailbox(local_part="bert", password=PASSWORD),
        ],
    )
    assert [m.username for m in created] == ["anna@many.example", "bert@many.example"]
    assert _row(Mailbox, username="anna@many.example") == _row(Mailbox, username="anna@one.example")
    assert _row(Alias, address="anna@many.example") == _row(Alias, address="anna@one.example")
    anna = Mailbox.objects.get(username="anna@many.example")
    assert anna.maildir == "many.example/anna/"
    # The date of the password is kept as for a single create, with the hash it was set as.
    kept = PasswordChange.objects.get(username="anna@many.example")
    assert kept.hash_digest == password_digest(anna.password)
    assert PasswordChange.objects.filter(username="anna@one.example").exists()
    assert verify_password(PASSWORD, anna.password)
    assert Alias.objects.get(address="bert@many.example").goto == "bert@many.example"
    # Counters as one create each: two mailboxes, two own alias rows, their quotas.
    counters = ensure(["many.example"])["many.example"]
    assert (counters.mailboxes, counters.alias_rows) == (2, 2)
    default = Mailbox.objects.get(username="bert@many.example").quota
    assert counters.quota_allocated == 50 * MB + default
    # One log row per mailbox, written as mailbox_create writes its own.
    mine = Log.objects.filter(domain="one.example", action="create_mailbox").get()
    theirs = Log.objects.filter(domain="many.example", action="create_mailbox").order_by("data")
    assert [row.data for row in theirs] == ["anna@many.example", "bert@many.example"]
    assert {row.username for row in theirs} == {mine.username}


def test_the_limits_are_checked_for_the_batch_as_a_whole(superadmin):
    domain = make_domain("small.example", mailboxes=3)
    make_mailbox(domain, "first")
    before = _state(domain)
    entries = [NewMailbox(local_part=f"u{n}", password=PASSWORD) for n in range(3)]
    with pytest.raises(MailboxRefused) as refused:
        mailbox_create_many(actor=superadmin, domain=domain, entries=entries)
    assert refused.value.index is None
    assert "may have 3 mailboxes" in " ".join(refused.value.messages)
    assert _state(domain) == before
    mailbox_create_many(actor=superadmin, domain=domain, entries=entries[:2])
    assert _state(domain)[0] == 3


def test_the_total_quota_counts_every_mailbox_of_the_batch(superadmin):
    domain = make_domain("quota.example", quota=100)
    before = _state(domain)
    entries = [
        NewMailbox(local_part=f"u{n}", password=PASSWORD, quota_bytes=40 * MB) for n in range(3)
    ]
    with pytest.raises(MailboxRefused) as refused:
        mailbox_create_many(actor=superadmin, domain=domain, entries=entries)
    assert refused.value.index == 2
    assert "total quota" in " ".join(refused.value.messages)
    assert _state(domain) == before


@pytest.mark.parametrize(
    ("clash", "index", "message"),
    [
        ("mailbox", 1, "A mailbox with this address already exists."),
        ("alias", 1, "An alias with this address already exists."),
        ("batch", 2, "A mailbox with this address already exists."),
        ("password", 1, "password"),
        ("local part", 2, ""),
    ],
)
def test_a_refused_entry_is_named_and_nothing_is_written(superadmin, clash, index, message):
    domain = make_domain("clash.example")
    make_mailbox(domain, "taken")
    make_alias(domain, "info", ["taken@clash.example"])
    entries = [NewMailbox(local_part="new", password=PASSWORD)]
    if clash == "mailbox":
        entries.append(NewMailbox(local_part="Taken", password=PASSWORD))
    elif clash == "alias":
        entries.append(NewMailbox(local_part="info", password=PASSWORD))
    elif clash == "batch":
        entries += [NewMailbox(local_part="x", password=PASSWORD)] * 2
    elif clash == "password":
        entries.append(NewMailbox(local_part="weak", password="x"))
    else:
        entries += [NewMailbox(local_part="ok", password=PASSWORD)]
        entries.append(NewMailbox(local_part="no spaces", password=PASSWORD))
    before = _state(domain)
    with pytest.raises(MailboxRefused) as refused:
        mailbox_create_many(actor=superadmin, domain=domain, entries=entries)
    assert refused.value.index == index
    assert message in " ".join(refused.value.messages)
    assert _state(domain) == before
    assert not Mailbox.objects.filter(username="new@clash.example").exists()


def test_another_domain_is_out_of_a_domain_admins_reach(admin_a, domain_b):
    with pytest.raises(PermissionDenied):
        mailbox_create_many(
            actor=admin_a,
            domain=domain_b,
            entries=[NewMailbox(local_part="x", password=PASSWORD)],
        )
    assert not Mailbox.objects.filter(domain_id=domain_b.pk).exists()


def test_log_rows_name_the_token_like_a_single_create(admin_a, domain_a):
    token = acting_through.set("API token billing [abc]")
    try:
        mailbox_create_many(
            actor=admin_a, domain=domain_a, entries=[NewMailbox(local_part="x", password=PASSWORD)]
        )
        mailbox_create(actor=admin_a, domain=domain_a, local_part="y", password=PASSWORD)
    finally:
        acting_through.reset(token)
    rows = Log.objects.filter(action="create_mailbox", domain=domain_a.pk).order_by("data")
    assert [row.data for row in rows] == ["x@alpha.example", "y@alpha.example"]
    assert rows[0].username == rows[1].username
    assert "API token billing [abc]" in rows[0].username


def test_an_import_refused_while_applying_names_its_row_and_writes_nothing(superadmin):
    one = make_domain("one.example")
    two = make_domain("two.example")
    data = read_csv(
        b"username,password\n"
        + b"a@one.example,\nb@two.example,Fresh-Orbit-Lantern-42\nc@two.example,\n",
        kind="mailboxes",
    )
    plan = plan_import(superadmin, "mailboxes", data)
    assert plan.summary["create"] == 3
    # Between the dry run and the apply, someone else takes an address of the file.
    make_alias(two, "c", ["a@one.example"])
    before = (_state(one), _state(two))
    with pytest.raises(ImportFailed) as failed:
        csv_import_apply(actor=superadmin, plan=plan)
    assert failed.value.row.number == 4
    assert "An alias with this address already exists." in failed.value.reason
    assert (_state(one), _state(two)) == before


def test_an_import_creates_with_generated_passwords_and_one_log_row_each(superadmin):
    make_domain("one.example")
    data = read_csv(b"username,name\na@one.example,A\nb@one.example,B\n", kind="mailboxes")
    result = csv_import_apply(actor=superadmin, plan=plan_import(superadmin, "mailboxes", data))
    assert result.created == 2
    passwords = dict(result.passwords)
    assert set(passwords) == {"a@one.example", "b@one.example"}
    for username, password in passwords.items():
        assert verify_password(password, Mailbox.objects.get(username=username).password)
    logged = Log.objects.filter(action="create_mailbox", domain="one.example")
    assert sorted(logged.values_list("data", flat=True)) == ["a@one.example", "b@one.example"]


def test_a_domain_admin_may_not_take_another_admins_reset_address(admin_a, domain_a):
    other = make_admin("boss@admins.example")
    Admin.objects.filter(pk=other.pk).update(email_other="boss@alpha.example")
    entries = [NewMailbox(local_part="fine", password=PASSWORD)]
    entries.append(NewMailbox(local_part="Boss", password=PASSWORD))
    with pytest.raises(ValidationError) as single:
        mailbox_create(actor=admin_a, domain=domain_a, local_part="boss", password=PASSWORD)
    with pytest.raises(MailboxRefused) as refused:
        mailbox_create_many(actor=admin_a, domain=domain_a, entries=entries)
    assert refused.value.index == 1
    assert refused.value.messages == single.value.messages
    assert not Mailbox.objects.filter(domain_id=domain_a.pk).exists()
    # Through an alias domain the same address is taken too.
    alias_domain = make_domain("alias.example")
    alias_domain_create(actor=None, alias_domain=alias_domain, target_domain=domain_a)
    Admin.objects.filter(pk=other.pk).update(email_other="chief@alias.example")
    with pytest.raises(MailboxRefused):
        mailbox_create_many(
            actor=admin_a,
            domain=domain_a,
            entries=[NewMailbox(local_part="chief", password=PASSWORD)],
        )
    # A super admin may.
    mailbox_create_many(
        actor=make_admin(superadmin=True),
        domain=domain_a,
        entries=[NewMailbox(local_part="chief", password=PASSWORD)],
    )


def test_a_large_batch_finds_a_clash_by_reading_the_domain(superadmin):
    domain = make_domain("large.example")
    make_alias(domain, "u120", ["x@elsewhere.example"])
    entries = [NewMailbox(local_part=f"u{n}", password=PASSWORD) for n in range(150)]
    before = _state(domain)
    with pytest.raises(MailboxRefused) as refused:
        mailbox_create_many(actor=superadmin, domain=domain, entries=entries)
    assert refused.value.index == 120
    assert "An alias with this address already exists." in refused.value.messages
    assert _state(domain) == before
    del entries[120]
    created = mailbox_create_many(actor=superadmin, domain=domain, entries=entries)
    assert len(created) == 149 == Mailbox.objects.filter(domain_id=domain.pk).count()
