"""Role fixtures: a super admin, two domains each with its own domain admin, logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Admin
from domains.models import Domain
from pfa.schema import forget_columns
from tests.factories import PASSWORD, make_admin, make_domain


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # Most tests create many passwords; SHA512-CRYPT keeps them fast. The hashing tests and the
    # mail-stack tests exercise the default ARGON2ID and every other scheme explicitly.
    settings.VIMBADMIN_PASSWORD_SCHEME = "SHA512-CRYPT"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Links in mails come from the configured base URL, never from the request's Host header.
    settings.VIMBADMIN_BASE_URL = "http://testserver"
    forget_columns()


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
