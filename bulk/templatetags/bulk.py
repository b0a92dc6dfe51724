"""{% bulk_bar "mailboxes" %}: a list's action bar for the rows ticked in its table.

The bar is a form of its own (id core.listing.tables.BULK_FORM_ID) that the table's boxes name
with form=, posting to the list's bulk page (bulk.views) with the list's query string, which
answers with the confirmation page. No script is needed.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from accounts.scoping import is_superadmin
from bulk.services import QUOTA
from bulk.views import VIEWS, BulkForm
from core.listing.tables import BULK_FORM_ID

register = template.Library()


@register.inclusion_tag("bulk/_bulk_bar.html", takes_context=True)
def bulk_bar(context: Any, kind: str) -> dict[str, Any]:
    request = context["request"]
    view = VIEWS[kind]
    if view.super_admins_only and not is_superadmin(request.user):
        return {"shown": False}
    query = request.GET.urlencode()
    return {
        "shown": True,
        "form": BulkForm(actions=view.actions, auto_id="bulk-list-%s"),
        "form_id": BULK_FORM_ID,
        "url": reverse(f"bulk:bulk-{kind}") + (f"?{query}" if query else ""),
        "csrf_token": context.get("csrf_token"),
        "has_quota": QUOTA in view.actions,
    }
