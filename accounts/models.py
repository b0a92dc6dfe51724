"""Admins: Django's user model on Postfix Admin's `admin` table; the project's auth events."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mail import passwords

# Postfix Admin's "never" for token_validity and similar columns.
EPOCH_2000 = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class AdminManager(BaseUserManager["Admin"]):
    def get_by_natural_key(self, username: str) -> Admin:
        return self.get(username=username.strip().lower())


class Admin(AbstractBaseUser):
    """A super admin or domain admin; superadmin is also mirrored in `domain_admins` (ALL)."""

    username = models.CharField(_("e-mail address"), max_length=255, primary_key=True)
    password = models.CharField(max_length=255, default="")
    superadmin = models.BooleanField(_("super admin"), default=False)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(_("active"), default=True)
    phone = models.CharField(max_length=30, default="", blank=True)
    email_other = models.CharField(_("alternative e-mail"), max_length=255, default="", blank=True)
    token = models.CharField(max_length=255, default="", blank=True)
    token_validity = models.DateTimeField(default=EPOCH_2000)

    # The `admin` table has no last_login column and none may be added.
    last_login = None

    objects = AdminManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        managed = False
        db_table = "admin"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, raw_password: str | None) -> None:
        self.password = passwords.hash_password(raw_password or "")
        self._password = raw_password

    def check_password(self, raw_password: str) -> bool:
        return passwords.verify_password(raw_password, self.password)

    def set_unusable_password(self) -> None:
        # An empty hash never verifies (passwords.verify_password refuses it).
        self.password = ""

    def has_usable_password(self) -> bool:
        return bool(self.password)


class AuthEvent(models.Model):
    """Logins, failures, logouts or resets of one kind, account and client address in one hour.

    A flood is one row with a count, not a row per request. A refusal because the client
    address itself is locked is kept with an empty username, whatever login was typed.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logout")
        RESET_REQUESTED = "reset_requested", _("password reset requested")
        RESET_DONE = "reset_done", _("password reset")
        LOCKED_OUT = "locked_out", _("locked out")
        # Second factors (twofactor/): a wrong code counts and is logged like a wrong password.
        CODE_FAILED = "code_failed", _("wrong second-factor code")
        RECOVERY_USED = "recovery_used", _("recovery code used")
        TOTP_ENROLLED = "totp_enrolled", _("second factor set up")
        TOTP_DISABLED = "totp_disabled", _("second factor removed")
        TOTP_RESET = "totp_reset", _("second factor reset by a super admin")

    class Realm(models.TextChoices):
        ADMIN = "admin", _("admin")
        MAILBOX = "mailbox", _("mailbox owner")

    # The first event of the row; last_seen is the latest, count how many there were.
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField(default=1)
    # The start of the hour the row collects, part of its identity.
    hour = models.DateTimeField()
    realm = models.CharField(max_length=10, choices=Realm.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    username = models.CharField(max_length=255)
    client_address = models.CharField(max_length=45)

    class Meta:
        db_table = "vimbadmin_auth_event"
        indexes = [
            models.Index(fields=["realm", "username", "timestamp"], name="vimb_authev_user_idx"),
            models.Index(
                fields=["realm", "client_address", "timestamp"], name="vimb_authev_addr_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["realm", "kind", "username", "client_address", "hour"],
                name="vimb_authev_hour_uniq",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.realm} {self.kind} {self.username}"
            f" x{self.count}"
        )


class ThrottleCounter(models.Model):
    """Recent failed logins (or reset requests) of one account, one client address, or both.

    The brute-force check locks these rows, so that the check and the count are one step.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("login")
        RESET = "reset", _("password reset")

    class Scope(models.TextChoices):
        # The account from one client address; username and client_address are both set.
        PAIR = "pair", _("account from one address")
        # The account from every address it has not logged in from lately; client_address "".
        ACCOUNT = "account", _("account")
        # One client address, whatever the account; username "".
        ADDRESS = "address", _("client address")

    realm = models.CharField(max_length=10, choices=AuthEvent.Realm.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    username = models.CharField(max_length=255, blank=True)
    client_address = models.CharField(max_length=45, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure = models.DateTimeField(null=True, blank=True)
    # Pair rows only: the last successful login, which makes the address a known one.
    last_success = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "vimbadmin_auth_throttle"
        constraints = [
            models.UniqueConstraint(
                fields=["realm", "action", "scope", "username", "client_address"],
                name="vimb_throttle_key_uniq",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.realm} {self.action} {self.scope} {self.username} {self.client_address}: "
            f"{self.failures}"
        )


class LanguagePreference(models.Model):
    """The language an admin or a mailbox owner chose for the pages and for mails to them.

    Admins are keyed by username, owners by mailbox address; the realm tells them apart, as
    one address may be both.
    """

    realm = models.CharField(max_length=10, choices=AuthEvent.Realm.choices)
    username = models.CharField(max_length=255)
    # A code of settings.LANGUAGES ("de", "pt-br"); no choices here, so that adding a
    # language needs no migration.
    language = models.CharField(max_length=15)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "vimbadmin_language_preference"
        constraints = [
            models.UniqueConstraint(fields=["realm", "username"], name="vimb_language_pref_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.realm} {self.username}: {self.language}"
