"""Alias forms: they validate input and scope every choice; the services write."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.scoping import is_superadmin, scoped
from domains.forms import SELECT_MAX_DOMAINS, ScopedDomainField, scoped_domain_names
from domains.models import Domain
from mail.names import normalize_target, to_unicode

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


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes (no per-field widget boilerplate)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        """Give every widget the Bootstrap class of its kind (call again after adding fields)."""
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                widget.attrs["class"] = " ".join([*classes, css])


class DomainChoiceField(forms.ModelChoiceField):
    """A domain among those the user manages, shown in Unicode."""

    def label_from_instance(self, obj: Domain) -> str:
        return obj.unicode_name


class TypedDomainField(ScopedDomainField):
    """A typed domain the user manages (Unicode or punycode), cleaned to its Domain row."""

    def clean(self, value: Any) -> Domain | None:
        name = super().clean(value)
        if not name:
            return None
        domain = scoped(self.user, Domain).filter(domain=name).first()
        if domain is None:
            raise ValidationError(_("Enter a domain you manage."), code="unknown")
        return domain


def scoped_domain_field(user: Any, *, initial: str = "") -> forms.Field:
    """Build the domain field of a create form: a select of the user's domains, typed if many."""
    if len(scoped_domain_names(user)) > SELECT_MAX_DOMAINS:
        return TypedDomainField(
            user=user, label=_("Domain"), required=True, initial=to_unicode(initial) or None
        )
    return DomainChoiceField(
        label=_("Domain"),
        queryset=scoped(user, Domain).order_by("domain"),
        to_field_name="domain",
        empty_label=None,
        initial=initial or None,
    )


class DomainFilterForm(StyledForm):
    """A list's search and domain filter: a select of the user's domains, typed if many."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    domain = forms.CharField(label=_("Domain"), required=False, max_length=255)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = scoped_domain_names(user)
        if len(names) > SELECT_MAX_DOMAINS:
            self.fields["domain"] = ScopedDomainField(user=user, label=_("Domain"), required=False)
            self.managed_domains: set[str] | None = None
        else:
            # A plain text field with a select widget: a domain outside the choices (a sticky
            # domain of another admin) filters to nothing rather than invalidating the search.
            choices = [("", _("All my domains")), *((name, to_unicode(name)) for name in names)]
            self.fields["domain"].widget = forms.Select(choices=choices)
            self.managed_domains = set(names)
        self.style_widgets()

    def domain_is_managed(self, domain: str) -> bool:
        """Say whether the filter's (punycode) domain is one the user manages."""
        if self.managed_domains is not None:
            return domain in self.managed_domains
        return self.is_valid() or not self.has_error("domain")

    def filters(self) -> dict[str, Any]:
        """Return the filters for the selector; bad input filters as if nothing was typed."""
        if not self.is_valid():
            # The selector is scoped: a refused domain still shows none of anyone else's rows.
            filters = {"q": self.cleaned_data.get("q", ""), "domain": self.data.get("domain", "")}
            if "show_mailbox_aliases" in self.fields:
                filters["show_mailbox_aliases"] = False
            return filters
        return dict(self.cleaned_data)


DESTINATIONS_HELP = _(
    "One per line (or separated by commas): mailboxes, external addresses, or @otherdomain "
    "to forward a whole domain."
)


class AliasFilterForm(DomainFilterForm):
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

    def __init__(self, *args: Any, user: Any, initial_domain: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"] = scoped_domain_field(user, initial=initial_domain)
        if not is_superadmin(user):
            del self.fields["override_limits"]
        self.style_widgets()

    def clean_targets(self) -> list[str]:
        return clean_destinations(self.cleaned_data["targets"])


class AliasForm(StyledForm):
    """Change an alias's destinations."""

    targets = forms.CharField(
        label=_("Destinations"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MAX_DESTINATIONS_TEXT,
        help_text=DESTINATIONS_HELP,
    )

    def clean_targets(self) -> list[str]:
        return clean_destinations(self.cleaned_data["targets"])
