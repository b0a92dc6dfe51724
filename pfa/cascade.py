"""Postfix Admin's clean-up of the tables that hang off a mailbox address (no foreign keys)."""

from __future__ import annotations

from django.db import connection

# Table and address column of each row Postfix Admin deletes with a mailbox.
_MAILBOX_ROWS = (
    ("fetchmail", "mailbox"),
    ("vacation_notification", "on_vacation"),
    ("vacation", "email"),
    ("quota", "username"),
    ("quota2", "username"),
    # Postfix Admin 4 leaves these behind; a mailbox created again at the same address would
    # inherit the old app passwords (Dovecot accepts them) and second-factor exceptions.
    ("mailbox_app_password", "username"),
    ("totp_exception_address", "username"),
)


def delete_mailbox_rows(*, username: str | None = None, domain: str | None = None) -> None:
    """Delete fetchmail, vacation, quota, app password and second-factor exception rows of one
    mailbox, or of every mailbox of a domain (and then the domain's own exceptions too)."""
    if (username is None) == (domain is None):
        raise ValueError("give exactly one of username and domain")
    operator, value = ("=", username) if username is not None else ("LIKE", f"%@{domain}")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in _MAILBOX_ROWS:
            cursor.execute(
                f"DELETE FROM {quote(table)} WHERE {quote(column)} {operator} %s",  # noqa: S608
                [value],
            )
        if domain is not None:
            cursor.execute(
                f"DELETE FROM {quote('totp_exception_address')} WHERE {quote('username')} = %s",  # noqa: S608
                [domain],
            )
