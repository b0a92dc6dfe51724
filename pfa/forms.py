"""The log page's filters; every choice is limited to what the user may see."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.forms import scoped_domain_field, scoped_domain_names
from pfa.audit import ACTIONS


def action_label(action: str) -> str:
    """Turn a Postfix Admin action key into words: edit_alias_state -> Edit alias state."""
    return action.replace("_", " ").capitalize()


class LogFilterForm(forms.Form):
    """Narrow the log by domain, admin, action and date."""

    admin = forms.CharField(
        label=_("Admin"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"] = scoped_domain_field(
            user,
            scoped_domain_names(user),
            label=_("Domain"),
            required=False,
            blank=_("All domains"),
        )
        self.order_fields(["domain"])
        self.fields["action"].choices = [
            ("", _("All actions")),
            *((key, action_label(key)) for key in sorted(ACTIONS)),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(_("The start date is after the end date."))
        return data
