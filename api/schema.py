"""How the OpenAPI document describes the token authentication (a bearer key)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token's key (vimb_…), created on the API tokens page.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable: validation_error, not_authenticated, invalid_token, "
                    "permission_denied, read_only_token, not_found, method_not_allowed, "
                    "parse_error, throttled, …",
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Per field (non_field_errors: none), its errors.",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            },
        }
    },
}

# Which errors an operation may answer, beyond its documented success.
_ERRORS = {
    "400": "Invalid fields or a refused change (validation_error).",
    "401": "No key, or one that is wrong, expired or revoked.",
    "403": "Not allowed to this admin or token.",
    "404": "No such object within the token's reach.",
    "429": "Too many requests for this token or client address.",
}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Document the one error shape (api.errors) on every operation of /api/v1/."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code, text in _ERRORS.items():
                responses.setdefault(code, {"description": text, "content": reference})
    return result
