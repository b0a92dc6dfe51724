"""Role fixtures: a super admin, two domains each with its own domain admin, logged-in clients.

Also the one clean-up of Postfix Admin's tables for tests that commit (`pfa_cleanup`) and the
objects the URL walks put in every URL (`world`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import Admin
from domains.models import Domain, DomainAdmin
from domains.services import alias_domain_create
from pfa.models import Log
from pfa.schema import forget_columns
from tests.factories import PASSWORD, make_admin, make_alias, make_domain, make_mailbox
from tests.support.pfa_tables import empty_pfa_tables


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Most tests create many passwords; SHA512-CRYPT keeps them fast. The hashing tests and the
    # mail-stack tests exercise the default ARGON2ID and every other scheme explicitly.
    settings.VIMBADMIN_PASSWORD_SCHEME = "SHA512-CRYPT"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Links in mails come from the configured base URL, never from the request's Host header.
    settings.VIMBADMIN_BASE_URL = "http://testserver"
    forget_columns()


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch) -> Iterator[None]:
    """Django's cache starts empty in every test, and the cached two-factor policy version does not
    expire during one: another test's rolled-back policy is never seen, and a slow machine cannot
    add a query to a count halfway through a test. A policy save clears the entry itself."""
    monkeypatch.setattr("twofactor.selectors.POLICY_VERSION_SECONDS", None)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def superadmin(db) -> Admin:
    return make_admin("root@admins.example", superadmin=True)


@pytest.fixture
def domain_a(db) -> Domain:
    return make_domain("alpha.example")


@pytest.fixture
def domain_b(db) -> Domain:
    return make_domain("beta.example")


@pytest.fixture
def admin_a(domain_a) -> Admin:
    return make_admin("admin@alpha.example", domains=[domain_a])


@pytest.fixture
def admin_b(domain_b) -> Admin:
    return make_admin("admin@beta.example", domains=[domain_b])


def _login(admin: Admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def super_client(superadmin) -> Client:
    return _login(superadmin)


@pytest.fixture
def client_a(admin_a) -> Client:
    return _login(admin_a)


@pytest.fixture
def client_b(admin_b) -> Client:
    return _login(admin_b)


@pytest.fixture
def pfa_cleanup(transactional_db) -> Iterator[None]:
    """Committed rows in Postfix Admin's tables, emptied before and after the test."""
    empty_pfa_tables()
    yield
    empty_pfa_tables()


@pytest.fixture
def world(superadmin, domain_a, domain_b, admin_a, admin_b) -> dict[str, list[str]]:
    """Objects of alpha.example, and the values to put in URLs for each parameter name."""
    mailbox = make_mailbox(domain_a, "user")
    alias = make_alias(domain_a, "info", ["user@alpha.example"])
    catchall = make_alias(domain_a, "", ["user@alpha.example"])
    alias_of_alpha = make_domain("alpha-alias.example")
    alias_domain_create(actor=None, alias_domain=alias_of_alpha, target_domain=domain_a)
    # beta.example's own objects exist too, so a list page is not trivially empty.
    make_mailbox(domain_b, "user")
    make_alias(domain_b, "info", ["user@beta.example"])
    link = DomainAdmin.objects.get(username_id=admin_a.pk, domain_id=domain_a.pk)
    log_ids = list(
        Log.objects.filter(domain="alpha.example").values_list("id", flat=True).order_by("id")[:1]
    )
    ids = [str(link.id), *map(str, log_ids)]
    return {
        "domain": ["alpha.example", "alpha-alias.example"],
        "username": [mailbox.pk, admin_a.pk],
        "address": [alias.pk, catchall.pk],
        "alias_domain": ["alpha-alias.example"],
        "pk": ids,
        "id": ids,
    }
