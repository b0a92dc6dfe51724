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


def _typed_address(value: str) -> str:
    # An address that does not even parse is treated like an unknown one, so the answer
    # never differs between "no such mailbox" and "not an address".
    try:
        return normalize_address(value)
    except ValidationError:
        return (value or "").strip().lower()


def _password_field(label: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(
            attrs={"autocomplete": autocomplete, "class": "form-control"}, render_value=False
        ),
    )


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
    password = _password_field(_("Password"), "current-password")

    def clean_address(self) -> str:
        return _typed_address(self.cleaned_data["address"])


class MailboxSetPasswordForm(forms.Form):
    """Ask for a new password twice; the policy is checked by the service that stores it."""

    new_password1 = _password_field(_("New password"), "new-password")
    new_password2 = _password_field(_("New password again"), "new-password")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two new passwords do not match."))
        return cleaned


class MailboxPasswordChangeForm(MailboxSetPasswordForm):
    """Ask for the current password and a new one twice."""

    current_password = _password_field(_("Current password"), "current-password")
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
