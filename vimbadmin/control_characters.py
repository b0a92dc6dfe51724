"""Refuse control and text-direction characters in a request's path and query string.

No identifier holds one (mail/names.py refuses them in every address, domain and name), so
a path that carries one names nothing: it is a 404 before any view looks it up. Without this
check PostgreSQL answered such lookups with a 500 ("A string literal cannot contain NUL").
A query string (filters, searches, page numbers) that carries one is a 400. Typed values in a
POSTed form are the forms' business: they answer with a field error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse

from mail.names import has_control_characters

# Whitespace a pasted search may carry; forms strip it, and it matches nothing otherwise.
_QUERY_WHITESPACE = str.maketrans("", "", "\t\r\n")


def _refused_query(request: HttpRequest) -> bool:
    for key, values in request.GET.lists():
        for text in (key, *values):
            if has_control_characters(text.translate(_QUERY_WHITESPACE)):
                return True
    return False


class ControlCharacterMiddleware:
    """Answer 404 for a path, and 400 for a query string, holding a control character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_control_characters(request.path_info):
            raise Http404("control character in the path")
        if _refused_query(request):
            raise BadRequest("control character in the query string")
        return self.get_response(request)
