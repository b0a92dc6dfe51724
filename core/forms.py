"""Form building blocks shared by every app.

One StyledForm (Bootstrap classes on every widget), one list filter form (search and domain),
the scoped domain fields (a select of the user's domains, typed once there are too many for a
select), the password and login fields and the password pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scoped, scoped_domain_names
from domains.models import Domain, by_sort_name
from mail.names import normalize_domain, to_unicode
from mail.passwords import MAX_PASSWORD_LENGTH, generate_password

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PASSWORDS_DIFFER = _("The two passwords do not match.")


def password_field(
    label: StrOrPromise,
    *,
    autocomplete: str = "new-password",
    autofocus: bool = False,
    css: str | None = None,
) -> forms.CharField:
    """Return a password input kept as typed, refused over the longest password any form takes."""
    attrs: dict[str, Any] = {"autocomplete": autocomplete}
    if autofocus:
        attrs["autofocus"] = True
    if css:
        attrs["class"] = css
    return forms.CharField(
        label=label,
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs=attrs, render_value=False),
    )


def login_field(label: StrOrPromise, *, css: str | None = None) -> forms.CharField:
    """Return a login address input; it is looked up as typed, never refused for its form."""
    attrs: dict[str, Any] = {"autocomplete": "username", "autofocus": True}
    if css:
        attrs["class"] = css
    return forms.CharField(label=label, max_length=255, widget=forms.EmailInput(attrs=attrs))


class PasswordPairMixin(forms.Form):
    """A new password typed twice, with a generated suggestion shown next to it.

    `password_fields` names the two fields; the second one carries the mismatch error.
    """

    password_fields: tuple[str, str] = ("password", "password2")
    # A new password the form accepted stays in its fields when another field has an error
    # (e.g. a generated one, which the user may not have noted yet); a refused one is emptied.
    keep_passwords = False
    # The password rules shown under the first field before anything is typed.
    show_password_rules = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shown as plain text on the page, so it can be copied without JavaScript; never stored.
        self.suggested_password = generate_password()
        if self.show_password_rules:
            field = self.fields[self.password_fields[0]]
            field.help_text = password_validators_help_text_html()

    def full_clean(self) -> None:
        super().full_clean()
        if (
            self.keep_passwords
            and self.is_bound
            and not any(self.has_error(name) for name in self.password_fields)
        ):
            for name in self.password_fields:
                widget = self.fields[name].widget
                if isinstance(widget, forms.PasswordInput):
                    widget.render_value = True

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # A password refused later (by the service the view called) is not shown again.
        if any(self.has_error(name) for name in self.password_fields):
            for name in self.password_fields:
                widget = self.fields[name].widget
                if isinstance(widget, forms.PasswordInput):
                    widget.render_value = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first_name, second_name = self.password_fields
        if cleaned.get("invite"):
            # The account's owner chooses the password through the invitation's link.
            for name in self.password_fields:
                cleaned[name] = ""
                self.errors.pop(name, None)
            return cleaned
        first, second = cleaned.get(first_name), cleaned.get(second_name)
        if first and second and first != second:
            self.add_error(second_name, ValidationError(PASSWORDS_DIFFER, code="password_mismatch"))
        probe = self.policy_user()
        if first and probe is not None and self.passwords_match():
            # The policy in the same round as every other field (the service checks it again).
            try:
                validate_password(first, user=probe)
            except ValidationError as exc:
                self.add_error(first_name, exc)
        return cleaned

    def offer_invite(self, help_text: StrOrPromise) -> None:
        """Add the "invite" box: when ticked, no password is typed (both fields become optional)."""
        self.fields["invite"] = forms.BooleanField(
            label=_("Invite: mail a link to choose the password"),
            required=False,
            help_text=help_text,
        )
        for name in self.password_fields:
            field = self.fields[name]
            if field.required:
                field.required = False
                field.widget.is_required = False
                self._invite_required = True

    def clean_invite(self) -> bool:
        invite = bool(self.cleaned_data.get("invite"))
        if not invite and getattr(self, "_invite_required", False):
            for name in self.password_fields:
                if not self.data.get(self.add_prefix(name)):
                    self.add_error(name, ValidationError(_("This field is required."), "required"))
        return invite

    def policy_user(self) -> Any:
        """Return the account the password policy is checked against here (None: not here)."""
        return None

    def passwords_match(self) -> bool:
        """Tell whether both passwords were given and are the same."""
        return not self.has_error(self.password_fields[1], "password_mismatch")


class ScopedDomainField(forms.CharField):
    """A typed domain name (Unicode or punycode) that must be one the user may see."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "form-control"}))
        super().__init__(*args, max_length=255, **kwargs)
        self.user = user
        # js/vimbadmin.js offers the user's domains matching what is typed (a datalist).
        self.widget.attrs["data-domain-suggest"] = reverse("domains:domain-suggest")

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        name = normalize_domain(text)
        if not scoped(self.user, Domain).filter(domain=name).exists():
            raise ValidationError(_("Enter a domain you manage."), code="unknown")
        return name


def scoped_domain_name_field(
    user: Any, *, label: StrOrPromise, required: bool, blank: str = "---------"
) -> forms.Field:
    """Return a select of the user's domain names, or a checked text field when there are many.

    "Many" is past accounts.scoping.LITERAL_DOMAINS_LIMIT (scoped_domain_names() says None).
    """
    names = scoped_domain_names(user)
    if names is None:
        return ScopedDomainField(user=user, label=label, required=required)
    return forms.ChoiceField(
        label=label,
        required=required,
        choices=[("", blank), *((name, to_unicode(name)) for name in names)],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes (no per-field widget boilerplate)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        """Give every widget the Bootstrap class of its kind (call again after adding fields)."""
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                widget.attrs["class"] = " ".join([*classes, css])


class DomainCheckboxesField(forms.ModelMultipleChoiceField):
    """Domains ticked in a list, shown in Unicode.

    templates/_checklist.html draws it with a filter box that js/vimbadmin.js narrows the list
    with (hidden without JavaScript, where the whole list stays usable), for hundreds of domains.
    """

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Domain.objects.none())
        super().__init__(**kwargs)
        self.widget.attrs["class"] = "form-check-input"

    def label_from_instance(self, obj: Domain) -> str:
        return obj.unicode_name


class DomainChoiceField(forms.ModelChoiceField):
    """A domain among those the user manages, shown in Unicode (plus a note, if given)."""

    notes: dict[str, str] | None = None

    def label_from_instance(self, obj: Domain) -> str:
        note = (self.notes or {}).get(obj.domain)
        return f"{obj.unicode_name} ({note})" if note else obj.unicode_name


class TypedDomainField(ScopedDomainField):
    """A typed domain the user manages (Unicode or punycode), cleaned to its Domain row."""

    def clean(self, value: Any) -> Domain | None:  # type: ignore[override]  # the row, not its name
        name = super().clean(value)
        if not name:
            return None
        domain = scoped(self.user, Domain).filter(domain=name).first()
        if domain is None:
            raise ValidationError(_("Enter a domain you manage."), code="unknown")
        return domain


def scoped_domain_field(user: Any, *, initial: str = "") -> forms.Field:
    """Build the domain field of a create form: a select of the user's domains, typed if many.

    It cleans to the Domain row; scoped_domain_name_field() cleans to the stored name.
    """
    if scoped_domain_names(user) is None:
        return TypedDomainField(
            user=user, label=_("Domain"), required=True, initial=to_unicode(initial) or None
        )
    return DomainChoiceField(
        label=_("Domain"),
        queryset=by_sort_name(scoped(user, Domain)),
        to_field_name="domain",
        empty_label=None,
        initial=initial or None,
    )


class ListFilterForm(StyledForm):
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
        if names is None:
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
