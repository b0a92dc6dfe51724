"""The form an admin creates an API token with (the service checks the rules)."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import StyledForm

LIFETIMES = [
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
    ("never", _("Never expires")),
]


class ApiTokenForm(StyledForm):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “billing”.")
    )
    lifetime = forms.ChoiceField(label=_("Expires after"), choices=LIFETIMES, initial="90")
    read_only = forms.BooleanField(label=_("Read-only"), required=False)
    domains = forms.CharField(
        label=_("Only these domains"),
        required=False,
        help_text=_("Domain names separated by commas or spaces; empty: all your domains."),
    )

    def expires(self) -> datetime.datetime | None:
        """Return when the token expires, per the chosen lifetime."""
        lifetime = self.cleaned_data["lifetime"]
        if lifetime == "never":
            return None
        return timezone.now() + datetime.timedelta(days=int(lifetime))

    def domain_names(self) -> list[str]:
        """Return the typed domain names."""
        return self.cleaned_data["domains"].replace(",", " ").split()
