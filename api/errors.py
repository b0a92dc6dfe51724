"""Every API error as one JSON shape with a stable code, field messages where a field is at fault:

    {"error": {"code": "validation_error", "message": "...",
               "fields": {"quota": [{"code": "invalid", "message": "..."}]}}}

Service refusals (Django's ValidationError and PermissionDenied) read the same as DRF's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Field errors that belong to no field are listed under this name.
NON_FIELD = "non_field_errors"


def _field_errors(detail: Any) -> dict[str, list[dict[str, str]]]:
    """Flatten DRF's error detail into {field: [{code, message}]} (nested fields dotted)."""
    found: dict[str, list[dict[str, str]]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            for item in value:
                walk(prefix, item)
        else:
            code = getattr(value, "code", None) or "invalid"
            found.setdefault(prefix or NON_FIELD, []).append(
                {"code": str(code), "message": str(value)}
            )

    walk("", detail)
    return found


def _from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    """Return a service's ValidationError as DRF's, keeping fields and codes."""
    if hasattr(exc, "error_dict"):
        detail: Any = {
            (NON_FIELD if field == "__all__" else field): [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors
                for message in error.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    else:
        detail = {
            NON_FIELD: [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in exc.error_list
                for message in error.messages
            ]
        }
    return exceptions.ValidationError(detail)


def error_response(code: str, message: str, status_code: int, fields: Any = None) -> Response:
    """Return the JSON error of the API's one shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every refusal in the API's error shape; anything else stays a 500."""
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        answer = error_response(
            "validation_error", _("The request has invalid fields."), response.status_code, fields
        )
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        answer = error_response(str(code), str(exc.detail), response.status_code)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response.headers:
            answer.headers[header] = response.headers[header]
    return answer


@contextmanager
def errors_on(field: str, renamed: dict[str, str] | None = None) -> Iterator[None]:
    """Put a service's errors that name no field on `field`, as the pages' forms do; fields the
    API names otherwise (`renamed`: service's name to the API's) under the API's name."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise DjangoValidationError({field: exc.error_list}) from None
        if not renamed and NON_FIELD_ERRORS not in exc.error_dict:
            raise
        names = {NON_FIELD_ERRORS: field, **(renamed or {})}
        moved: dict[str, list] = {}
        for name, errors in exc.error_dict.items():
            moved.setdefault(names.get(name, name), []).extend(errors)
        raise DjangoValidationError(moved) from None
