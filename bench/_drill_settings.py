"""Settings of ``bench/storm_drill.py``'s processes: production's (``settings.base``), with the
bare insert view of ``bench/_intake_urls.py`` mounted beside the project's URLs so the drill
measures the insert capacity in the same gunicorn. Everything else comes from the environment
the drill sets, as in production: the public throttle stays on (60/min per client address;
the drill's callers come through a trusted proxy, each with its own address)."""

from dispatch_center.settings.base import *  # noqa: F403
from dispatch_center.settings.base import CACHES

ROOT_URLCONF = "bench._intake_urls"
DEBUG = False
CACHES["default"]["KEY_PREFIX"] = "storm-drill"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
