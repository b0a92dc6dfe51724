"""What the project keeps from a ViMbAdmin 3 import beyond Postfix Admin's tables."""

from __future__ import annotations

from django.db import models


class MailboxLocation(models.Model):
    """A mailbox whose mail stays at a Dovecot location of its own (the generated Dovecot
    user query returns `home` and `mail` from here when `mailconfig --mailbox-locations`)."""

    username = models.CharField(max_length=255, primary_key=True)
    home = models.CharField(max_length=255)
    mail = models.CharField(max_length=255, default="", blank=True)

    class Meta:
        db_table = "vimbadmin_mailbox_location"

    def __str__(self) -> str:
        return f"{self.username}: {self.mail or self.home}"


class KeptRow(models.Model):
    """A ViMbAdmin 3 preference or archive row that Postfix Admin has no place for, kept whole
    (JSON of its columns) so nothing is dropped silently; a `log` entry (no data) marks a log
    row already imported into Postfix Admin's log."""

    source_table = models.CharField(max_length=32)
    source_id = models.BigIntegerField()
    # The mailbox, alias, domain or admin the row belonged to, by name.
    owner = models.CharField(max_length=255, default="", blank=True)
    data = models.TextField()
    imported = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "vimbadmin_v3_kept"
        constraints = [
            models.UniqueConstraint(
                fields=["source_table", "source_id"], name="vimbadmin_v3_kept_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_table}#{self.source_id} ({self.owner})"
