"""Writes to API tokens: create (the key is returned once), revoke, record a use."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Admin
from accounts.scoping import is_admin, is_superadmin, scoped
from api.keys import key_hash, new_key
from api.models import ApiToken
from domains.models import Domain
from mail.names import normalize_domain, one_line_text

# How many live tokens one admin may hold: enough for every system they automate.
MAX_TOKENS_PER_ADMIN = 50
# A use is recorded at most this often per token and address: not one write per request.
USE_RECORD_INTERVAL = datetime.timedelta(seconds=60)


def _limited_domains(admin: Admin, domains: Iterable[str]) -> list[str]:
    """Return the stored names of domains the admin manages, refusing any other (same text)."""
    names: list[str] = []
    for raw in domains:
        if not raw.strip():
            continue
        try:
            name = normalize_domain(raw)
        except ValidationError:
            name = ""
        if not name or not scoped(admin, Domain).filter(domain=name).exists():
            raise ValidationError(
                {"domains": _("%(domain)s is not one of your domains.") % {"domain": raw.strip()}}
            )
        if name not in names:
            names.append(name)
    return sorted(names)


@transaction.atomic
def api_token_create(
    *,
    actor: Admin | None,
    admin: Admin,
    name: str,
    expires: datetime.datetime | None,
    read_only: bool = False,
    domains: Iterable[str] = (),
) -> tuple[ApiToken, str]:
    """Create a token for the admin (an admin only for themself) and return it with its key.

    The key is returned this once; only its hash is kept.
    """
    if actor is not None and actor.pk != admin.pk:
        raise PermissionDenied(_("Admins create API tokens for themselves only."))
    if not is_admin(admin):
        raise ValidationError(_("This admin is deactivated."))
    label = one_line_text(name, field="name").strip()
    if not label:
        raise ValidationError({"name": _("Give the token a name.")})
    if len(label) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": _("The name is too long.")})
    if expires is not None and expires <= timezone.now():
        raise ValidationError({"expires": _("The expiry must lie in the future.")})
    # The admin row is locked, so concurrent creates cannot pass the limit together.
    Admin.objects.select_for_update().filter(pk=admin.pk).first()
    live = ApiToken.objects.filter(admin=admin, revoked__isnull=True)
    if live.count() >= MAX_TOKENS_PER_ADMIN:
        raise ValidationError(
            ngettext(
                "You have %(count)d token; revoke it first.",
                "You have %(count)d tokens; revoke one first.",
                MAX_TOKENS_PER_ADMIN,
            )
            % {"count": MAX_TOKENS_PER_ADMIN}
        )
    key, prefix = new_key()
    token = ApiToken.objects.create(
        admin=admin,
        name=label,
        prefix=prefix,
        key_hash=key_hash(key),
        expires=expires,
        read_only=read_only,
        domains=_limited_domains(admin, domains),
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Admin | None, token: ApiToken) -> ApiToken:
    """Revoke a token at once (its admin, a super admin or the shell may)."""
    if actor is not None and actor.pk != token.admin_id and not is_superadmin(actor):
        raise PermissionDenied(_("This is not your token."))
    if token.revoked is None:
        token.revoked = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=token.revoked)
    return token


def api_token_record_use(*, token: ApiToken, address: str) -> None:
    """Record when and from where a token was last used (at most once a minute per address)."""
    now = timezone.now()
    address = address[:45]
    if (
        token.last_used is not None
        and token.last_address == address
        and now - token.last_used < USE_RECORD_INTERVAL
    ):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used=now, last_address=address)
    token.last_used, token.last_address = now, address
