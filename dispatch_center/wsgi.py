"""WSGI entry point (gunicorn dispatch_center.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch_center.settings.local")
application = get_wsgi_application()
