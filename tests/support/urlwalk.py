"""Every routed URL pattern, for the tests that walk all pages (scoping, cache headers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def _patterns(
    resolvers: list[Any], prefix: str = ""
) -> Iterator[tuple[str | None, URLPattern, dict[str, Any]]]:
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _patterns(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern):
            name = f"{prefix}{entry.name}" if entry.name else None
            yield name, entry, dict(entry.pattern.converters)


def all_url_patterns() -> list[tuple[str | None, URLPattern, list[str]]]:
    """Return (namespaced name, pattern, parameter names) for every routed URL."""
    found = []
    for name, pattern, converters in _patterns(get_resolver().url_patterns):
        params = list(converters) or list(pattern.pattern.regex.groupindex)
        found.append((name, pattern, params))
    return found
