"""Domain counters: each domain's mailbox and alias counts, allocated quota and usage, in one
row of `vimbadmin_domain_stats` (model DomainCounters), so lists never count a domain's rows.

Counting a domain's rows costs time in proportion to the domain (bench/RESULTS.md), paid by
every domain list view and every mailbox or alias created in it. Instead each domain has one
stats row:

- Every write made through the project locks the domain's counters row (`lock`) before it
  changes mailboxes or aliases, checks limits against it, and adjusts it (`add`) in the same
  transaction. A missing row is measured first, under that lock, so the counts stay exact.
- A page that finds domains without a row measures and stores them (`ensure`): such a row
  can only be created before any write adjusts it, because writes create the row first.
- Writes by other tools (Postfix Admin, scripts) and Dovecot's usage in `quota2` are picked
  up by `refresh`, the `manage.py domain_counters` command run from cron: it locks the rows it
  recounts, so it never loses a concurrent write of the project.
- The row also keeps the key the domain is listed by (`sort_name`, mail.names.domain_sort_key):
  every row made here gets it, and `ensure` and `refresh` fill it where an older release left
  it empty. It depends on the name alone, so it never goes stale.

Unlike the trigger-maintained tables (pfa.derived), these are kept by the project's services:
between two recounts they miss what other tools wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from domains.models import Domain, DomainCounters
from mail.names import domain_sort_key
from mail.quota import MAX_QUOTA_BYTES

# Domains measured per round trip (each IN list holds at most this many names).
CHUNK = 500


def _chunks(names: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(names), CHUNK):
        yield names[start : start + CHUNK]


def _usage(names: Sequence[str]) -> dict[str, int]:
    """Sum quota2's bytes per domain, joined on the mailboxes' usernames (quota2 has no domain)."""
    from mailboxes.models import Mailbox
    from pfa.models import Quota2

    q = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(names))
    sql = (
        f"SELECT m.{q('domain')}, SUM(u.{q('bytes')}) FROM {q(Mailbox._meta.db_table)} m"  # noqa: S608
        f" INNER JOIN {q(Quota2._meta.db_table)} u ON u.{q('username')} = m.{q('username')}"
        f" WHERE m.{q('domain')} IN ({marks}) GROUP BY m.{q('domain')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(names))
        return {name: int(total or 0) for name, total in cursor.fetchall()}


def measure(names: Sequence[str], *, usage: bool = True) -> dict[str, dict[str, int]]:
    """Count the named domains' rows in the database: three or four grouped queries per chunk."""
    from aliases.models import Alias
    from mailboxes.models import Mailbox

    out: dict[str, dict[str, int]] = {
        name: {"mailboxes": 0, "alias_rows": 0, "quota_allocated": 0, "usage_bytes": 0}
        for name in names
    }
    positive = Case(When(quota__gt=0, then=F("quota")), default=Value(0))
    for chunk in _chunks(list(names)):
        mailboxes = (
            Mailbox.objects.filter(domain_id__in=chunk)
            .order_by()
            .values("domain_id")
            .annotate(n=Count("*"), q=Sum(positive, output_field=IntegerField()))
        )
        for row in mailboxes:
            out[row["domain_id"]]["mailboxes"] = row["n"]
            # Quotas other tools wrote may sum past the BIGINT that keeps the total; the total
            # then reads as full, so every further quota in the domain is refused.
            allocated = min(int(row["q"] or 0), MAX_QUOTA_BYTES)
            out[row["domain_id"]]["quota_allocated"] = allocated
        aliases = (
            Alias.objects.filter(domain_id__in=chunk)
            .order_by()
            .values("domain_id")
            .annotate(n=Count("*"))
        )
        for row in aliases:
            out[row["domain_id"]]["alias_rows"] = row["n"]
        if usage:
            for name, total in _usage(chunk).items():
                out[name]["usage_bytes"] = total
    return out


def ensure(names: Sequence[str]) -> dict[str, DomainCounters]:
    """Return the named domains' counters rows, measuring and storing the missing ones."""
    found = {s.domain_id: s for s in DomainCounters.objects.filter(domain_id__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        now = timezone.now()
        created = [
            DomainCounters(
                domain_id=name,
                counted=now,
                usage_counted=now,
                sort_name=domain_sort_key(name),
                **values,
            )
            for name, values in measure(missing).items()
        ]
        # A row a concurrent write has created meanwhile is exact and wins.
        DomainCounters.objects.bulk_create(created, ignore_conflicts=True)
        found.update({s.domain_id: s for s in DomainCounters.objects.filter(domain_id__in=missing)})
    unsorted = [row for row in found.values() if row.sort_name is None]
    for row in unsorted:
        row.sort_name = domain_sort_key(row.domain_id)
    if unsorted:
        # Only this column: the counts may be changing under a concurrent write's lock.
        DomainCounters.objects.bulk_update(unsorted, ["sort_name"])
    return found


def ensure_missing(domains: Any, limit: int = CHUNK) -> bool:
    """Measure up to `limit` domains of a Domain queryset that have no counters row yet (or
    no sort key: rows of an older release); tell whether every one of them has both now."""
    names = list(
        domains.filter(counters__sort_name__isnull=True)
        .order_by("domain")
        .values_list("domain", flat=True)[:limit]
    )
    if names:
        ensure(names)
    return len(names) < limit


def lock(domain: Domain | str) -> DomainCounters:
    """Lock a domain's counters row for a write (measuring it first if it has none) and return it.

    Call inside the write's transaction, before it changes the domain's mailboxes or aliases.
    """
    name = domain if isinstance(domain, str) else domain.pk
    row = DomainCounters.objects.select_for_update().filter(domain_id=name).first()
    if row is None:
        ensure([name])
        row = DomainCounters.objects.select_for_update().get(domain_id=name)
    return row


def add(row: DomainCounters, *, mailboxes: int = 0, alias_rows: int = 0, quota: int = 0) -> None:
    """Adjust a locked counters row by what the write changed (quota: positive bytes only)."""
    changes = {
        field: F(field) + delta
        for field, delta in (
            ("mailboxes", mailboxes),
            ("alias_rows", alias_rows),
            ("quota_allocated", quota),
        )
        if delta
    }
    if changes:
        DomainCounters.objects.filter(pk=row.pk).update(**changes)
        row.mailboxes += mailboxes
        row.alias_rows += alias_rows
        row.quota_allocated += quota


def positive(quota: int) -> int:
    """Return what a mailbox quota adds to the allocated total (unlimited and disabled: 0)."""
    return max(quota, 0)


def delete(domain: str) -> None:
    """Delete a deleted domain's counters row."""
    DomainCounters.objects.filter(domain_id=domain).delete()


def refresh(names: Sequence[str] | None = None, *, counts: bool = True) -> int:
    """Recount domains (all when names is None) and re-read their usage; return how many.

    With counts=False only the usage is read again, which takes no locks: quota2 is Dovecot's.
    Otherwise each chunk of rows is locked while it is recounted, so writes made meanwhile
    through the project wait and then adjust the fresh counts.
    """
    if names is None:
        names = list(Domain.objects.order_by("domain").values_list("domain", flat=True))
        # Rows of domains deleted by other tools.
        DomainCounters.objects.exclude(domain_id__in=Domain.objects.values("domain")).delete()
    for chunk in _chunks(list(names)):
        with transaction.atomic():
            rows = DomainCounters.objects.filter(domain_id__in=chunk).order_by("domain_id")
            if counts:
                # In key order, so two recounts running at once queue instead of deadlocking.
                rows = rows.select_for_update()
            have = set(rows.values_list("domain_id", flat=True))
            now = timezone.now()
            if counts:
                values = measure(chunk)
                stamps = {"counted": now, "usage_counted": now}
            else:
                usage = _usage(chunk)
                values = {name: {"usage_bytes": usage.get(name, 0)} for name in chunk}
                stamps = {"usage_counted": now}
            for name in have:
                # The sort key too, for rows an older release made without one.
                key = domain_sort_key(name)
                one = DomainCounters.objects.filter(domain_id=name)
                one.update(**values[name], **stamps, sort_name=key)
            ensure([name for name in chunk if name not in have])
    return len(names)


def totals(domains: Any) -> tuple[int, int] | None:
    """Return the counted (mailboxes, alias rows) of a Domain queryset's domains, summed.

    One query while every domain has its row. Domains without one (added by other tools) are
    measured and stored first, a chunk at a time; None while some are still left: the caller
    then counts rows itself.
    """
    for _attempt in range(2):
        totals = domains.order_by().aggregate(
            mailboxes=Sum("counters__mailboxes"),
            alias_rows=Sum("counters__alias_rows"),
            missing=Count("pk", filter=Q(counters__isnull=True)),
        )
        if not totals["missing"]:
            return int(totals["mailboxes"] or 0), int(totals["alias_rows"] or 0)
        ensure_missing(domains)
    return None
