"""Aliases on Postfix Admin's `alias` table."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from domains.models import Domain


class Alias(models.Model):
    """A forwarding address (or `@domain` catch-all); goto is a comma-separated target list."""

    address = models.CharField(_("address"), max_length=255, primary_key=True)
    goto = models.TextField(_("destinations"))
    domain = models.ForeignKey(
        Domain,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_column="domain",
        related_name="alias_set",
    )
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        managed = False
        db_table = "alias"
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    @property
    def targets(self) -> list[str]:
        return [t.strip() for t in self.goto.split(",") if t.strip()]

    @property
    def is_catchall(self) -> bool:
        return self.address.startswith("@")
