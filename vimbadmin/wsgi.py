"""WSGI entry point, e.g. `gunicorn vimbadmin.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vimbadmin.settings")
# Web requests wait for a lock or a statement only so long (see DATABASE_TIMEOUTS in settings).
os.environ.setdefault("DATABASE_TIMEOUTS", "true")
application = get_wsgi_application()
