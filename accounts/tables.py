"""The admin list as a django-tables2 table."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Admin
from core.listing.tables import per_table, row_url, toggle_form


class AdminTable(tables.Table):
    """List admins with their role, state and number of domains."""

    username = tables.LinkColumn(
        "accounts:admin-detail", args=[tables.A("pk")], verbose_name=_("E-mail address")
    )
    is_super = tables.Column(
        verbose_name=_("Role"), order_by=("-superadmin", "username"), empty_values=()
    )
    active = tables.Column(verbose_name=_("Active"), empty_values=())
    domain_count = tables.Column(verbose_name=_("Domains"))
    created = tables.DateTimeColumn(verbose_name=_("Created"), format="Y-m-d H:i")

    class Meta:
        model = Admin
        fields = ("username", "is_super", "active", "domain_count", "created")
        attrs = {"class": "table table-striped table-hover align-middle"}
        order_by = "username"
        empty_text = _("No admins match.")

    def render_is_super(self, record: Any) -> SafeString:
        if record.is_super:
            return per_table(
                self,
                "badge:super",
                lambda: format_html(
                    '<span class="badge text-bg-danger">{}</span>', gettext("Super admin")
                ),
            )
        return per_table(
            self,
            "badge:domain",
            lambda: format_html(
                '<span class="badge text-bg-secondary">{}</span>', gettext("Domain admin")
            ),
        )

    def render_active(self, record: Admin) -> SafeString:
        url = row_url(self, "accounts:admin-toggle", record.pk)
        return toggle_form(self, url, record.active, record.username)
