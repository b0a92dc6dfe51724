"""Forms of the second-factor pages; they validate and never write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import StyledForm, password_field
from mail.names import normalize_address, normalize_domain
from twofactor.networks import normalize_exception_address
from twofactor.selectors import scoped_domain_names_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def code_field(label: StrOrPromise | None = None, *, recovery: bool = False) -> forms.CharField:
    """Return the field for a 6-digit code (or, where allowed, a recovery code)."""
    attrs = {
        "autocomplete": "one-time-code",
        "autofocus": True,
        "inputmode": "text" if recovery else "numeric",
        "spellcheck": "false",
    }
    return forms.CharField(
        label=label or _("Code from your authenticator app"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs=attrs),
    )


class CodeForm(StyledForm):
    """Ask for the code of the second factor, or one of the recovery codes."""

    code = code_field(_("Code from your authenticator app, or a recovery code"), recovery=True)


class EnrolForm(StyledForm):
    """Ask for a first code of the new secret, which proves the app has it."""

    code = code_field()


class AppPasswordForm(StyledForm):
    """Name a new app password (the password itself is generated)."""

    description = forms.CharField(
        label=_("App or device"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Phone mail app")}),
    )


class DisableForm(StyledForm):
    """Ask for the password and a current code before the second factor is removed."""

    password = password_field(_("Your password"), autocomplete="current-password")
    code = code_field(_("Code from your authenticator app, or a recovery code"), recovery=True)


class PolicyForm(StyledForm):
    """Who must log in with a second factor; domains typed one per line (any number of them)."""

    superadmins = forms.BooleanField(label=_("Super admins"), required=False)
    domain_admins = forms.BooleanField(label=_("Domain admins"), required=False)
    domains = forms.CharField(
        label=_("Mailbox owners of these domains (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )

    def clean_domains(self) -> list[str]:
        names = []
        for line in self.cleaned_data["domains"].split():
            try:
                names.append(normalize_domain(line))
            except ValidationError as exc:
                raise ValidationError(_("%(name)s is not a domain name.") % {"name": line}) from exc
        unknown = sorted(set(names) - set(scoped_domain_names_of(self.user, names)))
        if unknown:
            raise ValidationError(_("No such domain: %(names)s") % {"names": ", ".join(unknown)})
        return sorted(set(names))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)


class OwnerExceptionForm(StyledForm):
    """An address from which the owner's main password works despite the second factor."""

    ip = forms.CharField(
        label=_("IP address or network"),
        max_length=46,
        help_text=_(
            "Mail apps connecting from this address or network (such as 192.0.2.0/24) may use "
            "the main password."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=255)

    def clean_ip(self) -> str:
        return normalize_exception_address(self.cleaned_data["ip"])


class ExceptionForm(OwnerExceptionForm):
    """An exception for one mailbox, a whole domain, or (super admins) everyone."""

    target = forms.CharField(
        label=_("Mailbox address or domain"),
        max_length=255,
        required=False,
        help_text=_("Empty with “everyone” ticked: every mailbox."),
    )
    everyone = forms.BooleanField(label=_("Everyone"), required=False)

    field_order = ["ip", "target", "everyone", "description"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        target = (cleaned.get("target") or "").strip().lower()
        if cleaned.get("everyone"):
            cleaned["username"] = None
        elif not target:
            self.add_error("target", _("Enter a mailbox address or a domain."))
        else:
            try:
                if "@" in target:
                    cleaned["username"] = normalize_address(target)
                else:
                    cleaned["username"] = normalize_domain(target)
            except ValidationError:
                self.add_error("target", _("Enter a mailbox address or a domain."))
        return cleaned
