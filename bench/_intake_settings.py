"""Settings of ``bench/intake_throughput.py``'s gunicorn: the project's, plus a bare view.

Environment as in production (``DATABASE_URL`` of the scratch database, ``REDIS_URL`` for the
cache, the throttle and the Celery broker, with no worker consuming it). The public throttle
is lifted: one load generator on one address would otherwise be refused after 60 requests.
"""

from dispatch_center.settings.base import *  # noqa: F403
from dispatch_center.settings.base import CACHES, REST_FRAMEWORK

ROOT_URLCONF = "bench._intake_urls"
DEBUG = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"public": "100000000/min"}}
CACHES["default"]["KEY_PREFIX"] = "bench-intake"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
