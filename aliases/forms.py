"""Alias forms: they validate input and scope every choice; the services write."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.scoping import is_superadmin
from aliases.selectors import existing_addresses
from aliases.services import alias_create_problems
from core.forms import DomainChoiceField, ListFilterForm, StyledForm, scoped_domain_field
from mail.names import normalize_target

MAX_DESTINATIONS_TEXT = 20000
_SEPARATORS = re.compile(r"[\s,;]+")


def split_destinations(text: str) -> list[str]:
    """Split typed destinations: one per line, or separated by commas, semicolons or spaces."""
    return [item for item in _SEPARATORS.split(text or "") if item]


def clean_destinations(
    text: str, *, required: bool = True, normalize: Callable[[str], str] = normalize_target
) -> list[str]:
    """Return the stored form of every typed destination, each bad one named in the error."""
    cleaned: list[str] = []
    errors: list[ValidationError] = []
    for item in split_destinations(text):
        try:
            value = normalize(item)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if value not in cleaned:
            cleaned.append(value)
    if errors:
        raise ValidationError(errors)
    if required and not cleaned:
        raise ValidationError(_("Enter at least one destination."), code="required")
    return cleaned


DESTINATIONS_HELP = _(
    "One per line (or separated by commas): mailboxes, external addresses, or @otherdomain "
    "to forward a whole domain. A name without @ is an address of the alias's domain "
    '("anna" is anna@ that domain); write root@localhost for a local system user.'
)


def with_domain(text: str, domain: str) -> str:
    """Complete each bare name ("anna") of typed destinations to an address of `domain` when a
    mailbox or alias of that address exists; any other bare name stays a local system user
    ("root"), as Postfix Admin reads it."""
    if not domain:
        return text
    items = split_destinations(text)
    bare = {item: f"{item.lower()}@{domain}" for item in items if "@" not in item}
    if not bare:
        return text
    known = existing_addresses(list(bare.values()))
    return "\n".join(bare[i] if i in bare and bare[i] in known else i for i in items)


class AliasFilterForm(ListFilterForm):
    """Search and filters of the alias list (bound to the query string)."""

    show_mailbox_aliases = forms.BooleanField(label=_("Show mailbox aliases"), required=False)


class LocalPartField(forms.CharField):
    """The part of a new address before the @; the domain is chosen beside it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Local part"))
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if "@" in text:
            raise ValidationError(_("Enter only the part before the @."), code="invalid")
        return text


class AliasCreateForm(StyledForm):
    """Create an alias: domain, local part (empty for the catch-all) and destinations."""

    domain = forms.Field()  # replaced in __init__ by the scoped choice field
    local_part = LocalPartField(
        required=False,
        help_text=_("The part before the @. Leave it empty for the catch-all @domain."),
    )
    targets = forms.CharField(
        label=_("Destinations"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_DESTINATIONS_TEXT,
        help_text=DESTINATIONS_HELP,
    )
    override_limits = forms.BooleanField(
        label=_("Override domain limits"),
        required=False,
        help_text=_("Super admins only: create the alias even if the domain is at its limit."),
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        initial_domain: str = "",
        domain_notes: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["domain"] = scoped_domain_field(user, initial=initial_domain)
        if isinstance(self.fields["domain"], DomainChoiceField):
            # Each domain's aliases against its limit, before the form is filled in.
            self.fields["domain"].notes = domain_notes
        if not is_superadmin(user):
            del self.fields["override_limits"]
        self.style_widgets()

    def clean_targets(self) -> list[str]:
        domain = self.cleaned_data.get("domain")
        text = self.cleaned_data["targets"]
        return clean_destinations(with_domain(text, domain.domain if domain else ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("domain") is None or "local_part" in self.errors:
            return data
        # The limit and a taken address in the same round as the destinations' errors.
        problems = alias_create_problems(
            actor=self.user,
            domain=data["domain"],
            local_part=data.get("local_part", ""),
            override_limits=data.get("override_limits", False),
        )
        for field, messages in problems.items():
            self.add_error(field, messages)
        return data


class AliasForm(StyledForm):
    """Change an alias's destinations."""

    targets = forms.CharField(
        label=_("Destinations"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MAX_DESTINATIONS_TEXT,
        help_text=DESTINATIONS_HELP,
    )

    def __init__(self, *args: Any, alias: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alias = alias

    def clean_targets(self) -> list[str]:
        text = self.cleaned_data["targets"]
        if self.alias is not None:
            text = with_domain(text, self.alias.domain_id)
        return clean_destinations(text)
