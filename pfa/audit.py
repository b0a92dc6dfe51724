"""Write Postfix Admin `log` rows, so the history reads the same in either tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.context import acting_through, client_address
from pfa.models import Log

# Action keys Postfix Admin's log viewer knows (languages/en.lang, pViewlog_action_*).
ACTIONS = frozenset(
    {
        "create_admin",
        "edit_admin",
        "delete_admin",
        "create_alias",
        "edit_alias",
        "delete_alias",
        "edit_alias_state",
        "create_alias_domain",
        "edit_alias_domain",
        "delete_alias_domain",
        "edit_alias_domain_state",
        "create_domain",
        "edit_domain",
        "delete_domain",
        "create_mailbox",
        "edit_mailbox",
        "delete_mailbox",
        "edit_mailbox_state",
        "edit_password",
        "edit_vacation",
        # Postfix Admin 4: app passwords and TOTP exception addresses.
        "add_app_password",
        "add_totp_exception",
        "delete_totp_exception",
    }
)

# How an edit row says what changed: "<object>: <field> <before> -> <after>; <field> ...".
# Plain ASCII, because an adopted MySQL database keeps `log.data` in latin1 and Postfix Admin's
# log page shows the text as it is.
CHANGE_ARROW = " -> "
CHANGE_SEPARATOR = "; "
# A longer value (a long list of destinations) is cut, with "..." at the end.
_CHANGE_VALUE_MAX = 200


def _change_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if not text:
        return '""'
    if not (text.isascii() and text.isprintable()):
        # Free text in another script cannot be stored in a latin1 column: its change is named.
        return "(changed)"
    if len(text) > _CHANGE_VALUE_MAX:
        return text[: _CHANGE_VALUE_MAX - 3] + "..."
    return text


def describe_changes(subject: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """Return the data of an edit row: the object, then each field that changed, before -> after.

    Only the fields in both mappings whose values differ are named; with none, the object alone.
    """
    changed = []
    for field, old in before.items():
        if field in after and after[field] != old:
            old_text, new_text = _change_value(old), _change_value(after[field])
            if old_text == new_text:
                changed.append(f"{field} (changed)")
            else:
                changed.append(f"{field} {old_text}{CHANGE_ARROW}{new_text}")
    if not changed:
        return subject
    return f"{subject}: {CHANGE_SEPARATOR.join(changed)}"


def action_label(action: str) -> str:
    """Turn a Postfix Admin action key into words: edit_alias_state -> Edit alias state."""
    return action.replace("_", " ").capitalize()


def log_action(*, actor: Any, domain: str, action: str, data: str) -> Log:
    """Write one log row; `actor` is an admin, a mailbox owner's address or None for the shell."""
    if action not in ACTIONS:
        raise ValueError(f"unknown log action {action!r}")
    login = str(actor) if actor is not None else "cli"
    through = acting_through.get()
    origin = f"{client_address.get()}, {through}" if through else client_address.get()
    return Log.objects.create(
        username=f"{login} ({origin})"[:255],
        domain=domain[:255],
        action=action,
        data=data,
    )


def log_actions(*, actor: Any, domain: str, action: str, data: list[str]) -> None:
    """Write one log row per item of `data`, as log_action does, in one round trip per 1,000."""
    if action not in ACTIONS:
        raise ValueError(f"unknown log action {action!r}")
    login = str(actor) if actor is not None else "cli"
    through = acting_through.get()
    origin = f"{client_address.get()}, {through}" if through else client_address.get()
    username = f"{login} ({origin})"[:255]
    Log.objects.bulk_create(
        [Log(username=username, domain=domain[:255], action=action, data=item) for item in data],
        batch_size=1000,
    )
