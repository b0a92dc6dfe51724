"""What the project keeps for second factors beside Postfix Admin's columns and tables.

The secrets themselves stay where Postfix Admin 4 keeps them (`admin.totp_secret`,
`mailbox.totp_secret`); these tables hold what Postfix Admin has no place for.
"""

from __future__ import annotations

import uuid

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


def new_policy_version() -> str:
    """Return a fresh policy version: random, so no two changes ever share one."""
    return uuid.uuid4().hex


class TwoFactorPolicy(models.Model):
    """Who must have a second factor; one row, edited by super admins.

    `version` changes with every change of who must have one; a session remembers the version
    each of its logins was checked against (twofactor.flows), so a change reaches open sessions.
    """

    superadmins = models.BooleanField(_("super admins"), default=False)
    domain_admins = models.BooleanField(_("domain admins"), default=False)
    modified = models.DateTimeField(default=timezone.now)
    version = models.CharField(max_length=32, default=new_policy_version)

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


class AppPasswordInfo(models.Model):
    """When an app password was made here; Postfix Admin's mailbox_app_password has no place.

    Keyed by the app password's id, without a database constraint, so Postfix Admin deletes its
    rows as before; `username` tells a leftover row (its app password deleted elsewhere, the id
    later reused) from the current one.
    """

    app_password_id = models.BigIntegerField(primary_key=True)
    username = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "vimbadmin_app_password_info"

    def __str__(self) -> str:
        return f"{self.app_password_id} {self.username} {self.created:%Y-%m-%d}"
