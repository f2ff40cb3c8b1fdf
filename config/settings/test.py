"""Settings for the test suite: the same as development, with a private embedded broker
and a file-based SQLite test database (so a real worker process can share it)."""

from config import embedded_broker
from config.env import env_str
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
