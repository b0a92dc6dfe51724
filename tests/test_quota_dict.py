"""Dovecot's quota dict on PostgreSQL inserts a row per change; the triggers turn them into sums."""

import pytest
from django.db import connection

from pfa.models import Quota2

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the merge triggers exist on PostgreSQL only, as in Postfix Admin",
    ),
]


def test_quota2_inserts_add_up_per_mailbox():
    with connection.cursor() as cursor:
        for bytes_, messages in ((1000, 1), (500, 2), (-200, -1), (0, 0)):
            cursor.execute(
                "INSERT INTO quota2 (username, bytes, messages) VALUES (%s, %s, %s)",
                ["alice@example.org", bytes_, messages],
            )
        cursor.execute(
            "INSERT INTO quota2 (username, bytes, messages) VALUES (%s, %s, %s)",
            ["bob@example.org", 0, 0],
        )
    alice = Quota2.objects.get(username="alice@example.org")
    assert (alice.bytes, alice.messages) == (1300, 2)
    bob = Quota2.objects.get(username="bob@example.org")
    assert (bob.bytes, bob.messages) == (0, 0)


def test_quota_inserts_add_up_per_path():
    with connection.cursor() as cursor:
        for current in (10, 32):
            cursor.execute(
                "INSERT INTO quota (username, path, current) VALUES (%s, %s, %s)",
                ["alice@example.org", "quota/storage", current],
            )
        cursor.execute("SELECT current FROM quota WHERE username = %s", ["alice@example.org"])
        assert cursor.fetchall() == [(42,)]
