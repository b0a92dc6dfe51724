"""The API's lists: keyset pages (`?cursor=`, `?limit=`) through core.listing.pagination."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.listing.pagination import MAX_PER_PAGE, keyset_page, page_size


def encode_cursor(key: Any) -> str:
    """Return the opaque cursor of a key."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Any:
    """Return the key of a cursor; a cursor that is none is a field error."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, str | int) or isinstance(key, bool):
        raise exceptions.ValidationError(
            {"cursor": [exceptions.ErrorDetail(_("This cursor is not valid."), code="invalid")]}
        )
    return key


class KeysetPagination(BasePagination):
    """Pages that follow one another by key: `next_cursor` continues after the last row."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        text = request.query_params.get("cursor")
        after = decode_cursor(text) if text else None
        size = page_size(request.query_params.get("limit"))
        rows, self.next_key = keyset_page(
            queryset,
            key=getattr(view, "page_key", "pk"),
            after=after,
            size=size,
            descending=getattr(view, "page_descending", False),
        )
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        cursor = encode_cursor(self.next_key) if self.next_key is not None else None
        url = (
            replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)
            if cursor
            else None
        )
        return Response({"results": data, "next_cursor": cursor, "next": url})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next_cursor", "next"],
            "properties": {
                "results": schema,
                "next_cursor": {"type": "string", "nullable": True},
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The next_cursor of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": f"Rows per page, at most {MAX_PER_PAGE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            },
        ]
