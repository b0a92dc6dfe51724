"""What the project keeps for second factors beside Postfix Admin's columns and tables.

The secrets themselves stay where Postfix Admin 4 keeps them (`admin.totp_secret`,
`mailbox.totp_secret`); these tables hold what Postfix Admin has no place for.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuthEvent


class LastCodeStep(models.Model):
    """The period of the last code an account used: a code of that period or earlier is refused."""

    realm = models.CharField(max_length=10, choices=AuthEvent.Realm.choices)
    username = models.CharField(max_length=255)
    step = models.BigIntegerField(default=0)

    class Meta:
        db_table = "vimbadmin_totp_last_step"
        constraints = [
            models.UniqueConstraint(fields=["realm", "username"], name="vimb_totp_step_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.realm} {self.username} {self.step}"


class RecoveryCode(models.Model):
    """One single-use recovery code, stored hashed; `used` is set when it is spent."""

    realm = models.CharField(max_length=10, choices=AuthEvent.Realm.choices)
    username = models.CharField(max_length=255)
    code_hash = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)
    used = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "vimbadmin_recovery_code"
        indexes = [models.Index(fields=["realm", "username"], name="vimb_recovery_user_idx")]

    def __str__(self) -> str:
        return f"{self.realm} {self.username} {'used' if self.used else 'unused'}"


class TwoFactorPolicy(models.Model):
    """Who must have a second factor; one row, edited by super admins."""

    superadmins = models.BooleanField(_("super admins"), default=False)
    domain_admins = models.BooleanField(_("domain admins"), default=False)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "vimbadmin_twofactor_policy"

    def __str__(self) -> str:
        return f"super admins: {self.superadmins}, domain admins: {self.domain_admins}"


class TwoFactorDomain(models.Model):
    """A domain whose mailbox owners must have a second factor."""

    domain = models.CharField(max_length=255, unique=True)

    class Meta:
        db_table = "vimbadmin_twofactor_domain"

    def __str__(self) -> str:
        return self.domain
