"""API tokens: an admin's keys for /api/v1/, stored hashed, each narrowed by its own limits."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Admin


class ApiToken(models.Model):
    """A named key of one admin: never beyond the admin's current scope, narrowed further by
    read-only and a list of domains; only its hash is kept (the key is shown once)."""

    admin = models.ForeignKey(
        Admin,
        on_delete=models.CASCADE,
        # No reverse accessor on Admin: its field list stays that of Postfix Admin's table.
        related_name="+",
        db_column="admin",
        # The admin table belongs to Postfix Admin; no constraint of ours is put on it.
        db_constraint=False,
    )
    name = models.CharField(_("name"), max_length=100)
    # The key's public part, by which a request finds its row; unique.
    prefix = models.CharField(max_length=16, unique=True)
    # SHA-256 of the whole key, hex: the key holds 256 random bits, so a slow hash adds nothing.
    key_hash = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)
    # None: never expires.
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    read_only = models.BooleanField(_("read-only"), default=False)
    # Stored domain names the token is limited to; empty: every domain of the admin.
    domains = models.JSONField(_("domains"), default=list, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    last_address = models.CharField(max_length=45, blank=True, default="")
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "vimbadmin_api_token"
        indexes = [models.Index(fields=["admin", "created"], name="vimb_apitoken_admin_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        """Tell whether the token is neither revoked nor expired (its admin is checked apart)."""
        if self.revoked is not None:
            return False
        return self.expires is None or self.expires > timezone.now()
