"""Forms of the mailbox owner's pages; they validate and never write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import PasswordPairMixin, login_field, password_field
from mail.names import normalize_address


def _typed_address(value: str) -> str:
    # An address that does not even parse is treated like an unknown one, so the answer
    # never differs between "no such mailbox" and "not an address".
    try:
        return normalize_address(value)
    except ValidationError:
        return (value or "").strip().lower()


def _address_field() -> forms.CharField:
    return login_field(_("E-mail address"), css="form-control")


class MailboxLoginForm(forms.Form):
    """Ask for the mail address and the mailbox password (the address is looked up as typed)."""

    address = login_field(_("E-mail address"), css="form-control")
    password = password_field(_("Password"), autocomplete="current-password", css="form-control")


class MailboxSetPasswordForm(PasswordPairMixin):
    """Ask for a new password twice; the policy is checked by the service that stores it."""

    password_fields = ("new_password1", "new_password2")
    keep_passwords = True
    show_password_rules = True

    new_password1 = password_field(_("New password"), css="form-control")
    new_password2 = password_field(_("New password again"), css="form-control")

    def __init__(self, *args: Any, mailbox: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox

    def policy_user(self) -> Any:
        return self.mailbox


class MailboxPasswordChangeForm(MailboxSetPasswordForm):
    """Ask for the current password and a new one twice; the view checks the current one."""

    current_password = password_field(
        _("Current password"), autocomplete="current-password", css="form-control"
    )
    field_order = ["current_password", "new_password1", "new_password2"]


class MailboxPasswordResetForm(forms.Form):
    """Ask for the mail address whose password is forgotten."""

    address = _address_field()

    def clean_address(self) -> str:
        return _typed_address(self.cleaned_data["address"])


class EmailOtherForm(forms.Form):
    """Ask for a new alternative address; the service checks it and mails the link."""

    address = forms.CharField(
        label=_("Alternative e-mail address"),
        max_length=255,
        widget=forms.EmailInput(attrs={"class": "form-control", "autocomplete": "email"}),
        help_text=_("An address outside this mailbox, where password reset links can reach you."),
    )
