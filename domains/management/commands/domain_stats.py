"""The old name of `domain_counters`, kept for one release, with a deprecation note on stderr."""

from typing import Any

from django.utils.translation import gettext as _

from domains.management.commands.domain_counters import Command as DomainCounters


class Command(DomainCounters):
    help = "Deprecated: the old name of `domain_counters`, which see."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write(
            _(
                "`domain_stats` is deprecated and will be removed in the next release: use "
                "`manage.py domain_counters` (same options) in cron."
            ),
            style_func=self.style.WARNING,
        )
        super().handle(*args, **options)
