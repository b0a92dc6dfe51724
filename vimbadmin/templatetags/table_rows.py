"""The {% table_rows %} tag of the project's table template."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from vimbadmin.tables import render_rows

register = template.Library()


@register.simple_tag
def table_rows(table: Any) -> SafeString:
    """Render the rows of a table's current page (empty string when there are none)."""
    return render_rows(table)
