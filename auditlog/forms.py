"""The log page's filters: any domain name may be typed, the selector decides what is shown."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import AuthEvent
from accounts.scoping import scoped_domain_names
from mail.names import normalize_domain
from pfa.audit import ACTIONS, action_label

# The id of the <datalist> that suggests the user's domains to the domain field.
DOMAIN_SUGGESTIONS_ID = "log-domain-suggestions"


class LogDomainField(forms.CharField):
    """A domain name typed in Unicode or punycode, cleaned to its stored form.

    Not limited to existing domains: a purged domain's log rows are kept, and a super admin
    filters them by its name. A name that is not a valid domain (an old row's) is compared as
    typed, in lower case. What a domain admin sees of a name is decided by auditlog.selectors.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "class": "form-control",
                    "list": DOMAIN_SUGGESTIONS_ID,
                    "placeholder": _("All domains"),
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        try:
            return normalize_domain(text)
        except ValidationError:
            return text.strip().rstrip(".").lower()


class DateRangeForm(forms.Form):
    """Two optional days, the first not after the second."""

    date_from = forms.DateField(
        label=pgettext_lazy("start of a date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("end of a date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(_("The start date is after the end date."))
        return data


class LogFilterForm(DateRangeForm):
    """Narrow the log by domain, admin, action and date."""

    field_order = ("domain", "admin", "action", "date_from", "date_to")

    domain = LogDomainField(label=_("Domain"), required=False)
    admin = forms.CharField(
        label=_("Admin"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Suggested while typing; past the size of a select, the name is simply typed.
        self.domain_suggestions = scoped_domain_names(user) or []
        if not self.domain_suggestions:
            del self.fields["domain"].widget.attrs["list"]
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("All actions")),
            *((key, action_label(key)) for key in sorted(ACTIONS)),
        ]


class AccessFilterForm(DateRangeForm):
    """Narrow the access log by kind of event, login or client address, and date."""

    field_order = ("kind", "address", "date_from", "date_to")

    kind = forms.ChoiceField(
        label=_("Event"),
        required=False,
        choices=[("", _("All events")), *AuthEvent.Kind.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    address = forms.CharField(
        label=_("Login or client address"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
