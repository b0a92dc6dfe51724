"""One quota unit (Postfix Admin's MB) typed, stored, shown and checked alike, within the columns.

The overflow cases are the audit's (L2): each must be a field error that writes nothing, on
every engine, never a 500.
"""

from __future__ import annotations

import html
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection  # noqa: F401 - read by the skipif condition
from django.urls import reverse

from domains.models import DomainCounters, DomainSettings
from domains.services import domain_update
from mail.quota import MAX_QUOTA_BYTES, format_bytes, parse_quota
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import PASSWORD, make_mailbox

pytestmark = pytest.mark.django_db

MB = 1024000  # Postfix Admin's default quota multiplier


@pytest.fixture(autouse=True)
def _postfix_admin_multiplier(settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = MB


def page(response) -> str:
    return html.unescape(response.content.decode())


def create(client, local: str, quota: str, **extra: str):
    data = {
        "domain": "alpha.example",
        "local_part": local,
        "name": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "quota": quota,
        **extra,
    }
    return client.post(reverse("mailboxes:mailbox-create"), data)


def edit(client, mailbox: Mailbox, quota: str, **extra: str):
    url = reverse("mailboxes:mailbox-edit", args=[mailbox.username])
    return client.post(url, {"name": "", "quota": quota, "email_other": "", **extra})


def set_limits(domain, *, maxquota: int = 0, quota: int = 0, default: int = 10) -> None:
    domain_update(
        actor=None,
        domain=domain,
        description="",
        aliases=0,
        mailboxes=0,
        maxquota=maxquota,
        quota=quota,
        default_mailbox_quota=default,
        transport="virtual",
        backupmx=False,
        active=True,
    )


# One unit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("100", 100 * MB),
        ("100M", 100 * MB),
        ("100 MB", 100 * MB),
        ("100mb", 100 * MB),
        ("0.5", 50 * MB // 100),
        ("2G", 2 * 1024 * MB),
        ("1.5 GB", 1536 * MB),
        ("1T", 1024 * 1024 * MB),
        ("512K", 512 * MB // 1024),
        ("7B", 7),
        ("0", 0),
        ("0G", 0),
    ],
)
def test_one_unit_for_bare_numbers_and_suffixes(client_a, domain_a, typed, stored):
    assert create(client_a, "box", typed).status_code == 302
    assert Mailbox.objects.get(username="box@alpha.example").quota == stored


@pytest.mark.parametrize("typed", ["100 MiB", "2GiB", "1e3", "-1", "5 PB", "0.0000001"])
def test_other_units_and_nonsense_are_refused(client_a, domain_a, typed):
    response = create(client_a, "box", typed)
    assert response.status_code == 200
    assert response.context["form"].errors["quota"]
    assert not Mailbox.objects.filter(username="box@alpha.example").exists()


def test_display_limits_and_messages_speak_the_same_mb(super_client, client_a, domain_a):
    set_limits(domain_a, maxquota=100, quota=250)
    box = make_mailbox(domain_a, "box", quota_bytes=100 * MB)
    # What was typed as 100 (MB) reads 100 MB on the pages, where the domain's limit of 100 MB
    # is the same amount.
    detail = page(client_a.get(reverse("mailboxes:mailbox-detail", args=[box.username])))
    assert "100 MB" in detail
    assert "unlimited" not in detail
    assert "100 MB" in page(client_a.get(reverse("mailboxes:mailbox-list")))
    domain_page = page(super_client.get(reverse("domains:domain-detail", args=[domain_a.pk])))
    assert "100 MB / 250 MB" in domain_page
    assert "10 MB" in domain_page  # the default quota for new mailboxes
    response = create(client_a, "big", "101")
    assert response.context["form"].errors["quota"] == [
        "The quota is too high: the most is 100 MB per mailbox."
    ]
    assert create(client_a, "fits", "100M").status_code == 302
    response = create(client_a, "over", "60")
    assert response.context["form"].errors["quota"] == [
        "The domain's total quota of 250 MB would be exceeded (50 MB left)."
    ]


def test_the_multiplier_decides_what_mb_is(client_a, domain_a, settings):
    settings.VIMBADMIN_QUOTA_MULTIPLIER = 1024 * 1024
    assert create(client_a, "box", "1G").status_code == 302
    box = Mailbox.objects.get(username="box@alpha.example")
    assert box.quota == 1024**3
    assert format_bytes(box.quota) == "1 GB"
    assert parse_quota("1024") == parse_quota("1 GB") == 1024**3
    form = page(client_a.get(reverse("mailboxes:mailbox-edit", args=[box.username])))
    assert "In MB of 1,048,576 bytes" in form


def test_unlimited_is_offered_only_where_it_is_allowed(super_client, client_a, domain_a):
    box = make_mailbox(domain_a, "box", quota_bytes=10 * MB)
    url = reverse("mailboxes:mailbox-edit", args=[box.username])
    assert "0 means unlimited." in page(client_a.get(url))
    assert edit(client_a, box, "0").status_code == 302
    set_limits(domain_a, maxquota=100)
    text = page(client_a.get(url))
    assert "0 means unlimited." not in text
    assert "0 (unlimited) is not allowed" in text
    response = edit(client_a, box, "5")
    assert response.status_code == 302
    assert (
        "Unlimited is not allowed here"
        in edit(client_a, box, "0").context["form"].errors["quota"][0]
    )
    # The domain form refuses a default of 0 (unlimited) that every create would then refuse.
    data = {
        "description": "",
        "mailboxes": "0",
        "aliases": "0",
        "maxquota": "0",
        "quota": "500",
        "default_mailbox_quota": "0",
        "transport": "virtual",
        "active": "on",
    }
    response = super_client.post(reverse("domains:domain-edit", args=[domain_a.pk]), data)
    assert response.status_code == 200
    assert (
        "Unlimited (0) is not allowed"
        in response.context["form"].errors["default_mailbox_quota"][0]
    )
    response = super_client.post(
        reverse("domains:domain-edit", args=[domain_a.pk]),
        {**data, "default_mailbox_quota": "600"},
    )
    assert "cannot exceed the domain's total quota (500 MB)" in page(response)
    response = super_client.post(
        reverse("domains:domain-edit", args=[domain_a.pk]), {**data, "quota": "0"}
    )
    assert response.status_code == 302


# Bounded by the columns ---------------------------------------------------------------------

TOO_LARGE = ["99999999999T", "9223372036854775808B", "9" * 29, "9223372036854775808"]


@pytest.mark.parametrize("typed", TOO_LARGE)
@pytest.mark.parametrize("who", ["client_a", "super_client"])
def test_quotas_past_a_bigint_are_field_errors(request, domain_a, typed, who):
    client = request.getfixturevalue(who)
    box = make_mailbox(domain_a, "box", quota_bytes=10 * MB)
    logs = Log.objects.count()
    for response in (
        create(client, "new", typed, override_limits="on"),
        edit(client, box, typed, override_limits="on"),
    ):
        assert response.status_code == 200
        assert "The quota is too large: at most" in response.context["form"].errors["quota"][0]
    assert not Mailbox.objects.filter(username="new@alpha.example").exists()
    assert Mailbox.objects.get(pk=box.pk).quota == 10 * MB
    assert Log.objects.count() == logs


def test_the_domains_summed_quotas_stay_within_a_bigint(super_client, client_a, domain_a):
    # An unlimited domain: only the columns bound the quotas.
    assert create(client_a, "huge", "9000000000000000000B").status_code == 302
    response = create(client_a, "more", "1000000000000000000B", override_limits="on")
    assert response.status_code == 200
    assert "The domain's quotas together cannot pass" in response.context["form"].errors["quota"][0]
    response = create(super_client, "more", "1000000000000000000B", override_limits="on")
    assert "cannot pass" in response.context["form"].errors["quota"][0]
    assert not Mailbox.objects.filter(username="more@alpha.example").exists()
    assert DomainCounters.objects.get(domain_id="alpha.example").quota_allocated == 9 * 10**18
    # The largest single quota fits where nothing else is allocated.
    huge = Mailbox.objects.get(username="huge@alpha.example")
    assert edit(client_a, huge, f"{MAX_QUOTA_BYTES}B").status_code == 302
    assert Mailbox.objects.get(pk=huge.pk).quota == MAX_QUOTA_BYTES
    # And every page that sums or shows it still answers.
    for url in (
        reverse("domains:domain-list"),
        reverse("domains:domain-detail", args=["alpha.example"]),
        reverse("mailboxes:mailbox-list"),
        reverse("mailboxes:mailbox-detail", args=[huge.username]),
        reverse("mailboxes:mailbox-edit", args=[huge.username]),
    ):
        assert super_client.get(url).status_code == 200, url


def test_default_quota_past_the_bound_is_refused_and_an_adopted_one_is_a_field_error(
    super_client, client_a, domain_a
):
    data = {
        "description": "",
        "mailboxes": "0",
        "aliases": "0",
        "maxquota": "0",
        "quota": "0",
        "default_mailbox_quota": "9007199254740992",
        "transport": "virtual",
        "active": "on",
    }
    url = reverse("domains:domain-edit", args=[domain_a.pk])
    response = super_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["default_mailbox_quota"]
    for field in ("maxquota", "quota"):
        response = super_client.post(url, {**data, "default_mailbox_quota": "1", field: "9" * 18})
        assert response.context["form"].errors[field]
    with pytest.raises(ValidationError):
        set_limits(domain_a, default=9007199254740992)
    assert (
        DomainSettings.objects.get(domain_id=domain_a.pk).default_mailbox_quota != 9007199254740992
    )
    # A default written by another tool (or an older version) is refused at create time.
    DomainSettings.objects.filter(domain_id=domain_a.pk).update(
        default_mailbox_quota=9007199254740992
    )
    response = create(client_a, "empty", "")
    assert response.status_code == 200
    assert "The quota is too large" in page(response)
    assert not Mailbox.objects.filter(username="empty@alpha.example").exists()


@pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="SQLite's SUM() stops at an integer overflow; no other tool shares a SQLite database "
    "(a SQLite Postfix Admin database cannot be adopted)",
)
def test_quotas_other_tools_wrote_past_a_bigint_read_as_a_full_domain(super_client, domain_a):
    one = make_mailbox(domain_a, "one")
    two = make_mailbox(domain_a, "two")
    # As another tool might: two quotas whose sum passes the BIGINT of the domain counters' total.
    Mailbox.objects.filter(pk__in=[one.pk, two.pk]).update(quota=2**62 + 2**61)
    call_command("domain_counters", stdout=io.StringIO())
    assert DomainCounters.objects.get(domain_id=domain_a.pk).quota_allocated == MAX_QUOTA_BYTES
    assert super_client.get(reverse("domains:domain-list")).status_code == 200
    assert super_client.get(reverse("domains:domain-detail", args=[domain_a.pk])).status_code == 200
    response = create(super_client, "three", "1B", override_limits="on")
    assert "cannot pass" in response.context["form"].errors["quota"][0]
