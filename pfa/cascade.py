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
)


def delete_mailbox_rows(*, username: str | None = None, domain: str | None = None) -> None:
    """Delete fetchmail, vacation and quota rows of one mailbox, or of every mailbox of a domain."""
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
