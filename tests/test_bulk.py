"""Bulk actions on the mailbox, alias and domain lists: select, confirm, apply, per role."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aliases.models import Alias
from domains.models import Domain
from mail.quota import mb_to_bytes
from mailboxes.models import Mailbox
from pfa.models import Log
from tests.factories import make_alias, make_domain, make_mailbox

MAILBOXES = reverse("bulk:bulk-mailboxes")
ALIASES = reverse("bulk:bulk-aliases")
DOMAINS = reverse("bulk:bulk-domains")


def post(client, url, **data):
    return client.post(url, data)


@pytest.mark.django_db
def test_selection_page_lists_only_own_rows(client_a, domain_a, domain_b):
    make_mailbox(domain_a, "jane")
    make_mailbox(domain_b, "bob")
    page = client_a.get(MAILBOXES).content.decode()
    assert "jane@alpha.example" in page
    assert "bob@beta.example" not in page
    assert "All 1 matching the filter" in page


@pytest.mark.django_db
def test_deactivate_confirm_then_apply(client_a, domain_a):
    jane = make_mailbox(domain_a, "jane")
    joe = make_mailbox(domain_a, "joe")
    keys = [jane.username, joe.username]
    confirm = post(client_a, MAILBOXES, action="deactivate", key=keys)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "jane@alpha.example" in text and "active → inactive" in text
    assert Mailbox.objects.filter(active=False).count() == 0  # the confirmation writes nothing
    done = post(client_a, MAILBOXES, action="deactivate", key=keys, step="apply")
    assert done.status_code == 302
    assert set(Mailbox.objects.filter(active=False).values_list("pk", flat=True)) == set(keys)
    assert not Alias.objects.filter(address__in=keys, active=True).exists()
    assert Log.objects.filter(action="edit_mailbox_state").count() == 2


@pytest.mark.django_db
def test_all_matching_the_filter(client_a, domain_a):
    for n in range(3):
        make_mailbox(domain_a, f"sales{n}")
    make_mailbox(domain_a, "other")
    url = MAILBOXES + "?q=sales"
    done = client_a.post(url, {"action": "deactivate", "all": "1", "step": "apply"})
    assert done.status_code == 302
    inactive = set(Mailbox.objects.filter(active=False).values_list("local_part", flat=True))
    assert inactive == {"sales0", "sales1", "sales2"}


@pytest.mark.django_db
def test_forged_key_of_another_domain_is_404_and_changes_nothing(client_a, domain_a, domain_b):
    jane = make_mailbox(domain_a, "jane")
    bob = make_mailbox(domain_b, "bob")
    for step in ("", "apply"):
        answer = post(
            client_a, MAILBOXES, action="deactivate", key=[jane.username, bob.username], step=step
        )
        assert answer.status_code == 404
    answer = post(client_a, ALIASES, action="delete", key=[bob.username], step="apply")
    assert answer.status_code == 404
    assert Mailbox.objects.filter(active=False).count() == 0
    assert Alias.objects.filter(address=bob.username).exists()


@pytest.mark.django_db
def test_purge_needs_typed_confirmation(client_a, domain_a):
    jane = make_mailbox(domain_a, "jane")
    data = {"action": "delete", "key": [jane.username], "step": "apply"}
    refused = client_a.post(MAILBOXES, data | {"confirm": "yes"})
    assert refused.status_code == 200
    assert "purge 1" in refused.content.decode()
    assert Mailbox.objects.filter(pk=jane.pk).exists()
    done = client_a.post(MAILBOXES, data | {"confirm": "purge 1"})
    assert done.status_code == 302
    assert not Mailbox.objects.filter(pk=jane.pk).exists()
    assert Log.objects.filter(action="delete_mailbox", data=jane.username).exists()


@pytest.mark.django_db
def test_quota_change_respects_the_domain_limit_all_or_nothing(client_a, domain_a):
    jane = make_mailbox(domain_a, "jane", quota_bytes=mb_to_bytes(10))
    joe = make_mailbox(domain_a, "joe", quota_bytes=mb_to_bytes(10))
    Domain.objects.filter(pk=domain_a.pk).update(quota=30)  # 30 MB for the whole domain
    data = {"action": "quota", "quota": "20", "key": [jane.username, joe.username]}
    refused = client_a.post(MAILBOXES, data | {"step": "apply"})
    assert refused.status_code == 200
    assert "Nothing was changed" in refused.content.decode()
    quotas = set(Mailbox.objects.values_list("quota", flat=True))
    assert quotas == {mb_to_bytes(10)}
    fits = client_a.post(MAILBOXES, data | {"quota": "15", "step": "apply"})
    assert fits.status_code == 302
    assert set(Mailbox.objects.values_list("quota", flat=True)) == {mb_to_bytes(15)}
    assert Log.objects.filter(action="edit_mailbox").count() == 2


@pytest.mark.django_db
def test_quota_action_needs_a_quota(client_a, domain_a):
    jane = make_mailbox(domain_a, "jane")
    answer = client_a.post(MAILBOXES, {"action": "quota", "key": [jane.username]})
    assert answer.status_code == 200
    assert "Give the new quota." in answer.content.decode()


@pytest.mark.django_db
def test_alias_bulk_delete_and_mailbox_alias_refused(client_a, domain_a):
    one = make_alias(domain_a, "one")
    two = make_alias(domain_a, "two")
    done = client_a.post(
        ALIASES, {"action": "delete", "key": [one.address, two.address], "step": "apply"}
    )
    assert done.status_code == 302
    assert not Alias.objects.filter(address__in=[one.address, two.address]).exists()
    assert Log.objects.filter(action="delete_alias").count() == 2
    jane = make_mailbox(domain_a, "jane")
    three = make_alias(domain_a, "three")
    refused = client_a.post(
        ALIASES + "?show_mailbox_aliases=1",
        {"action": "deactivate", "key": [jane.username, three.address], "step": "apply"},
    )
    assert refused.status_code == 200
    assert "Nothing was changed" in refused.content.decode()
    assert Alias.objects.get(address=three.address).active


@pytest.mark.django_db
def test_domain_bulk_is_for_super_admins(client_a, super_client, domain_a, domain_b):
    assert client_a.get(DOMAINS).status_code == 404
    assert post(client_a, DOMAINS, action="deactivate", key=[domain_a.domain]).status_code == 404
    extra = make_domain("gamma.example")
    make_mailbox(extra, "x")
    answer = super_client.post(
        DOMAINS,
        {"action": "deactivate", "key": [domain_a.domain, domain_b.domain], "step": "apply"},
    )
    assert answer.status_code == 302
    assert set(Domain.objects.filter(active=False).values_list("pk", flat=True)) == {
        "alpha.example",
        "beta.example",
    }
    confirm = super_client.post(DOMAINS, {"action": "delete", "key": [extra.domain]})
    assert "purged with all its mailboxes" in confirm.content.decode()
    done = super_client.post(
        DOMAINS,
        {"action": "delete", "key": [extra.domain], "step": "apply", "confirm": "purge 1"},
    )
    assert done.status_code == 302
    assert not Domain.objects.filter(pk=extra.domain).exists()
    assert not Mailbox.objects.filter(domain_id=extra.domain).exists()


@pytest.mark.django_db
def test_nothing_chosen_and_get_writes_nothing(client_a, domain_a):
    make_mailbox(domain_a, "jane")
    answer = client_a.post(MAILBOXES, {"action": "deactivate", "step": "apply"})
    assert answer.status_code == 302
    assert Mailbox.objects.filter(active=False).count() == 0


@pytest.mark.django_db
def test_list_pages_link_to_bulk(client_a, super_client):
    assert MAILBOXES in client_a.get(reverse("mailboxes:mailbox-list")).content.decode()
    assert ALIASES in client_a.get(reverse("aliases:alias-list")).content.decode()
    assert DOMAINS not in client_a.get(reverse("domains:domain-list")).content.decode()
    assert DOMAINS in super_client.get(reverse("domains:domain-list")).content.decode()


@pytest.mark.django_db
def test_more_than_the_bulk_limit_is_refused(client_a, domain_a, monkeypatch):
    monkeypatch.setattr("bulk.views.BULK_LIMIT", 2)
    for n in range(3):
        make_mailbox(domain_a, f"user{n}")
    answer = client_a.post(MAILBOXES, {"action": "deactivate", "all": "1", "step": "apply"})
    assert answer.status_code == 302
    page = client_a.get(answer["Location"]).content.decode()
    assert "At most 2 objects at once; narrow the filter." in page
    assert Mailbox.objects.filter(active=False).count() == 0


@pytest.mark.django_db
def test_bulk_pages_never_show_another_domain(client_b, domain_a, domain_b):
    make_mailbox(domain_a, "jane")
    make_alias(domain_a, "info")
    make_mailbox(domain_b, "bob")
    for url in (MAILBOXES, ALIASES):
        for query in (
            "",
            "?q=alpha",
            "?q=jane",
            "?show_mailbox_aliases=1",
        ):
            page = client_b.get(url + query)
            assert page.status_code == 200
            html = page.content.decode().replace("q=alpha", "")
            assert "alpha.example" not in html, f"{url}{query}"


# --- the boxes and the action bar of the list pages themselves --------------------------------


def _boxes(text: str) -> list[str]:
    """Return the keys of a list page's row boxes, in page order."""
    return re.findall(r'type="checkbox" name="key" value="([^"]+)" form="bulk-list-form"', text)


@pytest.mark.django_db
def test_list_pages_have_named_boxes_and_an_action_bar(client_a, super_client, domain_a):
    make_mailbox(domain_a, "jane")
    make_alias(domain_a, "info", ["jane@alpha.example"])
    mailboxes = client_a.get("/mailboxes/?q=jan").content.decode()
    assert _boxes(mailboxes) == ["jane@alpha.example"]
    assert 'aria-label="Select jane@alpha.example"' in mailboxes
    assert 'aria-label="Select all on this page"' in mailboxes
    # The bar posts to the bulk page with the list's own query string.
    assert f'<form method="post" action="{MAILBOXES}?q=jan" id="bulk-list-form"' in mailboxes
    assert 'value="quota"' in mailboxes
    aliases = client_a.get("/aliases/?show_mailbox_aliases=1").content.decode()
    # A mailbox's own alias row is changed as the mailbox: it has no box.
    assert _boxes(aliases) == ["info@alpha.example"]
    assert 'value="quota"' not in aliases
    # Domains are a super admin's to act on in bulk: a domain admin gets neither boxes nor bar.
    assert _boxes(client_a.get("/domains/").content.decode()) == []
    assert 'id="bulk-list-form"' not in client_a.get("/domains/").content.decode()
    assert "alpha.example" in _boxes(super_client.get("/domains/").content.decode())


@pytest.mark.django_db
def test_the_page_box_chooses_the_rows_of_the_page(client_a, domain_a):
    for name in ("anna", "bert", "carl"):
        make_mailbox(domain_a, name)
    page = client_a.get("/mailboxes/?per_page=2").content.decode()
    keys = re.findall(r'name="page_key" value="([^"]+)"', page)
    assert keys == ["anna@alpha.example", "bert@alpha.example"]
    # Without a script only the page's box is ticked; each row sent its key as page_key.
    confirm = client_a.post(
        MAILBOXES + "?per_page=2",
        {"action": "deactivate", "all_on_page": "1", "page_key": keys, "origin": "list"},
    )
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert 'name="key" value="anna@alpha.example"' in text
    assert 'name="key" value="bert@alpha.example"' in text
    assert "carl@alpha.example" not in text
    # Ticked rows without the page's box: only those.
    confirm = client_a.post(
        MAILBOXES,
        {"action": "deactivate", "key": ["bert@alpha.example"], "page_key": keys, "origin": "list"},
    )
    assert 'name="key" value="anna@alpha.example"' not in confirm.content.decode()
    assert Mailbox.objects.filter(active=False).count() == 0


@pytest.mark.django_db
def test_the_bar_with_nothing_ticked_goes_back_to_the_list(client_a, domain_a):
    make_mailbox(domain_a, "anna")
    answer = client_a.post(
        MAILBOXES + "?q=an", {"action": "deactivate", "origin": "list"}, follow=True
    )
    assert answer.redirect_chain[-1][0] == "/mailboxes/?q=an"
    assert "Choose at least one row." in answer.content.decode()


@pytest.mark.django_db
def test_a_forged_page_key_of_another_domain_is_404(client_a, domain_a, domain_b):
    make_mailbox(domain_a, "anna")
    bob = make_mailbox(domain_b, "bob")
    answer = client_a.post(
        MAILBOXES,
        {
            "action": "deactivate",
            "all_on_page": "1",
            "page_key": ["anna@alpha.example", bob.username],
            "step": "apply",
        },
    )
    assert answer.status_code == 404
    assert Mailbox.objects.filter(active=False).count() == 0
