"""Mailboxes on Postfix Admin's `mailbox` table."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import EPOCH_2000
from domains.models import Domain


class Mailbox(models.Model):
    """A mailbox; quota is in bytes, maildir is relative to the mail root and set once."""

    username = models.CharField(_("e-mail address"), max_length=255, primary_key=True)
    password = models.CharField(max_length=255, default="")
    name = models.CharField(_("name"), max_length=255, default="", blank=True)
    maildir = models.CharField(max_length=255, default="")
    quota = models.BigIntegerField(_("quota"), default=0)
    local_part = models.CharField(max_length=255)
    domain = models.ForeignKey(
        Domain,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="domain",
        related_name="mailbox_set",
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(_("active"), default=True)
    phone = models.CharField(max_length=30, default="", blank=True)
    email_other = models.CharField(_("alternative e-mail"), max_length=255, default="", blank=True)
    token = models.CharField(max_length=255, default="", blank=True)
    token_validity = models.DateTimeField(default=EPOCH_2000)
    password_expiry = models.DateTimeField(default=EPOCH_2000)

    class Meta:
        managed = False
        db_table = "mailbox"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username


def password_digest(stored_hash: str) -> str:
    """Return the SHA-256 of a stored password hash (what PasswordChange compares against)."""
    return hashlib.sha256(stored_hash.encode()).hexdigest()


class PasswordChange(models.Model):
    """When a mailbox's password was last set through this project, and which hash that was.

    Postfix Admin keeps no such date (`modified` moves with any edit). The digest of the hash
    written then tells whether the password is still that one: after a change by another tool
    (Postfix Admin, doveadm, SQL) the date is unknown rather than wrong.
    """

    username = models.CharField(max_length=255, primary_key=True)
    changed = models.DateTimeField()
    hash_digest = models.CharField(max_length=64)

    class Meta:
        db_table = "vimbadmin_mailbox_password_change"

    def __str__(self) -> str:
        return f"{self.username} {self.changed.isoformat()}"
