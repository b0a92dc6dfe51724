"""Reads for the mailbox owner's own pages; the owner only ever sees their own mailbox."""

from __future__ import annotations

from domains.models import AliasDomain
from mailboxes.models import Mailbox


def mailbox_for_login(address: str) -> Mailbox | None:
    """Return the mailbox for a typed address, with its domain, or None when there is none."""
    return Mailbox.objects.select_related("domain").filter(username=address).first()


def mailbox_alias_domains(mailbox: Mailbox) -> list[str]:
    """Return the other addresses this mailbox receives through active alias domains."""
    names = AliasDomain.objects.filter(target_domain_id=mailbox.domain_id, active=True).values_list(
        "alias_domain_id", flat=True
    )
    return [f"{mailbox.local_part}@{name}" for name in names.order_by("alias_domain_id")]
