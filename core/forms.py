"""Form building blocks shared by every app: password and login fields, the password pair."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mail.passwords import MAX_PASSWORD_LENGTH, generate_password

PASSWORDS_DIFFER = _("The two passwords do not match.")


def password_field(
    label: str,
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


def login_field(label: str, *, css: str | None = None) -> forms.CharField:
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shown as plain text on the page, so it can be copied without JavaScript; never stored.
        self.suggested_password = generate_password()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first_name, second_name = self.password_fields
        first, second = cleaned.get(first_name), cleaned.get(second_name)
        if first and second and first != second:
            self.add_error(second_name, ValidationError(PASSWORDS_DIFFER, code="password_mismatch"))
        return cleaned

    def passwords_match(self) -> bool:
        """Tell whether both passwords were given and are the same."""
        return not self.has_error(self.password_fields[1], "password_mismatch")
