"""Per-request facts that services need without taking a request: client address, notices."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

client_address: ContextVar[str] = ContextVar("client_address", default="cli")
_notices: ContextVar[list[str] | None] = ContextVar("notices", default=None)


def request_client_address(request: HttpRequest) -> str:
    """Return the client address of a request: the one every audit row and throttle counts."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def report(text: str) -> None:
    """Tell the user of the current request about a problem that did not undo their change."""
    notices = _notices.get()
    if notices is not None:
        notices.append(text)


class RequestContextMiddleware:
    """Record the client address for audit rows and turn reported problems into messages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address_token = client_address.set(request_client_address(request))
        notices: list[str] = []
        notices_token = _notices.set(notices)
        try:
            response = self.get_response(request)
            for text in notices:
                messages.warning(request, text)
            return response
        finally:
            client_address.reset(address_token)
            _notices.reset(notices_token)
