"""The same code or recovery code sent twice at the same moment is accepted once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest
from django.db import connection

from tests.factories import make_admin
from tests.support.race import needs_row_locks, race
from twofactor import services
from twofactor.models import RecoveryCode

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

pytestmark = [needs_row_locks, pytest.mark.django_db(transaction=True)]


def rfc6238(secret: str, at: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start : start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@pytest.fixture
def admin(pfa_cleanup):
    admin = make_admin("racer@admins.example")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE admin SET totp_secret = %s WHERE username = %s", [SECRET, admin.pk])
    return admin


@pytest.mark.parametrize("round_", range(3))
def test_one_code_twice_at_once_is_accepted_once(admin, round_):
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    code = rfc6238(SECRET, time.time())
    outcomes = race(
        [lambda: services.totp_code_use(realm="admin", username=admin.pk, code=code)] * 2
    )
    assert sorted(outcomes, key=str) == [False, True]


def test_one_recovery_code_twice_at_once_is_accepted_once(admin):
    codes = services.recovery_codes_renew(actor=None, account=admin)
    outcomes = race(
        [lambda: services.recovery_code_use(realm="admin", username=admin.pk, code=codes[0])] * 2
    )
    assert sorted(outcomes, key=str) == [False, True]
    assert RecoveryCode.objects.filter(used__isnull=False).count() == 1
