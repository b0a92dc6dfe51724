"""The admin list as a django-tables2 table."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from accounts.models import Admin


class AdminTable(tables.Table):
    """List admins with their role, state and number of domains."""

    username = tables.LinkColumn(
        "accounts:admin-detail", args=[tables.A("pk")], verbose_name=_("E-mail address")
    )
    is_super = tables.TemplateColumn(
        template_name="accounts/_superadmin_badge.html",
        verbose_name=_("Role"),
        order_by=("-superadmin", "username"),
    )
    active = tables.TemplateColumn(
        template_name="accounts/_admin_toggle.html",
        verbose_name=_("Active"),
    )
    domain_count = tables.Column(verbose_name=_("Domains"))
    created = tables.DateTimeColumn(verbose_name=_("Created"), format="Y-m-d H:i")

    class Meta:
        model = Admin
        fields = ("username", "is_super", "active", "domain_count", "created")
        attrs = {"class": "table table-striped table-hover align-middle"}
        order_by = "username"
        empty_text = _("No admins match.")
