"""TOTP exception addresses and networks, as Dovecot's password query reads them.

The query is the one `mailconfig dovecot --second-factor` writes, run on this test run's
PostgreSQL or MariaDB with Dovecot's variables filled in as Dovecot fills them (%u the user,
%r the client address): a mailbox with a TOTP secret gets its row (its main password counts)
only when an exception for it, its domain or everyone covers the client address. The mail-stack
test (tests/integration/test_second_factor_mailstack.py) runs the same query in a real Dovecot.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection

from mailboxes.models import Mailbox
from mailserver.configs import Options, database_from_settings, dovecot_files
from pfa.models import TotpExceptionAddress
from tests.factories import make_domain, make_mailbox

pytestmark = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="Dovecot's query is PostgreSQL's or MariaDB's; Dovecot cannot read SQLite.",
)

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def password_query() -> str:
    database = database_from_settings(settings.DATABASES["default"])
    text = dovecot_files(Options(database=database, config_dir="/etc/dovecot", second_factor=True))[
        "dovecot-sql.conf.ext"
    ]
    match = re.search(r"^password_query = (.*?)(?<!\\)$", text, re.S | re.M)
    assert match
    return " ".join(match.group(1).replace("\\\n", " ").split())


def main_password_counts(mailbox: Mailbox, client: str) -> bool:
    """Run the query as Dovecot does for a login of the mailbox from `client`."""
    sql = password_query().replace("%u", mailbox.pk).replace("%r", client)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone() is not None


@pytest.fixture
def mailbox(db) -> Mailbox:
    mailbox = make_mailbox(make_domain("alpha.example"), "alice")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mailbox SET totp_secret = %s WHERE username = %s", [SECRET, mailbox.pk]
        )
    return mailbox


def except_from(ip: str, username: str | None = "alice@alpha.example") -> None:
    # Written directly, as Postfix Admin or a script would: no check of the value.
    TotpExceptionAddress.objects.create(ip=ip, username=username, description="test")


def test_without_a_secret_the_main_password_counts_from_anywhere(db) -> None:
    plain = make_mailbox(make_domain("beta.example"), "bob")
    assert main_password_counts(plain, "203.0.113.9")


def test_with_a_secret_and_no_exception_it_never_counts(mailbox) -> None:
    assert not main_password_counts(mailbox, "127.0.0.1")


@pytest.mark.parametrize(
    ("exception", "client", "counts"),
    [
        # Single addresses, written as Postfix Admin writes them; matched by value.
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "127.0.0.2", False),
        ("2001:db8::1", "2001:db8::1", True),
        ("2001:DB8:0:0::1", "2001:db8::1", True),
        ("2001:db8::1", "2001:db8::2", False),
        # Networks, on whole and partial hex digits of the address.
        ("127.0.0.0/8", "127.0.0.1", True),
        ("127.0.0.0/8", "127.255.3.4", True),
        ("127.0.0.0/8", "10.0.0.1", False),
        ("192.0.2.128/25", "192.0.2.130", True),
        ("192.0.2.128/25", "192.0.2.127", False),
        ("198.51.100.4/30", "198.51.100.7", True),
        ("198.51.100.4/30", "198.51.100.8", False),
        ("198.51.100.7/32", "198.51.100.7", True),
        ("198.51.100.7/32", "198.51.100.6", False),
        ("127.0.0.5/8", "127.9.9.9", True),  # host bits in the row: its network counts
        ("2001:db8::/32", "2001:db8:ffff::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("2001:db8:abcd:8000::/49", "2001:db8:abcd:8001::1", True),
        ("2001:db8:abcd:8000::/49", "2001:db8:abcd:7fff::1", False),
        ("2001:db8::1/128", "2001:db8::1", True),
        # One family never matches the other.
        ("127.0.0.0/8", "::1", False),
        ("::/0", "127.0.0.1", False),
        # Anything that is no address or network matches nothing.
        ("not-an-address", "127.0.0.1", False),
        ("127.0.0.1/abc", "127.0.0.1", False),
        ("127.0.0.1/99", "127.0.0.1", False),
        ("127.0.0.1/", "127.0.0.1", False),
        ("127.0.0.1/-8", "127.0.0.1", False),
        ("", "127.0.0.1", False),
        # No client address known (Dovecot's %r empty): nothing matches.
        ("127.0.0.0/8", "", False),
    ],
)
def test_exception_addresses_and_networks(mailbox, exception, client, counts) -> None:
    except_from(exception)
    assert main_password_counts(mailbox, client) is counts


def test_a_broken_row_does_not_hide_a_good_one(mailbox) -> None:
    except_from("999.1.1.1", username=None)
    except_from("127.0.0.1/xyz", username="alpha.example")
    except_from("127.0.0.0/8")
    assert main_password_counts(mailbox, "127.0.0.1")
    assert not main_password_counts(mailbox, "10.0.0.1")


@pytest.mark.parametrize("whose", ["alpha.example", None, "bob@alpha.example", "beta.example"])
def test_whose_exception_counts(mailbox, whose) -> None:
    except_from("127.0.0.0/8", username=whose)
    assert main_password_counts(mailbox, "127.0.0.1") is (whose in ("alpha.example", None))
