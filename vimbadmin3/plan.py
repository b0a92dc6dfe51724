"""What a ViMbAdmin 3 import would do: rows translated into Postfix Admin's meaning and units,
and compared with what the target database holds already (new, identical, different, conflict).

Reads only. The translations:

- domain.max_quota (bytes, a per-mailbox ceiling) -> domain.maxquota in MB, rounded up so no
  imported mailbox passes it; domain.quota (bytes, the default for new mailboxes) -> the
  project's default mailbox quota in MB; counts are copied (0 = unlimited in both).
- mailbox.quota is bytes in both schemas and is copied exactly; alt_email -> email_other.
- mailbox.password gets the {SCHEME} prefix ViMbAdmin's configured scheme implies
  (mail.passwords.vimbadmin_mailbox_hash); admin bcrypt hashes become {BLF-CRYPT}.
- mailbox.maildir (a Dovecot location) and homedir -> a maildir relative to one mail root and
  one mail_location for everybody who follows the common template; a mailbox that does not
  keeps its own home and location (vimbadmin3.models.MailboxLocation).
- an alias `@a -> @b` between two domains -> an alias_domain row.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.models import Admin
from aliases.models import Alias
from domains.models import ALL_DOMAINS, AliasDomain, Domain, DomainAdmin, DomainSettings
from mail import passwords
from mail.quota import multiplier
from mailboxes.models import Mailbox
from vimbadmin3.models import KeptRow as KeptModel
from vimbadmin3.source import Source, VAdmin, VAlias, VDomain, VLog, VMailbox

NEW, IDENTICAL, DIFFERENT, CONFLICT = "new", "identical", "different", "conflict"
# Addresses per IN list (SQLite takes at most 32,766 parameters).
CHUNK = 1000


def bytes_to_mb(value: int, *, up: bool) -> tuple[int, bool]:
    """Return bytes as the project's MB (rounded up or down) and whether that was exact."""
    if value <= 0:
        return 0, True
    unit = multiplier()
    whole, rest = divmod(value, unit)
    return (whole + (1 if up and rest else 0)) or (1 if up else 0), rest == 0


def aware(value: datetime.datetime | None) -> datetime.datetime:
    """Return a ViMbAdmin DATETIME (stored naive, in UTC here) as an aware one; now if NULL."""
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        return value.replace(tzinfo=datetime.UTC)
    return value


# --------------------------------------------------------------------------------------------
# Mail locations


@dataclass(frozen=True)
class Location:
    """Where a mailbox's mail is: the template it follows, or its own home and location."""

    maildir: str  # Postfix Admin's maildir: relative to the mail root, ending in "/"
    template: tuple[str, str] | None  # (mail root, mail_location relative to the home)
    home: str
    mail: str


def locate(mailbox: VMailbox, domain: str) -> Location:
    """Translate a mailbox's homedir and Dovecot location string into this project's terms."""
    local = mailbox.local_part or mailbox.username.partition("@")[0]
    home = mailbox.homedir.rstrip("/")
    location = mailbox.maildir.strip()
    relative = ""
    root = ""
    for tail in (f"{domain}/{local}", f"{domain}/{mailbox.username}"):
        if home.endswith("/" + tail):
            root, relative = home[: -len(tail) - 1], tail + "/"
            break
    kind, _, rest = location.partition(":")
    path, _, options = rest.partition(":")
    inside = ""
    if home and (path == home or path.startswith(home + "/")):
        inside = "~/" + path[len(home) :].strip("/")
        if inside != "~/":
            inside = inside.rstrip("/")
    if root and kind and inside:
        mail = f"{kind}:{inside}" + (f":{options}" if options else "")
        return Location(relative, (root or "/", mail), home, location)
    own = relative or f"{domain}/{local}/"
    return Location(own, None, home or "", location)


def common_template(locations: list[Location]) -> tuple[str, str] | None:
    """Return the template most mailboxes follow (the one mailconfig will be given)."""
    found = Counter(loc.template for loc in locations if loc.template is not None)
    return found.most_common(1)[0][0] if found else None


# --------------------------------------------------------------------------------------------
# The plan


@dataclass
class Item:
    kind: str
    key: str
    state: str
    detail: str = ""


@dataclass
class MailboxRow:
    source: VMailbox
    local_part: str
    password: str
    scheme: str
    location: Location
    own_location: bool
    forward: list[str]
    keep_copy: bool
    state: str = NEW


@dataclass
class AliasRow:
    source: VAlias
    local_part: str
    targets: list[str]
    state: str = NEW


@dataclass
class DomainPlan:
    source: VDomain
    state: str
    values: dict[str, Any]
    mailboxes: list[MailboxRow] = field(default_factory=list)
    aliases: list[AliasRow] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source.domain


@dataclass
class AliasDomainRow:
    source: VAlias
    alias_domain: str
    target_domain: str
    state: str = NEW


@dataclass
class AdminRow:
    source: VAdmin
    password: str
    domains: list[str]
    state: str = NEW
    detail: str = ""


@dataclass(frozen=True)
class LogRow:
    """A ViMbAdmin log row in Postfix Admin's terms."""

    source_id: int
    timestamp: datetime.datetime
    username: str
    domain: str
    action: str
    data: str


@dataclass(frozen=True)
class KeptRow:
    """A preference or archive row to keep whole, with the name of what it belonged to."""

    table: str
    source_id: int
    owner: str
    values: dict[str, str | None]


# ViMbAdmin's log actions (Entities/Log.php) as Postfix Admin's action keys.
LOG_ACTIONS = {
    "DOMAIN_ADD": "create_domain",
    "DOMAIN_EDIT": "edit_domain",
    "DOMAIN_ACTIVATE": "edit_domain",
    "DOMAIN_DEACTIVATE": "edit_domain",
    "MAILBOX_ADD": "create_mailbox",
    "MAILBOX_EDIT": "edit_mailbox",
    "MAILBOX_ACTIVATE": "edit_mailbox_state",
    "MAILBOX_DEACTIVATE": "edit_mailbox_state",
    "MAILBOX_PURGE": "delete_mailbox",
    "MAILBOX_PW_CHANGE": "edit_password",
    "ALIAS_ADD": "create_alias",
    "ALIAS_EDIT": "edit_alias",
    "ALIAS_ACTIVATE": "edit_alias_state",
    "ALIAS_DEACTIVATE": "edit_alias_state",
    "ALIAS_DELETE": "delete_alias",
    "ADMIN_ADD": "create_admin",
    "ADMIN_ACTIVE": "edit_admin",
    "ADMIN_DEACTIVE": "edit_admin",
    "ADMIN_SUPER": "edit_admin",
    "ADMIN_NORMAL": "edit_admin",
    "ADMIN_PURGE": "delete_admin",
    "ADMIN_PW_CHANGE": "edit_password",
    "ADMIN_TO_DOMAIN_ADD": "edit_admin",
    "ADMIN_TO_DOMAIN_REMOVE": "edit_admin",
    # Archiving purges the mailbox at once; cancelling the request re-creates it.
    "ARCHIVE_REQUEST": "delete_mailbox",
    "ARCHIVE_REQUEST_CANCEL": "create_mailbox",
    "ARCHIVE_RESTORE_CANCEL": "edit_mailbox",
    "ARCHIVE_DELETE_CANCEL": "edit_mailbox",
}
# Who wrote an imported log row, in Postfix Admin's "<login> (<client address>)" layout: ViMbAdmin
# kept no address.
IMPORTED_FROM = "ViMbAdmin 3"


def log_row(v: VLog, *, admins: dict[int, str], domains: dict[int, str]) -> LogRow:
    """Map a ViMbAdmin log row: action key, admin and domain names; the original text in data."""
    domain = domains.get(v.domain_id, "") if v.domain_id is not None else ""
    admin = admins.get(v.admin_id, "") if v.admin_id is not None else ""
    action = LOG_ACTIONS.get(v.action.upper()) or ("edit_domain" if domain else "edit_admin")
    return LogRow(
        v.id,
        aware(v.timestamp),
        f"{admin or 'unknown'} ({IMPORTED_FROM})",
        domain,
        action,
        f"{v.action}: {v.data}",
    )


@dataclass
class Plan:
    source: Source
    scheme: tuple[str, ...]
    domains: list[DomainPlan]
    alias_domains: list[AliasDomainRow]
    admins: list[AdminRow]
    template: tuple[str, str] | None
    schemes: Counter[str]
    templates: Counter[str]
    problems: list[str]
    # Log rows and kept rows (preferences, archive) not imported yet, with their domain ("" for
    # none) so that a domain that fails keeps its own for the next run.
    logs: list[tuple[str, LogRow]] = field(default_factory=list)
    kept: list[tuple[str, KeptRow]] = field(default_factory=list)

    def mailconfig_arguments(self) -> list[str]:
        """Return the `mailconfig dovecot` options that find every imported mailbox's mail."""
        rows = [row for d in self.domains for row in d.mailboxes]
        if not rows:
            return []
        args = []
        if self.template is not None:
            args += ["--mail-root", self.template[0], "--mail-location", self.template[1]]
        owners = Counter((r.source.uid, r.source.gid) for r in rows if r.source.uid is not None)
        if owners:
            (uid, gid), _count = owners.most_common(1)[0]
            args += ["--uid", str(uid), "--gid", str(gid if gid is not None else uid)]
        if any(row.own_location for row in rows):
            args.append("--mailbox-locations")
        return args

    def counts(self) -> dict[str, Counter[str]]:
        """Return per kind how many items are new, identical, different or in conflict."""
        out: dict[str, Counter[str]] = {}
        for d in self.domains:
            for item in d.items:
                out.setdefault(item.kind, Counter())[item.state] += 1
        for ad in self.alias_domains:
            out.setdefault("alias domain", Counter())[ad.state] += 1
        for a in self.admins:
            out.setdefault("admin", Counter())[a.state] += 1
        return out


def _split_goto(goto: str) -> list[str]:
    return [t.strip().lower() for t in goto.replace("\n", ",").split(",") if t.strip()]


def _differences(pairs: dict[str, tuple[object, object]]) -> str:
    return ", ".join(name for name, (have, want) in pairs.items() if have != want)


def build(
    source: Source,
    *,
    scheme: tuple[str, ...],
    salt: str | None,
    only: set[str] | None = None,
) -> Plan:
    """Translate the source and compare it with the target database; write nothing."""
    names = source.domain_names()
    selected = [d for d in source.domains if only is None or d.domain in only]
    wanted = {d.domain for d in selected}
    by_domain: dict[str, list[VMailbox]] = {}
    for m in source.mailboxes:
        name = names.get(m.domain_id) if m.domain_id is not None else None
        by_domain.setdefault(name or m.username.partition("@")[2], []).append(m)
    aliases_by_domain: dict[str, list[VAlias]] = {}
    for a in source.aliases:
        name = names.get(a.domain_id) if a.domain_id is not None else None
        aliases_by_domain.setdefault(name or a.address.partition("@")[2], []).append(a)

    locations = {m.username: locate(m, d) for d in wanted for m in by_domain.get(d, [])}
    template = common_template(list(locations.values()))
    templates: Counter[str] = Counter(
        f"{loc.template[0]} + {loc.template[1]}" if loc.template else f"own: {loc.mail}"
        for loc in locations.values()
    )

    existing_domains = {d.domain: d for d in Domain.objects.filter(domain__in=wanted)}
    settings_rows = {
        s.domain_id: s.default_mailbox_quota
        for s in DomainSettings.objects.filter(domain_id__in=wanted)
    }
    existing_mailboxes = {m.username: m for m in Mailbox.objects.filter(domain_id__in=wanted)}
    source_addresses = {m.username for d in wanted for m in by_domain.get(d, [])} | {
        a.address for d in wanted for a in aliases_by_domain.get(d, [])
    }
    addresses = sorted(source_addresses)
    existing_aliases = {
        a.address: a
        for start in range(0, len(addresses), CHUNK)
        for a in Alias.objects.filter(address__in=addresses[start : start + CHUNK])
    }
    all_domain_names = {d.domain for d in source.domains}

    schemes: Counter[str] = Counter()
    plans: list[DomainPlan] = []
    alias_domains: list[AliasDomainRow] = []
    for vd in selected:
        plans.append(
            _domain_plan(
                vd,
                mailboxes=by_domain.get(vd.domain, []),
                aliases=aliases_by_domain.get(vd.domain, []),
                existing=existing_domains.get(vd.domain),
                default_quota=settings_rows.get(vd.domain),
                existing_mailboxes=existing_mailboxes,
                existing_aliases=existing_aliases,
                scheme=scheme,
                salt=salt,
                locations=locations,
                template=template,
                schemes=schemes,
                all_domains=all_domain_names,
                alias_domains=alias_domains,
            )
        )
    _compare_alias_domains(alias_domains)
    admins = _admin_rows(source, names)
    problems = [p for d in plans for p in d.problems]
    plan = Plan(
        source, scheme, plans, alias_domains, admins, template, schemes, templates, problems
    )
    _history(plan, source, names, wanted, whole=only is None)
    return plan


def _history(
    plan: Plan, source: Source, names: dict[int, str], wanted: set[str], *, whole: bool
) -> None:
    """Add the log rows and the preference and archive rows not imported by an earlier run."""
    done = set(KeptModel.objects.values_list("source_table", "source_id"))
    admins = {a.id: a.username for a in source.admins}
    for v in source.logs:
        row = log_row(v, admins=admins, domains=names)
        if ("log", v.id) not in done and (row.domain in wanted or (whole and not row.domain)):
            plan.logs.append((row.domain, row))
    mailboxes = {m.id: (m.username, names.get(m.domain_id or 0, "")) for m in source.mailboxes}
    aliases = {a.id: (a.address, names.get(a.domain_id or 0, "")) for a in source.aliases}
    for k in source.kept:
        if (k.table, k.id) in done:
            continue
        owner_id = k.owner_id or 0
        if k.table == "admin_pref":
            owner, domain = admins.get(owner_id, ""), ""
        elif k.table == "mailbox_pref":
            owner, domain = mailboxes.get(owner_id, ("", ""))
        elif k.table == "alias_pref":
            owner, domain = aliases.get(owner_id, ("", ""))
        elif k.table == "archive":
            owner, domain = str(k.values.get("username") or ""), names.get(owner_id, "")
        else:
            owner = domain = names.get(owner_id, "")
        if domain in wanted or (whole and not domain):
            plan.kept.append((domain, KeptRow(k.table, k.id, owner, k.values)))


def _domain_values(vd: VDomain) -> tuple[dict[str, Any], list[str]]:
    maxquota, exact_max = bytes_to_mb(vd.max_quota, up=True)
    default, exact_default = bytes_to_mb(vd.quota, up=False)
    notes = []
    if not exact_max:
        notes.append(f"max_quota {vd.max_quota} bytes rounded up to {maxquota} MB")
    if not exact_default:
        notes.append(f"default quota {vd.quota} bytes rounded down to {default} MB")
    values: dict[str, Any] = {
        "description": vd.description,
        "aliases": vd.max_aliases,
        "mailboxes": vd.max_mailboxes,
        "maxquota": maxquota,
        "quota": 0,
        "default_mailbox_quota": default,
        "transport": vd.transport or "virtual",
        "backupmx": vd.backupmx,
        "active": vd.active,
    }
    return values, notes


def _domain_plan(
    vd: VDomain,
    *,
    mailboxes: list[VMailbox],
    aliases: list[VAlias],
    existing: Domain | None,
    default_quota: int | None,
    existing_mailboxes: dict[str, Mailbox],
    existing_aliases: dict[str, Alias],
    scheme: tuple[str, ...],
    salt: str | None,
    locations: dict[str, Location],
    template: tuple[str, str] | None,
    schemes: Counter[str],
    all_domains: set[str],
    alias_domains: list[AliasDomainRow],
) -> DomainPlan:
    values, notes = _domain_values(vd)
    if existing is None:
        state = NEW
        detail = ""
    else:
        have = {
            "description": existing.description,
            "aliases": existing.aliases,
            "mailboxes": existing.mailboxes,
            "maxquota": existing.maxquota,
            "quota": existing.quota,
            "default_mailbox_quota": default_quota,
            "transport": existing.transport,
            "backupmx": existing.backupmx,
            "active": existing.active,
        }
        detail = _differences({k: (have[k], values[k]) for k in values})
        state = DIFFERENT if detail else IDENTICAL
    plan = DomainPlan(vd, state, values, notes=notes)
    plan.items.append(Item("domain", vd.domain, state, detail))
    mailbox_names = {m.username for m in mailboxes}
    own_aliases = {a.address: a for a in aliases if a.address in mailbox_names}
    for vm in mailboxes:
        plan.mailboxes.append(
            _mailbox_row(
                vm,
                plan,
                own_alias=own_aliases.get(vm.username),
                existing=existing_mailboxes.get(vm.username),
                alias=existing_aliases.get(vm.username),
                scheme=scheme,
                salt=salt,
                location=locations[vm.username],
                template=template,
                schemes=schemes,
            )
        )
    for va in aliases:
        if va.address in mailbox_names:
            continue
        targets = _split_goto(va.goto)
        local, _, domain = va.address.rpartition("@")
        if (
            not local
            and len(targets) == 1
            and targets[0].startswith("@")
            and targets[0][1:] in all_domains
            and targets[0][1:] != domain
        ):
            alias_domains.append(AliasDomainRow(va, domain, targets[0][1:]))
            continue
        plan.aliases.append(
            _alias_row(
                va, plan, local, targets, existing_aliases.get(va.address), existing_mailboxes
            )
        )
    return plan


def _mailbox_row(
    vm: VMailbox,
    plan: DomainPlan,
    *,
    own_alias: VAlias | None,
    existing: Mailbox | None,
    alias: Alias | None,
    scheme: tuple[str, ...],
    salt: str | None,
    location: Location,
    template: tuple[str, str] | None,
    schemes: Counter[str],
) -> MailboxRow:
    try:
        hashed = passwords.vimbadmin_mailbox_hash(vm.password, scheme, salt=salt)
    except ValueError as exc:
        plan.problems.append(
            f"{plan.name}: the password of {vm.username} cannot be read ({exc}); check "
            "--password-scheme against ViMbAdmin's defaults.mailbox.password_scheme."
        )
        hashed = ""
    label = passwords.vimbadmin_scheme_label(hashed) if hashed else "unreadable"
    schemes[label] += 1
    targets = _split_goto(own_alias.goto) if own_alias else [vm.username]
    keep = vm.username in targets
    forward = [t for t in targets if t != vm.username]
    own_location = location.template is None or location.template != template
    row = MailboxRow(
        vm,
        vm.local_part or vm.username.partition("@")[0],
        hashed,
        label,
        location,
        own_location,
        forward,
        keep or not forward,
    )
    if existing is None and alias is not None:
        row.state = CONFLICT
        plan.problems.append(
            f"{plan.name}: {vm.username} is an alias in this database but a mailbox in "
            "ViMbAdmin; delete the alias here (or the mailbox there) and run the import again."
        )
    elif existing is not None:
        detail = _differences(
            {
                "password": (existing.password, hashed),
                "name": (existing.name, vm.name),
                "quota": (existing.quota, vm.quota),
                "email_other": (existing.email_other, vm.alt_email.lower()),
                "active": (existing.active, vm.active),
                "maildir": (existing.maildir, location.maildir),
            }
        )
        row.state = DIFFERENT if detail else IDENTICAL
        plan.items.append(Item("mailbox", vm.username, row.state, detail))
        return row
    plan.items.append(Item("mailbox", vm.username, row.state))
    return row


def _alias_row(
    va: VAlias,
    plan: DomainPlan,
    local: str,
    targets: list[str],
    existing: Alias | None,
    existing_mailboxes: dict[str, Mailbox],
) -> AliasRow:
    row = AliasRow(va, local, targets)
    if va.address in existing_mailboxes:
        row.state = CONFLICT
        plan.problems.append(
            f"{plan.name}: {va.address} is a mailbox in this database but an alias in "
            "ViMbAdmin; delete one of them and run the import again."
        )
        plan.items.append(Item("alias", va.address, CONFLICT))
        return row
    if existing is not None:
        have = sorted(_split_goto(existing.goto))
        detail = _differences(
            {"goto": (have, sorted(targets)), "active": (existing.active, va.active)}
        )
        row.state = DIFFERENT if detail else IDENTICAL
        plan.items.append(Item("alias", va.address, row.state, detail))
        return row
    plan.items.append(Item("alias", va.address, NEW))
    return row


def _compare_alias_domains(rows: list[AliasDomainRow]) -> None:
    existing = {
        a.alias_domain_id: a
        for a in AliasDomain.objects.filter(alias_domain_id__in=[r.alias_domain for r in rows])
    }
    for row in rows:
        have = existing.get(row.alias_domain)
        if have is None:
            continue
        same = have.target_domain_id == row.target_domain and have.active == row.source.active
        row.state = IDENTICAL if same else DIFFERENT


def admin_hash(stored: str) -> str:
    """Return a ViMbAdmin admin hash (bcrypt, no prefix) with the prefix Dovecot names it by."""
    if stored.startswith(("$2", "$argon2")):
        return passwords.vimbadmin_mailbox_hash(stored, ("crypt:blowfish",))
    return stored


def _admin_rows(source: Source, names: dict[int, str]) -> list[AdminRow]:
    links: dict[int, list[str]] = {}
    for admin_id, domain_id in source.domain_admins:
        if domain_id in names:
            links.setdefault(admin_id, []).append(names[domain_id])
    existing = {
        a.username: a
        for a in Admin.objects.filter(username__in=[a.username for a in source.admins])
    }
    assigned: dict[str, set[str]] = {}
    for link in DomainAdmin.objects.filter(username_id__in=list(existing)).exclude(
        domain_id=ALL_DOMAINS
    ):
        assigned.setdefault(link.username_id, set()).add(link.domain_id)
    supers = set(
        DomainAdmin.objects.filter(
            username_id__in=list(existing), domain_id=ALL_DOMAINS
        ).values_list("username_id", flat=True)
    )
    rows = []
    for va in source.admins:
        if not va.username:
            continue
        row = AdminRow(va, admin_hash(va.password), sorted(links.get(va.id, [])))
        have = existing.get(va.username)
        if have is not None:
            row.detail = _differences(
                {
                    "password": (have.password, row.password),
                    "super": (have.superadmin and va.username in supers, va.super),
                    "active": (have.active, va.active),
                    "domains": (sorted(assigned.get(va.username, set())), row.domains),
                }
            )
            row.state = DIFFERENT if row.detail else IDENTICAL
        rows.append(row)
    return rows
