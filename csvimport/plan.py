"""The dry run: what importing each row would do (create, update, unchanged, error).

Rows are compared with the objects the admin can see (scoped; another domain's object is "no
such domain", as a missing one). Limits are checked for the file as a whole: when a domain's
new mailboxes, aliases or quotas together would pass its limits, every row that adds to them
is an error before anything is written. The services check everything again when applying.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.scoping import is_superadmin, scoped
from aliases.models import Alias
from aliases.services import clean_targets
from csvimport.reader import CsvRows
from domains import counters
from domains.models import Domain
from mail.names import normalize_address, normalize_domain, normalize_local_part
from mail.quota import format_bytes, mb_to_bytes
from mailboxes.models import Mailbox
from mailboxes.services import check_mailbox_quota, default_quota_bytes

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f"}


@dataclass
class RowPlan:
    """One row of the file and what importing it would do."""

    number: int
    key: str
    status: str = CREATE
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def refuse(self, reason: str) -> None:
        self.status, self.reason = ERROR, reason


@dataclass
class ImportPlan:
    """Every row's plan, in file order."""

    kind: str
    rows: list[RowPlan]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def has_errors(self) -> bool:
        return any(row.status == ERROR for row in self.rows)

    @property
    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in (CREATE, UPDATE, UNCHANGED, ERROR)}


def _visible(user: Any, model: Any) -> Any:
    """Return what the admin can see; the shell (no admin) is the operator and sees all."""
    return model.objects.all() if user is None else scoped(user, model)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _flag(text: str, field_name: str) -> bool | None:
    value = text.strip().lower()
    if value == "":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(_("%(field)s must be 1 or 0.") % {"field": field_name})


def _number(text: str, field_name: str) -> int | None:
    value = text.strip()
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            _("%(field)s must be a whole number.") % {"field": field_name}
        ) from None


class _Domains:
    """The admin's domains by name, read once per name."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.found: dict[str, Domain | None] = {}

    def get(self, name: str) -> Domain:
        if name not in self.found:
            self.found[name] = _visible(self.user, Domain).filter(domain=name).first()
        domain = self.found[name]
        if domain is None:
            raise ValidationError(_("No such domain: %(name)s.") % {"name": name})
        return domain


def _seen_twice(seen: dict[str, int], row: RowPlan) -> bool:
    if row.key in seen:
        row.refuse(_("Also on row %(row)s.") % {"row": seen[row.key]})
        return True
    seen[row.key] = row.number
    return False


def plan_mailboxes(user: Any, data: CsvRows) -> ImportPlan:
    """Plan a mailbox import: username, and optionally name, quota_bytes, email_other,
    active, password."""
    domains = _Domains(user)
    has = set(data.columns)
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    parsed: list[tuple[RowPlan, dict[str, str]]] = []
    for number, cells in data.rows:
        row = RowPlan(number=number, key=cells.get("username", ""))
        plans.append(row)
        try:
            row.key = normalize_address(cells["username"])
        except ValidationError as exc:
            row.refuse(_message(exc))
            continue
        if not _seen_twice(seen, row):
            parsed.append((row, cells))
    existing = {
        m.username: m
        for m in _visible(user, Mailbox).filter(username__in=[r.key for r, _c in parsed])
    }
    default_quota: dict[str, int] = {}
    quota_delta: dict[str, int] = defaultdict(int)
    new_count: dict[str, list[RowPlan]] = defaultdict(list)
    quota_rows: dict[str, list[RowPlan]] = defaultdict(list)
    for row, cells in parsed:
        local, _at, domain_name = row.key.rpartition("@")
        try:
            if cells.get("domain") and normalize_domain(cells["domain"]) != domain_name:
                raise ValidationError(_("The domain column does not match the username."))
            domain = domains.get(domain_name)
            quota = _number(cells.get("quota_bytes", ""), "quota_bytes")
            active = _flag(cells.get("active", ""), "active")
            values: dict[str, Any] = {"domain": domain_name, "local_part": local}
            if "name" in has:
                values["name"] = cells["name"]
            if "email_other" in has:
                values["email_other"] = (
                    normalize_address(cells["email_other"]) if cells["email_other"] else ""
                )
            if quota is not None:
                values["quota_bytes"] = quota
            if active is not None:
                values["active"] = active
            if cells.get("password"):
                values["password"] = cells["password"]
            mailbox = existing.get(row.key)
            if mailbox is None:
                normalize_local_part(local, domain_name)
                if domain_name not in default_quota:
                    default_quota[domain_name] = default_quota_bytes(domain)
                quota = default_quota[domain_name] if quota is None else quota
                check_mailbox_quota(domain=domain, quota_bytes=quota, allocated=0)
                row.status = CREATE
                new_count[domain_name].append(row)
                quota_delta[domain_name] += counters.positive(quota)
                quota_rows[domain_name].append(row)
            else:
                changes = [
                    name
                    for name in ("name", "email_other", "active")
                    if name in values and values[name] != getattr(mailbox, name)
                ]
                if quota is not None and quota != mailbox.quota:
                    check_mailbox_quota(domain=domain, quota_bytes=quota, allocated=0)
                    changes.append("quota_bytes")
                    quota_delta[domain_name] += counters.positive(quota) - counters.positive(
                        mailbox.quota
                    )
                    quota_rows[domain_name].append(row)
                if "password" in values:
                    changes.append("password")
                row.status = UPDATE if changes else UNCHANGED
                row.changes = changes
            row.values = values
        except ValidationError as exc:
            row.refuse(_message(exc))
    for name, rows in new_count.items():
        domain = domains.get(name)
        counts = counters.ensure([name])[name]
        free = None if domain.mailboxes == 0 else max(domain.mailboxes - counts.mailboxes, 0)
        live = [r for r in rows if r.status == CREATE]
        if free is not None and len(live) > free:
            text = ngettext(
                "The domain %(domain)s may have %(limit)s mailbox: this file adds %(new)s "
                "with %(free)s free.",
                "The domain %(domain)s may have %(limit)s mailboxes: this file adds %(new)s "
                "with %(free)s free.",
                max(domain.mailboxes, 0),
            ) % {"domain": name, "limit": max(domain.mailboxes, 0), "new": len(live), "free": free}
            for row in live:
                row.refuse(text)
    for name, rows in quota_rows.items():
        domain = domains.get(name)
        if domain.quota <= 0:
            continue
        counts = counters.ensure([name])[name]
        total = mb_to_bytes(domain.quota)
        if counts.quota_allocated + quota_delta[name] > total:
            text = _(
                "The domain %(domain)s's total quota of %(total)s would be exceeded by this file."
            ) % {"domain": name, "total": format_bytes(total)}
            for row in rows:
                if row.status != ERROR:
                    row.refuse(text)
    return ImportPlan(kind="mailboxes", rows=plans)


def plan_aliases(user: Any, data: CsvRows) -> ImportPlan:
    """Plan an alias import: address ("@domain" for the catch-all), targets (comma-separated),
    and optionally active."""
    domains = _Domains(user)
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    new_rows: dict[str, list[RowPlan]] = defaultdict(list)
    for number, cells in data.rows:
        raw = cells.get("address", "").strip()
        row = RowPlan(number=number, key=raw)
        plans.append(row)
        try:
            local, _at, domain_name = raw.rpartition("@")
            domain_name = normalize_domain(domain_name)
            if local in ("", "*"):
                row.key = f"@{domain_name}"
            else:
                row.key = f"{normalize_local_part(local, domain_name)}@{domain_name}"
        except ValidationError as exc:
            row.refuse(_message(exc))
            continue
        if _seen_twice(seen, row):
            continue
        try:
            domain = domains.get(domain_name)
            targets = clean_targets(cells["targets"].split(","), address=row.key)
            active = _flag(cells.get("active", ""), "active")
            row.values = {"domain": domain_name, "local_part": local, "targets": targets}
            if active is not None:
                row.values["active"] = active
            if Mailbox.objects.filter(username=row.key).exists():
                raise ValidationError(_("This address is a mailbox; not imported as an alias."))
            alias = _visible(user, Alias).filter(address=row.key).first()
            if alias is None:
                row.status = CREATE
                new_rows[domain_name].append(row)
                if domain.aliases < 0:
                    raise ValidationError(_("This domain may not have aliases."))
            else:
                changes = []
                if sorted(targets) != sorted(alias.targets):
                    changes.append("targets")
                if active is not None and active != alias.active:
                    changes.append("active")
                row.status = UPDATE if changes else UNCHANGED
                row.changes = changes
        except ValidationError as exc:
            row.refuse(_message(exc))
    for name, rows in new_rows.items():
        domain = domains.get(name)
        live = [r for r in rows if r.status == CREATE]
        if domain.aliases <= 0 or not live:
            continue
        counts = counters.ensure([name])[name]
        free = max(domain.aliases - max(counts.alias_rows - counts.mailboxes, 0), 0)
        if len(live) > free:
            text = ngettext(
                "The domain %(domain)s may have %(limit)s alias: this file adds %(new)s "
                "with %(free)s free.",
                "The domain %(domain)s may have %(limit)s aliases: this file adds %(new)s "
                "with %(free)s free.",
                domain.aliases,
            ) % {"domain": name, "limit": domain.aliases, "new": len(live), "free": free}
            for row in live:
                row.refuse(text)
    return ImportPlan(kind="aliases", rows=plans)


DOMAIN_NUMBERS = ("aliases", "mailboxes", "maxquota", "quota")
DOMAIN_FLAGS = ("backupmx", "active")


def plan_domains(user: Any, data: CsvRows) -> ImportPlan:
    """Plan a domain import (super admins): domain, and optionally description, aliases,
    mailboxes, maxquota, quota (MB), transport, backupmx, active."""
    has = set(data.columns)
    plans: list[RowPlan] = []
    seen: dict[str, int] = {}
    superadmin = user is None or is_superadmin(user)
    for number, cells in data.rows:
        row = RowPlan(number=number, key=cells.get("domain", ""))
        plans.append(row)
        try:
            row.key = normalize_domain(cells["domain"])
        except ValidationError as exc:
            row.refuse(_message(exc))
            continue
        if _seen_twice(seen, row):
            continue
        try:
            if not superadmin:
                raise ValidationError(_("Only super admins import domains."))
            values: dict[str, Any] = {}
            for name in DOMAIN_NUMBERS:
                number_value = _number(cells.get(name, ""), name)
                if number_value is not None:
                    values[name] = number_value
            for name in DOMAIN_FLAGS:
                flag = _flag(cells.get(name, ""), name)
                if flag is not None:
                    values[name] = flag
            for name in ("description", "transport"):
                if name in has:
                    values[name] = cells[name]
            row.values = values
            domain = Domain.objects.filter(domain=row.key).first()
            if domain is None:
                row.status = CREATE
            else:
                row.changes = [
                    name
                    for name, value in values.items()
                    if value != (getattr(domain, name) or ("" if isinstance(value, str) else 0))
                ]
                row.status = UPDATE if row.changes else UNCHANGED
        except ValidationError as exc:
            row.refuse(_message(exc))
    return ImportPlan(kind="domains", rows=plans)


def plan_import(user: Any, kind: str, data: CsvRows) -> ImportPlan:
    """Return the dry run of importing `data` as `kind` for this admin."""
    planner = {"mailboxes": plan_mailboxes, "aliases": plan_aliases, "domains": plan_domains}
    return planner[kind](user, data)
