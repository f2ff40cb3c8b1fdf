"""Settings for the test suite: the same as development, with a private embedded broker
and a file-based SQLite test database (so a real worker process can share it)."""

import hashlib

from config import embedded_broker
from config.env import cache_config, cache_url_from_broker, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, VAR_DIR

EMBEDDED_BROKER_DIR = VAR_DIR / "test-broker"
if env_str("CELERY_BROKER_URL") is None:
    CELERY_BROKER_URL = embedded_broker.url_for(EMBEDDED_BROKER_DIR)
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Look static files up per request instead of indexing all of them each time a test client
# builds its middleware (~0.6 s per client with DEBUG off, as pytest runs).
WHITENOISE_AUTOREFRESH = True
COHORT_DASHBOARD_CACHE_SECONDS = 0  # tests change data between requests; test_dashboard_cache turns it on

# The suite's cache: the test broker's Redis, keys prefixed by this checkout's VAR_DIR so that two
# suites on one machine (CI and a developer's) never read or clear each other's keys. Processes
# the tests start (Celery workers) inherit VAR_DIR, so they share the prefix and invalidations.
CACHE_URL = env_str("CACHE_URL") or cache_url_from_broker(CELERY_BROKER_URL)
_CACHE_PREFIX = "test-" + hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:10]
CACHES = {"default": cache_config(CACHE_URL, key_prefix=_CACHE_PREFIX)}
