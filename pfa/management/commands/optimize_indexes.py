"""The old name of `install_derived`, kept for one release: same options, `--remove-kept` for
`--remove-tables`, and a deprecation note on stderr."""

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from pfa.management.commands.install_derived import Command as InstallDerived


class Command(InstallDerived):
    help = "Deprecated: the old name of `install_derived`, which see."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--remove-kept",
            action="store_true",
            dest="remove_tables",
            help="the old name of --remove-tables",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stderr.write(
            _(
                "`optimize_indexes` is deprecated and will be removed in the next release: use "
                "`manage.py install_derived` (--remove-kept is now --remove-tables)."
            ),
            style_func=self.style.WARNING,
        )
        super().handle(*args, **options)
