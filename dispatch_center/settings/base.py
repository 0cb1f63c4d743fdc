"""Settings shared by every environment.

Production differences come from environment variables only:
``DJANGO_DEBUG``, ``DJANGO_SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL``, ``ALLOWED_HOSTS``.
With none of them set the project runs in its embedded mode: a SQLite file, a Celery broker
and a cache kept in files under ``VAR_DIR`` (no server needed) and a worker with beat started
by ``scripts/demo``, so one command gives a working demo that runs the periodic jobs too.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_INSECURE_DEV_KEY = "insecure-embedded-demo-key-do-not-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or not env.str("DATABASE_URL", default=""):
        # The embedded demo (no DATABASE_URL) and DEBUG runs may use a fixed key.
        SECRET_KEY = _INSECURE_DEV_KEY
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DATABASE_URL is set.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "dispatch_center.core.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "django_celery_beat",
    "dispatch_center.core",
    "grids",
    "outages",
    "reliability",
    "workorders",
    "complaints",
    "fieldapp",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # JSON errors for everything under /api/ (404 of unknown routes, 413, server errors).
    "dispatch_center.core.middleware.ApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dispatch_center.urls"
WSGI_APPLICATION = "dispatch_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
VAR_DIR = Path(env.str("DISPATCH_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # The web server and the demo's worker and beat write at once: WAL lets readers
            # go on during a write, and transactions take the write lock when they begin
            # (IMMEDIATE), so a busy database makes them wait (timeout) instead of failing.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Redis down must not hang requests: short socket timeouts for the cache and the broker. The
# paths that must work without Redis (public reports, the look-up, task messages after a
# commit) fail open through dispatch_center.core.degraded, which skips Redis for this many
# seconds after a failure and logs the outage once per process.
REDIS_SOCKET_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}
REDIS_RETRY_SECONDS = env.float("REDIS_RETRY_SECONDS", default=2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "dispatch_center.core.redis_client.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dc"),
            "OPTIONS": REDIS_SOCKET_OPTIONS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
elif DATABASE_URL:
    # PostgreSQL without Redis (benchmarks, one-off scripts): tasks run in-process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
else:
    # Embedded mode: the web server and the demo's worker and beat (scripts/demo) share a
    # broker and a cache kept in files, so debounce keys and locks hold across processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_RESULT_BACKEND = "cache+memory://"
    # Tasks go to the worker; CELERY_TASK_ALWAYS_EAGER=1 runs them in-process (no worker).
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": 3600,
    **REDIS_SOCKET_OPTIONS,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
# Sending a message after a commit: a few quick retries, then core.tasks gives up (logged).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if not REDIS_URL and not DATABASE_URL:
    # Embedded mode: kombu's filesystem transport, one file a message under VAR_DIR/broker.
    _BROKER_DIR = VAR_DIR / "broker"
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
        "polling_interval": 0.5,
    }
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- I18N / time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- REST framework ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "dispatch_center.core.api.DefaultPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "dispatch_center.core.api.exception_handler",
    # Bounded JSON nesting (400, not a RecursionError), then the usual form parsers.
    "DEFAULT_PARSER_CLASSES": [
        "dispatch_center.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"public": env.str("PUBLIC_THROTTLE_RATE", default="60/min")},
}
# The client address of the public rate limit (dispatch_center.core.throttling): the peer of
# the socket, unless the peer is one of these proxies (addresses or CIDR networks, comma
# separated); then the nearest address in X-Forwarded-For that is not one of them. Default:
# none trusted (the header is ignored). Behind the sample deploy/nginx.conf: 127.0.0.1.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# API bodies: JSON / form bodies up to API_MAX_BODY_BYTES, multipart uploads (crew photos) up
# to API_MAX_UPLOAD_BYTES; larger ones are refused with 413. JSON nested deeper than
# API_JSON_MAX_DEPTH is refused with 400.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2_621_440)
API_MAX_UPLOAD_BYTES = env.int("API_MAX_UPLOAD_BYTES", default=16 * 1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "Outage & repair dispatch center API",
    "DESCRIPTION": "Integration contract v1: public map, crews' app, SCADA gateway, hotline.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The UI is served from our own static files: it must work without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The errors every operation can answer (401/403/404/413/422/429...), added centrally.
    # Request bodies get their own components, so that fields refusing blank get minLength 1.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dispatch_center.core.schema.add_error_responses",
    ],
    # Several fields are called "channel" (report channels, notification channels).
    "ENUM_NAME_OVERRIDES": {
        "NotificationChannelEnum": "outages.models.Subscription.Channel",
        "ReportChannelEnum": "outages.models.TroubleReport.Channel",
    },
}

# --- Maps -----------------------------------------------------------------------------------
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (22.6, 114.05),
    "DEFAULT_ZOOM": 11,
    "MIN_ZOOM": 8,
    "MAX_ZOOM": 19,
    "RESET_VIEW": False,
    "TILES": [
        (
            "OpenStreetMap",
            env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
}

# --- Public outage map and its snapshot ----------------------------------------------------------
# Tile layers the public map may use. Amap and Tencent draw their tiles in GCJ-02 ("datum"), so
# the map's JS converts our WGS-84 data for display on them. MAP_TILE_PROVIDERS picks and orders
# them (the first is shown; more than one adds a layer switcher), e.g. "amap,osm".
_OSM_NAME, _OSM_URL, _OSM_OPTIONS = LEAFLET_CONFIG["TILES"][0]  # type: ignore[index]
MAP_TILE_LAYERS = {
    "osm": (_OSM_NAME, _OSM_URL, {**_OSM_OPTIONS, "datum": "wgs84"}),
    "amap": (
        _("高德地图"),
        env.str(
            "MAP_AMAP_TILE_URL",
            default="https://webrd0{s}.is.autonavi.com/appmaptile"
            "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        ),
        {"subdomains": "1234", "attribution": "&copy; 高德地图", "maxZoom": 18, "datum": "gcj02"},
    ),
    "tencent": (
        _("腾讯地图"),
        env.str(
            "MAP_TENCENT_TILE_URL",
            default="https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&styleid=1000&scene=0",
        ),
        {"subdomains": "0123", "attribution": "&copy; 腾讯地图", "maxZoom": 18, "datum": "gcj02"},
    ),
}
MAP_TILE_PROVIDERS = env.list("MAP_TILE_PROVIDERS", default=["osm"])
if not MAP_TILE_PROVIDERS or set(MAP_TILE_PROVIDERS) - MAP_TILE_LAYERS.keys():
    raise ImproperlyConfigured(f"MAP_TILE_PROVIDERS must list some of {sorted(MAP_TILE_LAYERS)}.")
LEAFLET_CONFIG["TILES"] = [MAP_TILE_LAYERS[name] for name in MAP_TILE_PROVIDERS]
LEAFLET_CONFIG["SCALE"] = "metric"
# The published snapshot (outages/publishing.py): nginx or a CDN serves SNAPSHOT_DIR under
# SNAPSHOT_URL_PREFIX (see deploy/nginx.conf); Django serves the same files there too, for the
# embedded mode. The prefix may be an absolute CDN URL; Django then serves /snapshot/.
SNAPSHOT_DIR = Path(env.str("SNAPSHOT_DIR", default=str(VAR_DIR / "snapshot")))
SNAPSHOT_URL_PREFIX = env.str("SNAPSHOT_URL_PREFIX", default="/snapshot/")
SNAPSHOT_KEEP = env.int("SNAPSHOT_KEEP", default=5)
# At most one publish per this many seconds (a change in between is published at its end).
SNAPSHOT_MIN_INTERVAL = env.int("SNAPSHOT_MIN_INTERVAL", default=30)
# How often the map page checks current.json for a new version.
MAP_POLL_SECONDS = env.int("MAP_POLL_SECONDS", default=30)

# --- Work orders and dispatch (workorders.services.common reads these) ----------------------
# A crew must accept an offered order within this time, or it is offered to the next crew.
WORKORDERS_ACCEPT_TIMEOUT_SECONDS = env.int("WORKORDERS_ACCEPT_TIMEOUT_SECONDS", default=300)
# Storm mode: above this many orders waiting, non-urgent ones are matched in batches.
WORKORDERS_STORM_THRESHOLD = env.int("WORKORDERS_STORM_THRESHOLD", default=30)
# How long the first storm batch of a burst collects orders before matching them (longer:
# bigger, better matched batches; shorter: less waiting). The batches that follow run at once
# when the previous one ends: the orders that arrived meanwhile have waited for it already,
# and the rolling horizon re-plans the offers not yet accepted, so nothing is gained by waiting.
WORKORDERS_BATCH_DELAY_SECONDS = env.float("WORKORDERS_BATCH_DELAY_SECONDS", default=0.3)
# The storm batch's lease: a batch whose worker died frees it within this many seconds.
WORKORDERS_BATCH_LEASE_SECONDS = env.float("WORKORDERS_BATCH_LEASE_SECONDS", default=15.0)
# Rolling horizon: an offer no crew has accepted yet moves to another crew only when the
# storm batch gains at least this many minute-equivalents per moved offer (churn threshold).
WORKORDERS_REPLAN_MIN_GAIN_MINUTES = env.float("WORKORDERS_REPLAN_MIN_GAIN_MINUTES", default=2.0)
# The sweeper re-queues an order still waiting this long after its last dispatch request.
WORKORDERS_DISPATCH_STALE_SECONDS = env.int("WORKORDERS_DISPATCH_STALE_SECONDS", default=60)
# Grab pool time to live when no pool policy sets one.
WORKORDERS_POOL_TTL_SECONDS = env.int("WORKORDERS_POOL_TTL_SECONDS", default=300)
WORKORDERS_PHOTO_MAX_BYTES = 10 * 1024 * 1024
WORKORDERS_CLOSE_ON_CONFIRMED_VISIT = True

# --- Trouble report intake and the roll-up (outages.services.intake / rollup_run) ----------------
# Storm mode: the roll-up engine's storm settings (longer window, lower call-in rate).
OUTAGE_ROLLUP_STORM_MODE = env.bool("OUTAGE_ROLLUP_STORM_MODE", default=False)
OUTAGE_ROLLUP_MODE = env.str("OUTAGE_ROLLUP_MODE", default="likelihood")  # or "rules"
# How often each kind of element fails (shares; outages.rollup.FaultMix), e.g.
# "premise=0.3;transformer=0.2;lateral=0.3;section=0.15;switch=0.05"; empty: the defaults.
OUTAGE_ROLLUP_FAULT_MIX = env.dict("OUTAGE_ROLLUP_FAULT_MIX", cast={"value": float}, default={})
# After an intake commits, one roll-up run is queued this many seconds later (debounce).
OUTAGE_ROLLUP_DEBOUNCE_SECONDS = env.float("OUTAGE_ROLLUP_DEBOUNCE_SECONDS", default=3.0)
OUTAGE_INTAKE_TRIGGER_ROLLUP = env.bool("OUTAGE_INTAKE_TRIGGER_ROLLUP", default=True)
# A lone report waits this long for neighbours' calls before a premise visit is requested.
OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY = env.int("OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY", default=180)
# Switching devices that report to SCADA: while energised and closed, nothing at or above
# them is predicted from calls.
OUTAGE_ROLLUP_TELEMETERED_KINDS = env.list(
    "OUTAGE_ROLLUP_TELEMETERED_KINDS", default=["breaker", "recloser"]
)
# Coordinates resolve to the nearest service point within this distance.
OUTAGE_INTAKE_NEAREST_METERS = env.float("OUTAGE_INTAKE_NEAREST_METERS", default=150.0)
# A call from a customer restored this recently (or in a still-active outage) opens a nested one.
OUTAGE_INTAKE_NESTED_WINDOW_MINUTES = env.int("OUTAGE_INTAKE_NESTED_WINDOW_MINUTES", default=240)
# The public address look-up's answers stay cached this long (and until an outage changes).
PUBLIC_LOOKUP_CACHE_SECONDS = env.int("PUBLIC_LOOKUP_CACHE_SECONDS", default=30)
# Each web process searches addresses in memory (grids.selectors.address_snapshot; PostgreSQL
# only): about 65 MB per process at 300,000 service points. False: search the database.
PUBLIC_LOOKUP_ADDRESS_INDEX = env.bool("PUBLIC_LOOKUP_ADDRESS_INDEX", default=True)

# --- Snapshot wiring and notifications to the public (outages.snapshot, .notifications) ------
# Publish the snapshot after outage changes (throttled by SNAPSHOT_MIN_INTERVAL); beat also
# publishes every few minutes as a safety net.
SNAPSHOT_AUTO_PUBLISH = env.bool("SNAPSHOT_AUTO_PUBLISH", default=True)
# Absolute links in messages (unsubscribe) start with this.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# The class that delivers notifications (send(recipient, subject, body)); per channel overrides
# in NOTIFICATION_SENDERS, e.g. {"email": "outages.notifications.EmailSender"}.
NOTIFICATION_SENDER = env.str("NOTIFICATION_SENDER", default="outages.notifications.LoggingSender")
NOTIFICATION_SENDERS: dict[str, str] = {}
NOTIFICATION_MAX_NEW_SUBSCRIPTIONS_PER_DAY = env.int(
    "NOTIFICATION_MAX_NEW_SUBSCRIPTIONS_PER_DAY", default=10
)
NOTIFICATION_ADDRESS_SUBSCRIPTION_DAYS = env.int(
    "NOTIFICATION_ADDRESS_SUBSCRIPTION_DAYS", default=30
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
