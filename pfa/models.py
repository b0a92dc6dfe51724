"""Postfix Admin tables that no single app owns: the version stamp, the log and the quota dict.

Every Postfix Admin table is unmanaged: its DDL lives in `pfa.schema`, per engine, so that a
fresh database matches what Postfix Admin itself would build and an adopted one is never altered.
"""

from django.db import models
from django.utils import timezone


class Config(models.Model):
    name = models.CharField(max_length=20, unique=True, default="")
    value = models.CharField(max_length=20, default="")

    class Meta:
        managed = False
        db_table = "config"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Log(models.Model):
    """One audit row, readable by Postfix Admin's log viewer (action keys are its own)."""

    timestamp = models.DateTimeField(default=timezone.now)
    # Postfix Admin writes "<login> (<client address>)".
    username = models.CharField(max_length=255, default="")
    domain = models.CharField(max_length=255, default="")
    action = models.CharField(max_length=255, default="")
    data = models.TextField(default="")

    class Meta:
        managed = False
        db_table = "log"

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.username} {self.action} {self.data}"


class Quota2(models.Model):
    """Usage per mailbox, written by Dovecot's quota dict and only read here."""

    username = models.CharField(max_length=100, primary_key=True)
    bytes = models.BigIntegerField(default=0)
    messages = models.IntegerField(default=0)

    class Meta:
        managed = False
        db_table = "quota2"

    def __str__(self) -> str:
        return self.username


class Vacation(models.Model):
    email = models.CharField(max_length=255, primary_key=True)
    subject = models.CharField(max_length=255)
    body = models.TextField(default="")
    domain = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)
    interval_time = models.IntegerField(default=0)
    activefrom = models.DateTimeField(null=True)
    activeuntil = models.DateTimeField(null=True)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        managed = False
        db_table = "vacation"

    def __str__(self) -> str:
        return self.email


class VacationNotification(models.Model):
    pk = models.CompositePrimaryKey("on_vacation", "notified")
    on_vacation = models.CharField(max_length=255)
    notified = models.CharField(max_length=255, default="")
    notified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "vacation_notification"

    def __str__(self) -> str:
        return f"{self.on_vacation} -> {self.notified}"


class TotpExceptionAddress(models.Model):
    """An address from which Dovecot takes the main password of a mailbox with a second factor.

    `username` is a mailbox address, a bare domain name (the whole domain) or NULL (everyone),
    as Postfix Admin 4 writes it; `ip` is an address or a network.
    """

    ip = models.CharField(max_length=46)
    username = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)
    description = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "totp_exception_address"

    def __str__(self) -> str:
        return f"{self.ip} {self.username or '*'}"


class MailboxAppPassword(models.Model):
    """A named extra password of a mailbox for mail clients (hashed like the main password)."""

    username = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)
    description = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)
    password_hash = models.CharField(max_length=255, null=True)  # noqa: DJ001 (schema)

    class Meta:
        managed = False
        db_table = "mailbox_app_password"

    def __str__(self) -> str:
        return f"{self.username} {self.description}"
