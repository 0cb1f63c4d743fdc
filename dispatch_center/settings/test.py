"""Settings for the test suite: PostgreSQL and Redis on the local servers unless overridden.

Tasks run eagerly by default; the tests of task paths start a real Celery worker against the
real Redis broker (see ``conftest.py``).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_center")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from .base import *  # noqa: E402, F403
from .base import REDIS_SOCKET_OPTIONS, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CACHES = {
    "default": {
        "BACKEND": "dispatch_center.core.redis_client.ReusingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test-{os.getpid()}",
        "OPTIONS": REDIS_SOCKET_OPTIONS,
    }
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"public": "10000/min"},
}
# Serve static files from the app folders; no collectstatic in tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Other apps' tests change outages all the time: no snapshot files on every change, and none
# under var/ (the tests of the snapshot wiring turn it on with their own directory).
SNAPSHOT_AUTO_PUBLISH = False
SNAPSHOT_DIR = Path(tempfile.gettempdir()) / f"dc-test-snapshot-{os.getpid()}"
# The look-up's in-memory address index is built in a background thread from committed rows;
# tests' rows are not committed. Its own tests turn it on and build it on their connection.
PUBLIC_LOOKUP_ADDRESS_INDEX = False
