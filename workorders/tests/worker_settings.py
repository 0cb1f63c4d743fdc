"""Settings for a Celery worker process that a test starts on its own (``celery worker`` as a
subprocess): the test settings, on the test database and with the cache key prefix the test
shares with its workers (the test settings otherwise key the cache by process id)."""

import os

from dispatch_center.settings.test import *  # noqa: F403
from dispatch_center.settings.test import CACHES, DATABASES

DATABASES["default"]["NAME"] = os.environ["TEST_WORKER_DB_NAME"]
CACHES["default"]["KEY_PREFIX"] = os.environ["TEST_WORKER_CACHE_PREFIX"]
CELERY_TASK_ALWAYS_EAGER = False
