"""Small helpers that make test data through the services, as the app itself would."""

from __future__ import annotations

from itertools import count

from django.test import Client
from django.urls import reverse

from accounts.models import Admin
from accounts.services import admin_assign_domain, admin_create
from aliases.models import Alias
from aliases.services import alias_create
from domains.models import Domain
from domains.services import domain_create
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_create

PASSWORD = "Correct-Horse-Battery-9"
_seq = count(1)


def make_admin(
    username: str | None = None,
    *,
    superadmin: bool = False,
    domains: list[Domain] | None = None,
    password: str = PASSWORD,
) -> Admin:
    admin = admin_create(
        actor=None,
        username=username or f"admin{next(_seq)}@admins.example",
        password=password,
        superadmin=superadmin,
    )
    for domain in domains or []:
        admin_assign_domain(actor=None, admin=admin, domain=domain)
    return admin


def make_domain(name: str | None = None, **kwargs: object) -> Domain:
    kwargs.setdefault("create_default_aliases", False)
    kwargs.setdefault("mailboxes", 0)
    kwargs.setdefault("aliases", 0)
    kwargs.setdefault("maxquota", 0)
    kwargs.setdefault("quota", 0)
    return domain_create(actor=None, domain=name or f"d{next(_seq)}.example", **kwargs)


def make_mailbox(
    domain: Domain, local_part: str | None = None, *, password: str = PASSWORD, **kwargs: object
) -> Mailbox:
    return mailbox_create(
        actor=None,
        domain=domain,
        local_part=local_part or f"user{next(_seq)}",
        password=password,
        **kwargs,
    )


def make_alias(
    domain: Domain, local_part: str | None = None, targets: list[str] | None = None
) -> Alias:
    return alias_create(
        actor=None,
        domain=domain,
        local_part=f"alias{next(_seq)}" if local_part is None else local_part,
        targets=targets or ["someone@elsewhere.example"],
    )


def owner_client_for(mailbox: Mailbox, password: str = PASSWORD) -> Client:
    """A client logged in as the mailbox's owner through the owner login page, as a user is."""
    client = Client()
    response = client.post(
        reverse("selfservice:login"), {"address": mailbox.username, "password": password}
    )
    assert response.status_code == 302, "the owner login succeeds"
    return client
