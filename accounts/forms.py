"""Forms for admin login, password reset and change, and the management of admins."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Admin
from accounts.scoping import scoped
from core.forms import DomainCheckboxesField, StyledForm, login_field, password_field
from core.forms import PasswordPairMixin as SharedPasswordPairMixin
from domains.models import ALL_DOMAINS, Domain, DomainAdmin, by_sort_name
from mail.names import normalize_address, to_unicode


def _domain_label(domain: Domain) -> str:
    # Stored as punycode, shown the way people write it.
    return to_unicode(domain.domain)


def _address(value: str) -> str:
    # Raises a ValidationError with a readable reason for a malformed address.
    return normalize_address(value)


class PasswordPairMixin(SharedPasswordPairMixin, StyledForm):
    """A new admin password typed twice, checked against the policy."""

    keep_passwords = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = password_validators_help_text_html()

    def password_user(self) -> Admin | None:
        """Return the admin the password is for, for the similarity check."""
        return None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first = cleaned.get("password")
        if first and self.passwords_match():
            try:
                validate_password(first, user=self.password_user())
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class LoginForm(StyledForm):
    """Ask for an admin's e-mail address and password (the address is looked up as typed)."""

    username = login_field(_("E-mail address"))
    password = password_field(_("Password"), autocomplete="current-password")


class AdminPasswordResetForm(StyledForm):
    """Ask for the login address of the admin whose password is forgotten."""

    email = forms.CharField(
        label=_("E-mail address"),
        max_length=255,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return _address(self.cleaned_data["email"])


class AdminSetPasswordForm(PasswordPairMixin):
    """Choose a new password through a reset link (no current password needed)."""

    password = password_field(_("New password"))
    password2 = password_field(_("New password (again)"))

    def __init__(self, user: Admin, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self) -> Admin | None:
        return self.user


class PasswordChangeForm(PasswordPairMixin):
    """Change one's own password; the view checks the current one through the login throttle."""

    old_password = password_field(
        _("Current password"), autocomplete="current-password", autofocus=True
    )
    password = password_field(_("New password"))
    password2 = password_field(_("New password (again)"))

    field_order = ["old_password", "password", "password2"]

    def __init__(self, user: Admin, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self) -> Admin | None:
        return self.user


class AdminPasswordForm(PasswordPairMixin):
    """Set another admin's password."""

    password = password_field(_("New password"))
    password2 = password_field(_("New password (again)"))

    def __init__(self, *args: Any, admin: Admin, **kwargs: Any) -> None:
        self.admin = admin
        super().__init__(*args, **kwargs)

    def password_user(self) -> Admin | None:
        return self.admin


class AdminCreateForm(PasswordPairMixin):
    """Describe a new admin: address, password, role and domains."""

    username = forms.CharField(
        label=_("E-mail address"),
        max_length=255,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    password = password_field(_("Password"))
    password2 = password_field(_("Password (again)"))
    superadmin = forms.BooleanField(
        label=_("Super admin"),
        required=False,
        help_text=_("A super admin manages every domain and the other admins."),
    )
    domains = DomainCheckboxesField(label=_("Domains"), required=False)
    email_other = forms.CharField(
        label=_("Alternative e-mail"),
        max_length=255,
        required=False,
        help_text=_("Password reset links go here when set."),
    )

    def __init__(self, *args: Any, user: Admin, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        domains = cast(DomainCheckboxesField, self.fields["domains"])
        domains.queryset = by_sort_name(scoped(user, Domain))
        self.offer_invite(
            _(
                "Instead of a password, mail a one-time link to the alternative address (else "
                "the login address); the admin cannot log in until they have chosen one."
            )
        )
        self.order_fields(["username", "invite", "password", "password2"])

    def clean_username(self) -> str:
        return _address(self.cleaned_data["username"])

    def clean_email_other(self) -> str:
        value = self.cleaned_data["email_other"]
        return _address(value) if value.strip() else ""

    def password_user(self) -> Admin | None:
        return Admin(
            username=self.cleaned_data.get("username", ""),
            email_other=self.cleaned_data.get("email_other", ""),
        )


class AdminEditForm(StyledForm):
    """Change an admin's contact details and, for a domain admin, their domains."""

    email_other = forms.CharField(
        label=_("Alternative e-mail"),
        max_length=255,
        required=False,
        help_text=_("Password reset links go here when set."),
    )
    domains = DomainCheckboxesField(
        label=_("Domains"),
        required=False,
        help_text=_("The domains this admin manages."),
    )

    def __init__(self, *args: Any, user: Admin, superadmin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if superadmin:
            # A super admin manages every domain: there is nothing to tick.
            del self.fields["domains"]
        else:
            domains = cast(DomainCheckboxesField, self.fields["domains"])
            domains.queryset = by_sort_name(scoped(user, Domain))

    def clean_email_other(self) -> str:
        value = self.cleaned_data["email_other"]
        return _address(value) if value.strip() else ""


class AssignDomainForm(StyledForm):
    """Pick one of the user's domains that the admin does not manage yet."""

    domain = forms.ModelChoiceField(
        label=_("Domain"),
        queryset=Domain.objects.none(),
    )

    def __init__(self, *args: Any, user: Admin, admin: Admin, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assigned = DomainAdmin.objects.filter(username_id=admin.pk, active=True).values("domain_id")
        domain = cast(forms.ModelChoiceField, self.fields["domain"])
        domain.queryset = by_sort_name(scoped(user, Domain).exclude(domain__in=assigned))
        domain.label_from_instance = _domain_label  # type: ignore[method-assign,assignment]


class AssignAdminForm(StyledForm):
    """Pick a domain admin who does not manage the domain yet (super admins manage it anyway)."""

    admin = forms.ModelChoiceField(
        label=_("Admin"),
        queryset=Admin.objects.none(),
    )

    def __init__(self, *args: Any, user: Admin, domain: Domain, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assigned = DomainAdmin.objects.filter(domain_id=domain.pk, active=True).values(
            "username_id"
        )
        superadmins = DomainAdmin.objects.filter(domain_id=ALL_DOMAINS, active=True).values(
            "username_id"
        )
        admins: QuerySet[Admin] = scoped(user, Admin)
        cast(forms.ModelChoiceField, self.fields["admin"]).queryset = (
            admins.exclude(username__in=assigned)
            .exclude(superadmin=True)
            .exclude(username__in=superadmins)
            .order_by("username")
        )


class AdminFilterForm(StyledForm):
    """Search the admin list."""

    q = forms.CharField(label=_("Search"), required=False, max_length=255)
