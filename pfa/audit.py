"""Write Postfix Admin `log` rows, so the history reads the same in either tool."""

from __future__ import annotations

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
    username = f"{login} ({client_address.get()})"[:255]
    Log.objects.bulk_create(
        [Log(username=username, domain=domain[:255], action=action, data=item) for item in data],
        batch_size=1000,
    )
