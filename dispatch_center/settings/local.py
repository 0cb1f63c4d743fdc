"""Embedded default for trying the application out (``manage.py`` uses it).

With no environment variables set this is SQLite, with the Celery broker and the cache in files
under ``VAR_DIR`` (``scripts/demo`` starts the worker and beat).
"""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The demo serves static files straight from the source folders when DEBUG is on.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = True
