"""Concurrent API creates are held to a domain's limits exactly as the pages' (two connections)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection  # noqa: F401 - read by the needs_row_locks condition
from django.test import Client

from aliases.models import Alias
from api.services import api_token_create
from mailboxes.models import Mailbox
from tests.factories import make_admin, make_domain, make_mailbox
from tests.support.race import needs_row_locks, race

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_api_requests_cannot_both_take_the_last_mailbox_slot(pfa_cleanup, round_):
    cache.clear()
    domain = make_domain("race.example", mailboxes=2)
    admin = make_admin("admin@race.example", domains=[domain])
    make_mailbox(domain, "existing")
    _token, key = api_token_create(actor=None, admin=admin, name="race", expires=None)

    def create(local_part: str) -> int:
        response = Client().post(
            "/api/v1/mailboxes/",
            {"domain": "race.example", "local_part": local_part, "password": NEW_PASSWORD},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        return response.status_code

    outcomes = race([lambda: create("left"), lambda: create("right")])
    assert sorted(outcomes) == [201, 400]
    assert Mailbox.objects.filter(domain_id="race.example").count() == 2
    # The loser left nothing behind: no mailbox row, no own alias row.
    assert Alias.objects.filter(domain_id="race.example").count() == 2
