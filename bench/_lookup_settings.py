"""Settings of ``bench/lookup_throughput.py``'s gunicorn: the project's, plus two bare views.

Environment as in production (``DATABASE_URL`` of the scratch database, ``REDIS_URL`` for the
cache and the throttle). The public throttle is lifted: one load generator on one address would
otherwise be refused after 60 requests.
"""

from dispatch_center.settings.base import *  # noqa: F403
from dispatch_center.settings.base import CACHES, REST_FRAMEWORK

ROOT_URLCONF = "bench._lookup_urls"
DEBUG = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"public": "100000000/min"}}
CACHES["default"]["KEY_PREFIX"] = "bench-lookup"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
