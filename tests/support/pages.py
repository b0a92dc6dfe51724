"""Reading a page as the user sees it: its text unescaped, and what a form field holds."""

from __future__ import annotations

import html
import re
from typing import Any


def page(response: Any) -> str:
    """Return the response's HTML with entities unescaped (the text a person reads)."""
    return html.unescape(response.content.decode())


def input_value(response: Any, name: str) -> str | None:
    """Return the value the page's input `name` holds (None when it has none)."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    assert tag, name
    found = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(found.group(1)) if found else None
