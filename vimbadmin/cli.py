"""The `vimbadmin` command (and manage.py): Django's management commands for this project."""

import os
import sys


def main() -> None:
    """Run a management command; configuration and connection errors print one line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vimbadmin.settings")
    if sys.argv[1:2] == ["runserver"]:
        # The development server serves web requests: same database timeouts as vimbadmin.wsgi.
        os.environ.setdefault("DATABASE_TIMEOUTS", "true")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        # Read the settings first: Django's own command runner would keep a settings error
        # aside and fail later with an unrelated traceback.
        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    except DatabaseError as exc:
        # An unreachable server or bad credentials: say so, with no traceback.
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(f"Database error: {message}. Check DATABASE_URL and that the server is running.")
