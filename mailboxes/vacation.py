"""A mailbox's vacation auto-reply, stored as Postfix Admin stores it.

The `vacation` row holds subject, body, the active window and the reply interval; the mailbox's
own alias row carries the target `local#domain@<VIMBADMIN_VACATION_DOMAIN>` while the reply is
on, which Postfix routes to the auto-responder (`manage.py vacation_deliver`, or Postfix Admin's
own vacation.pl). Switching on or off clears `vacation_notification` for the mailbox, as
Postfix Admin does, so a new absence answers every sender again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Admin
from aliases.models import Alias
from mail.names import one_line_text
from mailboxes.models import Mailbox
from mailboxes.services import check_mailbox_actor
from pfa.audit import log_action
from pfa.goto import parse_goto, vacation_domain, vacation_target, with_vacation
from pfa.models import Vacation, VacationNotification
from pfa.schema import has_column

MAX_SUBJECT = 255
MAX_BODY = 20000
# MySQL's `timestamp` columns end in January 2038 (Postfix Admin's own default end).
LATEST_UNTIL = datetime.datetime(2038, 1, 18, tzinfo=datetime.UTC)
EARLIEST_FROM = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
MAX_INTERVAL = 10 * 365 * 86400
DAY = 86400
WEEK = 7 * DAY


@dataclass(frozen=True)
class VacationState:
    """What the pages show: the stored row (or None) and whether the target is in goto."""

    row: Vacation | None
    routed: bool

    @property
    def is_on(self) -> bool:
        """Tell whether replies go out now or later: row active and target in goto."""
        return self.row is not None and self.row.active and self.routed

    @property
    def has_ended(self) -> bool:
        """Tell whether the vacation is switched on but its window is over (no replies)."""
        until = self.row.activeuntil if self.row is not None else None
        return self.is_on and until is not None and until <= timezone.now()


def vacation_available() -> bool:
    """Tell whether the site names a vacation domain (without one, vacation cannot be set)."""
    return bool(vacation_domain())


def vacation_get(mailbox: Mailbox) -> VacationState:
    """Return the mailbox's vacation row and whether its alias routes mail to the responder."""
    row = Vacation.objects.filter(email=mailbox.username).first()
    alias = Alias.objects.filter(address=mailbox.username).first()
    routed = bool(alias and parse_goto(mailbox.username, alias.goto).vacation)
    return VacationState(row=row, routed=routed)


Window = tuple[datetime.datetime | None, datetime.datetime | None]


def vacation_windows(addresses: list[str]) -> dict[str, Window]:
    """Return, of these mailboxes, the reply window of each whose vacation is switched on.

    On: the row active and the alias routing to the responder, as VacationState.is_on. One
    query for a list page's addresses, the alias's goto read in it beside the row.
    """
    if not addresses:
        return {}
    goto = Alias.objects.filter(address=OuterRef("email")).values("goto")[:1]
    rows = (
        Vacation.objects.filter(email__in=addresses, active=True)
        .annotate(alias_goto=Subquery(goto))
        .values_list("email", "activefrom", "activeuntil", "alias_goto")
    )
    return {
        email: (start, end)
        for email, start, end, alias_goto in rows
        if parse_goto(email, alias_goto or "").vacation
    }


def check_vacation(
    *,
    subject: str,
    body: str,
    activefrom: datetime.datetime,
    activeuntil: datetime.datetime,
    interval_time: int,
) -> str:
    """Validate a vacation; return the subject as stored, or raise field errors."""
    errors: dict[str, list[str]] = {}
    try:
        subject = one_line_text(subject, field="subject").strip()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not subject:
        errors.setdefault("subject", []).append(_("Enter a subject."))
    elif len(subject) > MAX_SUBJECT:
        errors.setdefault("subject", []).append(
            _("The subject can have at most %(max)d characters.") % {"max": MAX_SUBJECT}
        )
    if len(body) > MAX_BODY:
        errors.setdefault("body", []).append(
            _("The message can have at most %(max)d characters.") % {"max": MAX_BODY}
        )
    if "\x00" in body:
        errors.setdefault("body", []).append(_("The message contains a NUL character."))
    if activeuntil <= activefrom:
        errors.setdefault("activeuntil", []).append(_("The end must be after the start."))
    if activefrom < EARLIEST_FROM:
        errors.setdefault("activefrom", []).append(_("The start must be in 2000 or later."))
    if activeuntil > LATEST_UNTIL:
        errors.setdefault("activeuntil", []).append(
            _("The end can be at most 18 January 2038 (a limit of the database).")
        )
    if interval_time < 0:
        errors.setdefault("interval_time", []).append(_("The interval cannot be negative."))
    elif interval_time > MAX_INTERVAL:
        errors.setdefault("interval_time", []).append(_("The interval is too long."))
    if errors:
        raise ValidationError(errors)
    return subject


def _settings_of(row: Vacation | None, alias: Alias | None) -> tuple[object, ...] | None:
    """Return what a vacation edit decides, to tell whether an edit changed anything."""
    if row is None:
        return None
    routed = bool(alias and parse_goto(row.email, alias.goto).vacation)

    def second(value: datetime.datetime | None) -> float | None:
        # The columns may keep whole seconds only (MySQL `timestamp`).
        return None if value is None else float(int(value.timestamp()))

    return (
        bool(row.active),
        routed,
        row.subject,
        row.body,
        second(row.activefrom),
        second(row.activeuntil),
        row.interval_time,
    )


def _insert_row(mailbox: Mailbox) -> None:
    # MySQL's `cache` column has no default; Postfix Admin writes '' there (absent on PostgreSQL).
    quote = connection.ops.quote_name
    columns = ["email", "subject", "body", "domain"]
    values: list[str] = [mailbox.username, "", "", mailbox.domain_id]
    if has_column("vacation", "cache"):
        columns.append("cache")
        values.append("")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote('vacation')} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )


@transaction.atomic
def vacation_set(
    *,
    actor: Admin | str | None,
    mailbox: Mailbox,
    active: bool,
    subject: str,
    body: str,
    activefrom: datetime.datetime,
    activeuntil: datetime.datetime,
    interval_time: int,
) -> Vacation:
    """Store the mailbox's auto-reply and switch its goto target on or off with it."""
    check_mailbox_actor(actor, mailbox)
    subject = check_vacation(
        subject=subject,
        body=body,
        activefrom=activefrom,
        activeuntil=activeuntil,
        interval_time=interval_time,
    )
    if active and not vacation_available():
        raise ValidationError(
            _("Auto-replies are not set up on this server (no vacation domain is configured).")
        )
    alias = Alias.objects.select_for_update().filter(address=mailbox.username).first()
    row = Vacation.objects.select_for_update().filter(email=mailbox.username).first()
    before = _settings_of(row, alias)
    if row is None:
        _insert_row(mailbox)
        row = Vacation.objects.get(email=mailbox.username)
        row.created = timezone.now()
    row.subject = subject
    row.body = body
    row.domain = mailbox.domain_id
    row.activefrom = activefrom
    row.activeuntil = activeuntil
    row.interval_time = interval_time
    row.active = active
    row.modified = timezone.now()
    row.save()
    VacationNotification.objects.filter(on_vacation=mailbox.username).delete()
    if alias is not None:
        target = vacation_target(mailbox.username) if active else None
        goto = with_vacation(mailbox.username, alias.goto, target=target)
        if goto != alias.goto:
            alias.goto = goto
            alias.modified = timezone.now()
            alias.save(update_fields=["goto", "modified"])
    state = "on" if active else "off"
    log_action(
        actor=actor,
        domain=mailbox.domain_id,
        action="edit_vacation",
        data=f"{mailbox.username}: {state}",
    )
    if before != _settings_of(row, alias):
        from mailboxes.emails import send_owner_change_email

        # Whoever changed it, owner or admin: a hijacked session is noticed either way.
        send_owner_change_email(mailbox, what="vacation", by_admin=not isinstance(actor, str))
    return row
