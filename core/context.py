"""Per-request facts that services need without taking a request: client address, notices, and
a memo of what is read once per request (the user's domain names, see accounts.scoping)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

client_address: ContextVar[str] = ContextVar("client_address", default="cli")
# How the current request's admin acts when not through a session (an API token's label), for
# audit rows; "" for the pages and the shell.
acting_through: ContextVar[str] = ContextVar("acting_through", default="")
_notices: ContextVar[list[str] | None] = ContextVar("notices", default=None)
_memo: ContextVar[dict[Any, Any] | None] = ContextVar("memo", default=None)


def request_client_address(request: HttpRequest) -> str:
    """Return the client address of a request: the one every audit row and throttle counts."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def report(text: str) -> None:
    """Tell the user of the current request about a problem that did not undo their change."""
    notices = _notices.get()
    if notices is not None:
        notices.append(text)


def request_memo() -> dict[Any, Any] | None:
    """Return the memo of the current request, empty when it starts; None outside a request.

    What is kept here lives exactly as long as the request: the next request starts afresh,
    and code run outside a request (commands, tests calling selectors) reads everything anew.
    """
    return _memo.get()


class RequestContextMiddleware:
    """Record the client address for audit rows, give the request an empty memo, and turn
    reported problems into messages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address_token = client_address.set(request_client_address(request))
        # Set by an API token's authentication within the request, and only for it.
        through_token = acting_through.set("")
        notices: list[str] = []
        notices_token = _notices.set(notices)
        memo_token = _memo.set({})
        try:
            response = self.get_response(request)
            for text in notices:
                messages.warning(request, text)
            return response
        finally:
            client_address.reset(address_token)
            acting_through.reset(through_token)
            _notices.reset(notices_token)
            _memo.reset(memo_token)
