"""Reads for the mailbox owner's own pages; the owner only ever sees their own mailbox."""

from __future__ import annotations

from aliases.models import Alias
from domains.models import AliasDomain
from mailboxes.models import Mailbox
from pfa.models import Quota2


def mailbox_for_login(address: str) -> Mailbox | None:
    """Return the mailbox for a typed address, with its domain, or None when there is none."""
    return Mailbox.objects.select_related("domain").filter(username=address).first()


def mailbox_usage(mailbox: Mailbox) -> int | None:
    """Return the bytes Dovecot counted in `quota2`, or None when it has no row for the mailbox."""
    row = Quota2.objects.filter(username=mailbox.username).values_list("bytes", flat=True).first()
    return None if row is None else int(row)


def mailbox_delivering_aliases(mailbox: Mailbox) -> list[Alias]:
    """Return the other aliases whose destination list names this mailbox exactly."""
    address = mailbox.username
    # The SQL narrows by substring (index-free but bounded to matching rows); the exact element
    # match below drops e.g. "bob@x" when only "bob@x.org" or "jimbob@x" is a destination.
    candidates = (
        Alias.objects.filter(goto__contains=address).exclude(address=address).order_by("address")
    )
    return [alias for alias in candidates if address in {t.lower() for t in alias.targets}]


def mailbox_alias_domains(mailbox: Mailbox) -> list[str]:
    """Return the other addresses this mailbox receives through active alias domains."""
    names = AliasDomain.objects.filter(target_domain_id=mailbox.domain_id, active=True).values_list(
        "alias_domain_id", flat=True
    )
    return [f"{mailbox.local_part}@{name}" for name in names.order_by("alias_domain_id")]
