"""The {% table_rows %}, {% table_head %} and {% table_pagination %} tags of the table template."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from core.listing.tables import render_head, render_pagination, render_rows

register = template.Library()


@register.simple_tag
def table_rows(table: Any) -> SafeString:
    """Render the rows of a table's current page (empty string when there are none)."""
    return render_rows(table)


@register.simple_tag
def table_head(table: Any) -> SafeString:
    """Render the table's <thead> with its sort links."""
    return render_head(table)


@register.simple_tag
def table_pagination(table: Any) -> SafeString:
    """Render the page links (nothing when everything fits on one page)."""
    return render_pagination(table)
