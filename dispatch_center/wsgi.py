"""WSGI entry point (gunicorn dispatch_center.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch_center.settings.local")
application = get_wsgi_application()

# What a web process keeps in memory starts loading now, not at its first request.
from grids.selectors.address_snapshot import warm  # noqa: E402

warm()
