"""WSGI entry point, e.g. `gunicorn vimbadmin.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vimbadmin.settings")
application = get_wsgi_application()
