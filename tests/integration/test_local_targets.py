"""Alias destinations Postfix Admin accepts beside addresses, as the real Postfix reads them.

A bare name in an alias's goto (`root`) is a local system user: Postfix appends @$myorigin to
it and delivers it with the local transport. `postmaster@localhost`, the shipped target of the
RFC 2142 aliases, is local as well (localhost is in mydestination on every stock Postfix).
"""

from __future__ import annotations

import secrets

import pytest

from accounts.models import Admin
from aliases.services import alias_create
from domains.services import domain_create
from tests.support.mailstack import MailStack

pytestmark = [pytest.mark.mailstack, pytest.mark.django_db(transaction=True)]


def delivered_locally(stack: MailStack, recipient: str) -> list[str]:
    """Return the log lines of local deliveries whose original recipient was `recipient`."""
    text = stack.postfix_log.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if f"orig_to=<{recipient}>" in line and "relay=local" in line and "status=sent" in line
    ]


def test_bare_user_and_localhost_targets_are_delivered_locally(
    stack: MailStack, actor: Admin
) -> None:
    # A special-use domain, as an adopted database may hold.
    domain = domain_create(
        actor=actor,
        domain=f"d{secrets.token_hex(5)}.test",
        maxquota=0,
        quota=0,
        mailboxes=0,
        aliases=0,
        create_default_aliases=True,
    )
    assert {a.goto for a in domain.rfc2142_aliases if not a.refused} == {
        "postmaster@localhost",
        "abuse@localhost",
        "hostmaster@localhost",
        "webmaster@localhost",
    }
    alias_create(actor=actor, domain=domain, local_part="ops", targets=["root"])

    bare = stack.send([f"ops@{domain.domain}"])
    assert stack.wait_for_local("root", bare) == 1, stack.logs()
    default = stack.send([f"postmaster@{domain.domain}"])
    assert stack.wait_for_local("root", default) == 1, stack.logs()

    # root became root@$myorigin; postmaster@localhost went through the local aliases to root.
    (line,) = delivered_locally(stack, f"ops@{domain.domain}")
    assert "to=<root@mx.vimbadmin-it.invalid>" in line
    (line,) = delivered_locally(stack, f"postmaster@{domain.domain}")
    assert "to=<root@mx.vimbadmin-it.invalid>" in line
