"""Mailbox forms: they validate input and scope every choice; the services write."""

from __future__ import annotations

import datetime
import json
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from accounts.scoping import is_superadmin
from aliases.forms import MAX_DESTINATIONS_TEXT, LocalPartField, clean_destinations
from core.forms import (
    DomainChoiceField,
    ListFilterForm,
    PasswordPairMixin,
    StyledForm,
    password_field,
    scoped_domain_field,
)
from mail.names import normalize_address, validate_one_line
from mail.quota import parse_quota, quota_help
from mailboxes.services import mailbox_create_problems

MAX_RECIPIENTS = 20


class QuotaField(forms.CharField):
    """A quota in MB or with a unit ("500", "500M", "2G", "0"), cleaned to bytes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Quota"))
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        return parse_quota(text)


class PasswordFieldsMixin(PasswordPairMixin, StyledForm):
    """A password typed twice, with a server-generated suggestion shown next to it."""

    password_fields = ("password", "password_confirm")
    keep_passwords = True
    show_password_rules = True

    password = password_field(_("Password"))
    password_confirm = password_field(_("Password (again)"))


class MailboxFilterForm(ListFilterForm):
    """Search and domain filter of the mailbox list (bound to the query string)."""


class MailboxCreateForm(PasswordFieldsMixin):
    """Create a mailbox in one of the user's domains."""

    field_order = [
        "domain",
        "local_part",
        "name",
        "invite",
        "password",
        "password_confirm",
        "quota",
        "email_other",
        "send_welcome",
        "override_limits",
    ]

    domain = forms.Field()  # replaced in __init__ by the scoped choice field
    local_part = LocalPartField(help_text=_("The part before the @."))
    name = forms.CharField(
        label=_("Name"), required=False, max_length=255, validators=[validate_one_line]
    )
    quota = QuotaField(required=False)
    email_other = forms.CharField(
        label=_("Alternative e-mail"),
        required=False,
        max_length=255,
        help_text=_("Another address of the owner, e.g. for the settings e-mail."),
    )
    send_welcome = forms.BooleanField(
        label=_("Send the welcome e-mail"), required=False, initial=True
    )
    override_limits = forms.BooleanField(
        label=_("Override domain limits"),
        required=False,
        help_text=_("Super admins only: ignore the domain's mailbox count and quota limits."),
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        initial_domain: str = "",
        default_quota: str = "",
        default_quotas: dict[str, str] | None = None,
        domain_notes: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"] = scoped_domain_field(user, initial=initial_domain)
        self.offer_invite(
            _(
                "Instead of a password, mail a one-time link to the alternative address; "
                "the mailbox cannot be used until its owner has chosen a password."
            )
        )
        if isinstance(self.fields["domain"], DomainChoiceField):
            # Each domain's mailboxes against its limit, before the form is filled in.
            self.fields["domain"].notes = domain_notes
        if default_quotas is not None:
            # js/vimbadmin.js re-fills the quota with the picked domain's default (unless typed).
            attrs = self.fields["domain"].widget.attrs
            attrs["data-default-quotas"] = json.dumps(default_quotas, sort_keys=True)
            attrs["data-quota-field"] = "id_quota"
        self.order_fields(self.field_order)
        if default_quota:
            self.fields["quota"].initial = default_quota
        self.fields["quota"].help_text = _("%(help)s Empty: the domain's default.") % {
            "help": quota_help()
        }
        if not is_superadmin(user):
            del self.fields["override_limits"]
        self.user = user
        self.style_widgets()

    def clean_email_other(self) -> str:
        value = self.cleaned_data["email_other"].strip()
        return normalize_address(value) if value else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        domain = data.get("domain")
        if domain is None:
            return data
        # Every refusal the service would make, in this round (limits, address, quota, policy).
        first = self.password_fields[0]
        # An invitation sets no typed password: nothing to check against the policy.
        typed = first in data and self.passwords_match() and not data.get("invite")
        errors, _username = mailbox_create_problems(
            actor=self.user,
            domain=domain,
            local_part=data.get("local_part", ""),
            password=data[first] if typed else None,
            name=data.get("name", ""),
            quota_bytes=data.get("quota"),
            override_limits=data.get("override_limits", False),
        )
        for field, messages in errors.items():
            if field in self.errors:
                continue  # the field's own check already said what is wrong
            self.add_error(field if field in self.fields else "domain", messages)
        return data


class MailboxForm(StyledForm):
    """Change a mailbox's name, quota, alternative address and (where it exists) SMTP switch."""

    name = forms.CharField(
        label=_("Name"), required=False, max_length=255, validators=[validate_one_line]
    )
    quota = QuotaField(required=True)
    email_other = forms.CharField(label=_("Alternative e-mail"), required=False, max_length=255)
    smtp_active = forms.BooleanField(
        label=_("May send mail (SMTP)"),
        required=False,
        help_text=_("Off: the mailbox still receives and reads mail but cannot send."),
    )
    override_limits = forms.BooleanField(
        label=_("Override domain limits"),
        required=False,
        help_text=_("Super admins only: ignore the domain's quota limits."),
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        smtp_active: bool | None,
        unlimited_allowed: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quota"].help_text = quota_help(unlimited=unlimited_allowed)
        if smtp_active is None:
            # The database has no smtp_active column (Postfix Admin before 4.0).
            del self.fields["smtp_active"]
        if not is_superadmin(user):
            del self.fields["override_limits"]

    def clean_email_other(self) -> str:
        value = self.cleaned_data["email_other"].strip()
        return normalize_address(value) if value else ""


class MailboxPasswordForm(PasswordFieldsMixin):
    """Set a mailbox's password, checked against the policy for that mailbox."""

    def __init__(self, *args: Any, mailbox: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox

    def policy_user(self) -> Any:
        return self.mailbox


class ForwardingForm(StyledForm):
    """Forward a mailbox's mail, keeping a copy in the mailbox or not."""

    targets = forms.CharField(
        label=_("Forward to"),
        required=False,
        max_length=MAX_DESTINATIONS_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One address per line. Leave empty to stop forwarding."),
    )
    keep_copy = forms.BooleanField(
        label=_("Keep a copy in the mailbox"), required=False, initial=True
    )

    def clean_targets(self) -> list[str]:
        return clean_destinations(self.cleaned_data["targets"], required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "targets" in data and not data["targets"] and not data.get("keep_copy"):
            self.add_error(
                "keep_copy", _("Without forwarding addresses the mailbox must keep its mail.")
            )
        return data


class SettingsEmailForm(StyledForm):
    """Choose who receives a mailbox's client settings."""

    to_mailbox = forms.BooleanField(label=_("To the mailbox"), required=False, initial=True)
    to_other = forms.BooleanField(label=_("To its alternative address"), required=False)
    extra = forms.CharField(
        label=_("To these addresses"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line or separated by commas."),
    )

    def __init__(self, *args: Any, mailbox: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        if not mailbox.email_other:
            del self.fields["to_other"]
        else:
            self.fields["to_other"].label = _("To its alternative address (%(address)s)") % {
                "address": mailbox.email_other
            }

    def clean_extra(self) -> list[str]:
        addresses = clean_destinations(
            self.cleaned_data["extra"], required=False, normalize=normalize_address
        )
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(
                ngettext(
                    "Enter at most %(count)d address.",
                    "Enter at most %(count)d addresses.",
                    MAX_RECIPIENTS,
                )
                % {"count": MAX_RECIPIENTS}
            )
        return addresses

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        recipients: list[str] = []
        if data.get("to_mailbox"):
            recipients.append(self.mailbox.username)
        if data.get("to_other") and self.mailbox.email_other:
            recipients.append(self.mailbox.email_other)
        for address in data.get("extra") or []:
            if address not in recipients:
                recipients.append(address)
        if not recipients and not self.errors:
            raise ValidationError(_("Choose at least one recipient."), code="required")
        data["recipients"] = recipients
        return data


# Vacation auto-reply (the owner's page and the admin's mailbox page share this form) -------

INTERVAL_CHOICES = [
    ("0", _("Once per sender for the whole absence")),
    ("86400", _("At most once a day per sender")),
    ("604800", _("At most once a week per sender")),
    ("custom", _("Every … hours per sender")),
]
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def time_zone_choices() -> list[tuple[str, str]]:
    """Return every IANA time zone name, sorted, as choices."""
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class LocalDateTimeField(forms.CharField):
    """A date and time as typed in a time zone the form names (`datetime-local` input)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT)

    def clean(self, value: Any) -> Any:
        text = super().clean(value).strip()
        for pattern in (LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(text, pattern)  # noqa: DTZ007 (zone added later)
            except ValueError:
                continue
        raise ValidationError(_("Enter a date and time."), code="invalid")


class VacationForm(StyledForm):
    """Switch the auto-reply on or off and say what, when and how often it answers."""

    active = forms.BooleanField(label=_("Send an automatic reply"), required=False)
    subject = forms.CharField(
        label=_("Subject"), max_length=255, validators=[validate_one_line], required=True
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Plain text, sent as it is written."),
    )
    activefrom = LocalDateTimeField(label=pgettext_lazy("start of a date range", "From"))
    activeuntil = LocalDateTimeField(label=pgettext_lazy("end of a date range", "Until"))
    time_zone = forms.ChoiceField(label=_("Time zone of these dates"))
    interval = forms.ChoiceField(
        label=pgettext_lazy("how often the automatic reply is sent", "Reply"),
        choices=INTERVAL_CHOICES,
    )
    interval_hours = forms.IntegerField(
        label=_("Hours between replies to the same sender"),
        required=False,
        min_value=0,
        max_value=87600,
        help_text=_('Only with "Every … hours"; 0 replies once.'),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = time_zone_choices()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        zone_name = data.get("time_zone")
        if zone_name:
            zone = zoneinfo.ZoneInfo(zone_name)
            for name in ("activefrom", "activeuntil"):
                if data.get(name) is not None:
                    data[name] = data[name].replace(tzinfo=zone)
        interval = data.get("interval")
        if interval == "custom":
            hours = data.get("interval_hours")
            if hours is None:
                if "interval_hours" not in self.errors:
                    self.add_error("interval_hours", _("Enter the number of hours."))
            else:
                data["interval_time"] = hours * 3600
        elif interval is not None:
            data["interval_time"] = int(interval)
        return data


def vacation_initial(row: Any, zone_name: str) -> dict[str, Any]:
    """Return the form's initial values for a stored vacation row (or a new one)."""
    zone = zoneinfo.ZoneInfo(zone_name)
    now = timezone.now().astimezone(zone).replace(second=0, microsecond=0)
    if row is None:
        return {
            "active": True,
            "subject": _("Out of office"),
            "body": "",
            "activefrom": now.strftime(LOCAL_INPUT_FORMAT),
            "activeuntil": (now + datetime.timedelta(days=7)).strftime(LOCAL_INPUT_FORMAT),
            "time_zone": zone_name,
            "interval": "0",
        }
    interval = str(row.interval_time)
    known = {value for value, _label in INTERVAL_CHOICES}
    start = row.activefrom or now
    end = row.activeuntil or now
    return {
        "active": row.active,
        "subject": row.subject,
        "body": row.body,
        "activefrom": start.astimezone(zone).strftime(LOCAL_INPUT_FORMAT),
        "activeuntil": end.astimezone(zone).strftime(LOCAL_INPUT_FORMAT),
        "time_zone": zone_name,
        "interval": interval if interval in known else "custom",
        "interval_hours": None if interval in known else row.interval_time // 3600,
    }
