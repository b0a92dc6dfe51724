"""Domains, alias domains and domain admins on Postfix Admin's tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Func, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Postfix Admin's pseudo-domain that marks a super admin in `domain_admins`.
ALL_DOMAINS = "ALL"


@dataclass(frozen=True)
class DefaultAlias:
    """One RFC 2142 alias of a new domain: created, or why it was not (`refused`)."""

    address: str
    goto: str
    refused: str = ""


class Domain(models.Model):
    """A mail domain; limits are Postfix Admin's: 0 = unlimited, -1 = disabled; quotas in MB."""

    domain = models.CharField(_("domain"), max_length=255, primary_key=True)
    description = models.CharField(_("description"), max_length=255, default="", blank=True)
    aliases = models.IntegerField(_("max aliases"), default=0)
    mailboxes = models.IntegerField(_("max mailboxes"), default=0)
    maxquota = models.BigIntegerField(_("max quota per mailbox (MB)"), default=0)
    quota = models.BigIntegerField(_("domain quota (MB)"), default=0)
    # NOT NULL without default on MySQL, nullable on PostgreSQL: always written.
    transport = models.CharField(_("transport"), max_length=255, null=True, default="virtual")  # noqa: DJ001 (schema)
    backupmx = models.BooleanField(_("backup MX"), default=False)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(_("active"), default=True)
    password_expiry = models.IntegerField(null=True, default=0)

    # Not a column: domain_create sets it on the domain it made, one entry per RFC 2142 alias.
    rfc2142_aliases: tuple[DefaultAlias, ...] = ()

    class Meta:
        managed = False
        db_table = "domain"
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    @property
    def unicode_name(self) -> str:
        from mail.names import to_unicode

        return to_unicode(self.domain)


class DomainSettings(models.Model):
    """What the project keeps per domain beyond Postfix Admin's columns."""

    domain = models.OneToOneField(
        Domain,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="domain",
        related_name="settings",
    )
    # MB, pre-filled in the mailbox form; Postfix Admin has no column for it.
    default_mailbox_quota = models.BigIntegerField(default=0)
    # The language of mails to the domain's mailboxes whose owners chose none ("" = the site's
    # LANGUAGE_CODE); a code of settings.LANGUAGES.
    language = models.CharField(max_length=15, blank=True, default="")

    class Meta:
        db_table = "vimbadmin_domain_settings"

    def __str__(self) -> str:
        return str(self.domain_id)


class DomainCounters(models.Model):
    """A domain's counters: counts and usage, so that lists never count a big domain's rows.

    The counts and the allocated quota are exact for writes made through this project: every
    write locks the row first and adjusts it in the same transaction (domains.counters). Writes by
    other tools (Postfix Admin, scripts) and Dovecot's usage in quota2 are picked up by
    `manage.py domain_counters` (see the README). The table keeps its first name.
    """

    domain = models.OneToOneField(
        Domain,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="domain",
        related_name="counters",
    )
    mailboxes = models.IntegerField(default=0)
    # Every alias row, the mailboxes' own included (Postfix Admin's count subtracts them).
    alias_rows = models.IntegerField(default=0)
    # Bytes: the sum of the mailboxes' positive quotas.
    quota_allocated = models.BigIntegerField(default=0)
    # Bytes: Dovecot's quota2 rows of the domain's mailboxes, as of usage_counted.
    usage_bytes = models.BigIntegerField(default=0)
    counted = models.DateTimeField(default=timezone.now)
    usage_counted = models.DateTimeField(default=timezone.now)
    # mail.names.domain_sort_key of the domain: what lists order it by (see by_sort_name). In
    # a binary collation set by migration 0005 per engine (a field has one name for all), which
    # a later AlterField of this column must set again; NULL where an older release made the row.
    sort_name = models.CharField(max_length=768, null=True)  # noqa: DJ001 (NULL: not known yet)

    class Meta:
        db_table = "vimbadmin_domain_stats"
        # A domain list's pages walk it while every domain has its key (with_sort_name).
        indexes = [models.Index(fields=["sort_name"], name="vimbadmin_domain_sort_name")]

    def __str__(self) -> str:
        return str(self.domain_id)


class DomainAdmin(models.Model):
    """An admin's right on one domain, or on every domain when domain is `ALL`."""

    id = models.AutoField(primary_key=True)
    username = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="username",
        to_field="username",
        related_name="domain_links",
    )
    domain = models.ForeignKey(
        Domain,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="domain",
        related_name="admin_links",
    )
    created = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)

    class Meta:
        managed = False
        db_table = "domain_admins"

    def __str__(self) -> str:
        return f"{self.username_id} @ {self.domain_id}"


class AliasDomain(models.Model):
    """Mail for alias_domain is delivered as if sent to the same local part at target_domain."""

    alias_domain = models.OneToOneField(
        Domain,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="alias_domain",
        related_name="alias_domain_link",
    )
    target_domain = models.ForeignKey(
        Domain,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="target_domain",
        related_name="alias_domains",
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        managed = False
        db_table = "alias_domain"
        ordering = ["alias_domain"]

    def __str__(self) -> str:
        return f"{self.alias_domain_id} -> {self.target_domain_id}"


class CodePointText(Func):
    """Text compared code point by code point, the same on every engine: how sort keys compare.

    PostgreSQL's "C" and SQLite's BINARY compare UTF-8 bytes, MariaDB's utf8mb4_bin code
    points: all three agree with each other and with Python, where a locale's collation would
    not (and a database's default collation differs between installations).
    """

    output_field = models.CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template='(%(expressions)s) COLLATE "C"', **extra)

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        # CONVERT: an adopted database's domain column may be in another character set.
        template = "CONVERT(%(expressions)s USING utf8mb4) COLLATE utf8mb4_bin"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = "(%(expressions)s) COLLATE BINARY"
        return self.as_sql(compiler, connection, template=template, **extra)


def with_sort_name(queryset: QuerySet[Domain], *, keyed: bool = False) -> QuerySet[Domain]:
    """Add `sort_name`, the key a domain is listed by (mail.names.domain_sort_key), one per
    domain, so that it orders and pages a list alone.

    Kept in the domain counters' row (Postfix Admin's domain table has no room for it). A
    domain without one yet (written by another tool, before a list page or `domain_counters`
    stored it) goes by its stored name: its right place unless the name is an IDN. `keyed`
    tells that every domain of the queryset has its key (domains.counters.ensure_missing said
    so): the list then reads the counters' column itself, whose index gives a page at once
    instead of sorting every domain.
    """
    if keyed:
        return queryset.filter(counters__sort_name__isnull=False).annotate(
            sort_name=F("counters__sort_name")
        )
    return queryset.annotate(sort_name=sort_key_of("domain"))


def sort_key_of(field: str) -> CodePointText:
    """Return the key a row's domain (the Domain key or foreign key `field`) is listed by, as in
    with_sort_name: its counters' key, else its stored name."""
    prefix = "" if field == "domain" else f"{field}__"
    return CodePointText(Coalesce(F(f"{prefix}counters__sort_name"), CodePointText(F(field))))


def by_sort_name(queryset: QuerySet[Domain], *, keyed: bool = False) -> QuerySet[Domain]:
    """Order domains as people read them: by the key of their Unicode name (with_sort_name)."""
    return with_sort_name(queryset, keyed=keyed).order_by("sort_name")
