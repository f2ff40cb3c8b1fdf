"""Settings, all read from the environment (see README, "Configuration").

Embedded mode (the default) needs nothing installed: SQLite and a Redis server bundled
in a Python package. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL
and Redis. ``DJANGO_ENV=production`` refuses to start without a real secret key and
host list, and turns on every protection ``manage.py check --deploy`` asks for.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import embedded_broker
from config.env import (
    cache_config,
    cache_url_from_broker,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_required,
    env_str,
    env_url,
)
from config.storages import local_storages, s3_storages

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env_choice("DJANGO_ENV", "development", ("development", "production"))
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY", "production needs a long random secret key")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production (comma-separated host names)")
else:
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

DEBUG = env_bool("DEBUG", not PRODUCTION)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",  # not rest_framework.authtoken: personal tokens are core.ApiToken (core/api_auth.py)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Lowest first: each app imports only those above it in this list (pyproject.toml, import-linter).
    "core",
    "notifications",
    "cohorts",
    "skills",
    "labs",
    "courses",
    "mentorship",
    "grading",
    "coach",
    "challenges",
    "config",  # the launcher, seed_demo and generate_scale_data commands
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "core.middleware.NulInAddressMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}", ("sqlite", "postgres", "postgresql", "pgsql")
)
_database = environ.Env.db_url_config(DATABASE_URL)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL + immediate transactions: the web process and the site worker write at once.
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    _database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cohort dashboard's aggregates are computed at most this often per cohort (0: every request).
COHORT_DASHBOARD_CACHE_SECONDS = env_int("COHORT_DASHBOARD_CACHE_SECONDS", 60, minimum=0)

# Push (core/live.py): the events server streams changes to watching pages. LIVE_EVENTS_PORT 0: the
# stream is on the page's own origin at /events/ (a proxy or ingress routes it to the events server);
# else browsers open it on that port of the page's host (make run, docker compose).
LIVE_EVENTS_PORT = env_int("LIVE_EVENTS_PORT", 0, minimum=0)
LIVE_TOKEN_SECONDS = env_int("LIVE_TOKEN_SECONDS", 12 * 3600, minimum=60)
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 30, minimum=1)
# When the stream is down, pages poll instead: the top bar's unread badge this often while visible
# (static/js/notifications.js).
NOTIFICATIONS_POLL_SECONDS = env_int("NOTIFICATIONS_POLL_SECONDS", 30, minimum=1)

# --- Accounts -------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
# Django's model backend, with the signed-in user and their permissions read from the cache.
AUTHENTICATION_BACKENDS = ["core.auth_backend.CachedModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Sign-in throttling (core/login_throttle.py): this many wrong passwords for one username or from
# one address lock sign-in for that long.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 900, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Public lab data files (features and training labels), named by sha256. Test labels stay in the
# database. Lab workers on this machine read them here; elsewhere they fetch them by signed link.
DATASET_STORAGE_DIR = Path(env_str("DATASET_STORAGE_DIR", str(VAR_DIR / "datasets")))
# Uploads, job results and datasets (core.storage): this machine's disk by default; with S3_BUCKET,
# an S3-compatible object store (MinIO in compose and Kubernetes), so no volume is shared between
# nodes. Its keys stay on the site: a lab worker gets each dataset by a link that lives this long.
S3_BUCKET = env_str("S3_BUCKET", "")
LAB_DATASET_URL_TTL = env_int("LAB_DATASET_URL_TTL", 3600, minimum=60)
FILE_STORAGES = (
    s3_storages(
        bucket=S3_BUCKET,
        endpoint_url=env_str("S3_ENDPOINT_URL", ""),
        region=env_str("S3_REGION", "us-east-1"),
        access_key=env_str("S3_ACCESS_KEY_ID", ""),
        secret_key=env_str("S3_SECRET_ACCESS_KEY", ""),
        addressing_style=env_choice("S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto")),
    )
    if S3_BUCKET
    else local_storages()
)
STORAGES = {
    **FILE_STORAGES,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Email ----------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The mentor dashboard flags a mentee with no run and no lesson completed for this many days.
MENTOR_STUCK_DAYS = env_int("MENTOR_STUCK_DAYS", 7, minimum=1)

# Absolute links in emails (notifications, invitations) start with this.
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AI Academy <noreply@localhost>")

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The token class first: DRF takes the first class's WWW-Authenticate header, and with one a bad
    # or missing token answers 401 (not 403). Sessions keep their CSRF check.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "1000/minute"),
        "submissions": env_str("API_THROTTLE_SUBMISSIONS", "30/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Academy API",
    "DESCRIPTION": "Courses, labs, runs and mentorship of the AI talent training platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Deep links put a link inside each operation's expand button: a control nested in a control, which
    # keyboards and screen readers cannot tell apart (axe's nested-interactive; tests/e2e/test_accessibility.py).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    # One name for a choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {
        "NotificationKindEnum": "core.models.NotificationKind",
        "JobStateEnum": "cohorts.models.JobState",
        "RunStateEnum": "labs.models.RunState",  # runs and jobs both have a "state"
        "SkillLevelEnum": "coach.profile.LEVEL_CODES",  # a course's "level" is another
        "CourseLevelEnum": "courses.models.CourseLevel",
        "StepKindEnum": "coach.recommend.STEP_KINDS",
    },
}

# --- Celery ---------------------------------------------------------------------
# Longest a lab run may take; the broker's visibility timeout must exceed it, or
# Redis would hand a still-running job to a second worker.
LAB_MAX_WALL_SECONDS = env_int("LAB_MAX_WALL_SECONDS", 3600, minimum=1)
EMBEDDED_BROKER_DIR = VAR_DIR / "broker"
BROKER_SCHEMES = ("redis", "rediss", "redis+socket", "sentinel")  # sentinel://h:26379/0;sentinel://…
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", embedded_broker.url_for(EMBEDDED_BROKER_DIR), BROKER_SCHEMES)
CELERY_RESULT_BACKEND = env_url("CELERY_RESULT_BACKEND", CELERY_BROKER_URL, BROKER_SCHEMES)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": LAB_MAX_WALL_SECONDS + 600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": LAB_MAX_WALL_SECONDS + 600}
# Redis behind Sentinel (deploy/compose-ha.env, deploy/README.md): the sentinels' URLs in CELERY_BROKER_URL
# and the primary's name here; workers.control.redis_client follows a failover too.
CELERY_SENTINEL_MASTER = env_str("CELERY_SENTINEL_MASTER", "")
if "sentinel://" in CELERY_BROKER_URL + CELERY_RESULT_BACKEND:
    if not CELERY_SENTINEL_MASTER:
        raise ImproperlyConfigured("a sentinel:// CELERY_BROKER_URL needs CELERY_SENTINEL_MASTER, the primary's name")
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = CELERY_SENTINEL_MASTER
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["master_name"] = CELERY_SENTINEL_MASTER
CELERY_RESULT_EXPIRES = 24 * 3600

# --- Cache ----------------------------------------------------------------------
# Shared by every web process and the site workers (core/cache.py): sessions, sign-in throttling,
# each user's role and unread count, rendered fragments. Default: the broker's Redis, next database.
CACHE_URL = env_str("CACHE_URL") or cache_url_from_broker(CELERY_BROKER_URL)
CACHES = {"default": cache_config(CACHE_URL, key_prefix=env_str("CACHE_KEY_PREFIX", "academy"))}
# Sessions are read from the cache and written through to the database (core.sessions).
SESSION_ENGINE = "core.sessions"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# A message sent while the broker restarts (Redis reloading its append-only file: a second
# or two) waits for it instead of failing: retries after 0, 0.5, 1, 1.5 and 2 s, which kombu
# cuts off at the broker connection timeout (4 s): about 5 s in all, where Celery's default
# (3 retries within 0.6 s) gives up during a restart. A web request sends only once the broker
# has just answered it (core.broker; a job's start retries once), so it meets this wait only if the
# broker fails in between; then run_enqueue leaves the run for the sweeper. Lab workers wait longer
# for a run's result (workers.tasks.RESULT_PATIENCE_SECONDS).
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 6, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}

# --- Production hardening -------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The cluster's Prometheus scrapes /metrics over plain HTTP inside the cluster, without the
    # proxy's X-Forwarded-Proto: a redirect to https would break every scrape.
    SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Every page loads its scripts, styles and fonts from /static/: no inline script or style anywhere
# (core.middleware.SecurityHeadersMiddleware sends these on every response; with LIVE_EVENTS_PORT set,
# connect-src also allows the request's host on that port, where pages open their event stream).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)

# --- Request size ---------------------------------------------------------------
# The largest legitimate upload is a 5 MB notebook (labs.validation.MAX_NOTEBOOK_BYTES); a request
# whose body is larger than this is answered 413 before anything reads it (core.middleware).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 6 * 1024 * 1024, minimum=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields without the files (Django's default, said aloud)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # a larger uploaded file is spooled to a temporary file
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # each form uploads one file

# A run is retried once after a platform failure (worker lost), then failed.
LAB_MAX_ATTEMPTS = env_int("LAB_MAX_ATTEMPTS", 2, minimum=1)
# A run whose message waited this long without a worker taking it fails (platform).
LAB_QUEUE_TIMEOUT_SECONDS = env_int("LAB_QUEUE_TIMEOUT_SECONDS", 24 * 3600, minimum=60)
# Silence beyond a run's wall limit plus this grace means its worker is gone.
LAB_LOST_GRACE_SECONDS = env_int("LAB_LOST_GRACE_SECONDS", 120, minimum=5)
# A lab worker beats each attempt's heartbeat in the broker's Redis (workers.control) every
# third of this; the sweeper calls a run whose heartbeat is this old lost, and retries it.
# Lab workers read the same variable: set it alike on the site and on every lab worker.
LAB_HEARTBEAT_SECONDS = env_int("LAB_HEARTBEAT_SECONDS", 30, minimum=3)
# Fair share (labs.dispatch): a learner's runs on the workers at once; the rest wait their turn
# on the site, so one learner's burst never queues in front of everyone else in the broker.
LAB_MAX_ACTIVE_PER_LEARNER = env_int("LAB_MAX_ACTIVE_PER_LEARNER", 1, minimum=1)
CELERY_BEAT_SCHEDULE = {"sweep-runs": {"task": "labs.tasks.sweep_runs", "schedule": 60.0}}
CELERY_BEAT_SCHEDULE["deadline-reminders"] = {"task": "grading.tasks.deadline_reminders", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["reveal-phases"] = {"task": "challenges.tasks.phases_reveal_due", "schedule": 60.0}

# /metrics (config.prometheus): open without sign-in; with a token set, only to a request with
# "Authorization: Bearer <token>". Its figures are computed at most this often per cache.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_CACHE_SECONDS = env_int("METRICS_CACHE_SECONDS", 5, minimum=0)

# How often a run page refreshes while the run is live, in milliseconds.
RUN_PAGE_POLL_MS = env_int("RUN_PAGE_POLL_MS", 1000, minimum=100)

# Demo data (seed_demo) is refused in production; this is its password.
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "learn-ai-2026")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
