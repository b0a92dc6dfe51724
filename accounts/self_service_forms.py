"""Forms of the mailbox owner's pages; they validate and never write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.passwords import verify_password
from domains.names import normalize_address
from mailboxes.models import Mailbox
from vimbadmin.forms import PasswordPairMixin, password_field


def _typed_address(value: str) -> str:
    # An address that does not even parse is treated like an unknown one, so the answer
    # never differs between "no such mailbox" and "not an address".
    try:
        return normalize_address(value)
    except ValidationError:
        return (value or "").strip().lower()


def _address_field() -> forms.CharField:
    return forms.CharField(
        label=_("E-mail address"),
        max_length=255,
        widget=forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "class": "form-control"}
        ),
    )


def locked_message() -> str:
    """Return the message shown while an account or client address is locked out."""
    minutes = max(settings.VIMBADMIN_LOGIN_LOCKOUT_SECONDS // 60, 1)
    return gettext(
        "Too many failed attempts. For your protection, try again in %(minutes)d minutes."
    ) % {"minutes": minutes}


class MailboxLoginForm(forms.Form):
    """Ask for the mail address and the mailbox password."""

    address = _address_field()
    password = password_field(_("Password"), autocomplete="current-password", css="form-control")

    def clean_address(self) -> str:
        return _typed_address(self.cleaned_data["address"])


class MailboxSetPasswordForm(PasswordPairMixin):
    """Ask for a new password twice; the policy is checked by the service that stores it."""

    password_fields = ("new_password1", "new_password2")

    new_password1 = password_field(_("New password"), css="form-control")
    new_password2 = password_field(_("New password again"), css="form-control")


class MailboxPasswordChangeForm(MailboxSetPasswordForm):
    """Ask for the current password and a new one twice."""

    current_password = password_field(
        _("Current password"), autocomplete="current-password", css="form-control"
    )
    field_order = ["current_password", "new_password1", "new_password2"]

    def __init__(self, *args: Any, mailbox: Mailbox, locked: bool = False, **kwargs: Any) -> None:
        self.mailbox = mailbox
        self.locked = locked
        super().__init__(*args, **kwargs)

    def clean_current_password(self) -> str:
        value = self.cleaned_data["current_password"]
        if self.locked:
            # Not even checked while locked, so further guesses learn nothing.
            raise ValidationError(locked_message(), code="locked")
        if not verify_password(value, self.mailbox.password):
            raise ValidationError(
                _("Your current password was entered incorrectly."), code="password_incorrect"
            )
        return value


class MailboxPasswordResetForm(forms.Form):
    """Ask for the mail address whose password is forgotten."""

    address = _address_field()

    def clean_address(self) -> str:
        return _typed_address(self.cleaned_data["address"])
