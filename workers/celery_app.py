"""The lab workers' Celery app: ``celery -A workers.celery_app worker -Q cpu`` (or ``-Q gpu``).

A lab node has the broker and the dataset storage, never the database: this app imports no
Django and takes its configuration from the environment only:

- ``CELERY_BROKER_URL`` (required): ``redis://``, ``rediss://`` or ``redis+socket:///path``
  (the embedded broker of ``make run``, a Redis on a unix socket);
- ``CELERY_RESULT_BACKEND``: the same schemes; default, the broker;
- ``LAB_MAX_WALL_SECONDS`` (default 3600): the longest lab run; the broker's visibility
  timeout is 600 s more, or Redis would hand a job still running to a second worker. The site
  derives its own from the same variable: both sides must agree.

The rest matches what the site's app uses for lab runs (JSON only, late acks, a message
redelivered when its worker dies, prefetch 1, task events). Queues: ``cpu`` and ``gpu``
(``cpu`` by default); the only task is ``workers.tasks.run_lab_job``; events go to the site's
queue by name (``workers.events``).

The environment is read when the app is first configured (the worker's start, or a first
send), not at import: the site's processes import ``workers`` modules without being lab
workers, and a missing ``CELERY_BROKER_URL`` raises ``ImproperlyConfigured`` naming it then,
at every use. ``set_as_current=False``: in such a process the site's app stays Celery's current
app; ``fixups=[]``: Celery's Django fix-up would import Django whenever
``DJANGO_SETTINGS_MODULE`` is set.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit


@contextlib.contextmanager
def _django_hidden() -> Iterator[None]:
    """Celery and kombu each import a piece of Django when it is installed, to handle its lazy
    objects (``kombu.utils.json``: lazy strings; ``celery.utils.collections``: lazy settings). A lab
    worker has none, so where Django is installed too (a developer's virtualenv, ``make run``) it is
    hidden while they load, and importing this app loads no Django at all. The lab worker image has
    no Django installed. (Celery's own command line imports kombu's JSON before it loads
    ``-A workers.celery_app``: in a virtualenv with Django that process holds ``django.utils`` —
    no settings, no apps.)"""
    if "django" in sys.modules:  # the site's process: nothing to hide from it
        yield
        return
    sys.modules["django"] = None  # type: ignore[assignment] # `import django…` raises ImportError
    try:
        yield
    finally:
        del sys.modules["django"]


with _django_hidden():
    import celery.utils.collections  # noqa: F401
    import kombu.utils.json  # noqa: F401
    from celery import Celery
    from celery.exceptions import ImproperlyConfigured
    from kombu import Queue

LAB_QUEUES = ("cpu", "gpu")
DEFAULT_QUEUE = "cpu"
BROKER_SCHEMES = ("redis", "rediss", "redis+socket", "sentinel")  # sentinel: CELERY_SENTINEL_MASTER too
DEFAULT_LAB_MAX_WALL_SECONDS = 3600
# How much longer than the longest run the broker waits before it hands an unacknowledged job
# to another worker (also Celery's hard time limit of a run: workers.tasks).
WALL_MARGIN_SECONDS = 600

# A message sent while the broker restarts (Redis reloading its append-only file: a second or
# two) waits for it instead of failing: retries after 0, 0.5, 1, 1.5 and 2 s, cut off by kombu
# at the broker connection timeout. Events of a run's end wait longer (workers.tasks).
PUBLISH_RETRY_POLICY = {"max_retries": 6, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value or None


def _broker_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in BROKER_SCHEMES:
        raise ImproperlyConfigured(f"{name}={value!r}: the scheme must be one of {', '.join(BROKER_SCHEMES)}")
    if parts.scheme == "redis+socket":
        if not parts.path:
            raise ImproperlyConfigured(f"{name}={value!r} needs the socket's path, e.g. redis+socket:///run/redis.sock")
    elif not parts.hostname:
        raise ImproperlyConfigured(f"{name}={value!r} has no host")
    return value


def lab_max_wall_seconds(environ: Mapping[str, str]) -> int:
    """``LAB_MAX_WALL_SECONDS``: the longest a lab run may take (default 3600, at least 1)."""
    value = _env(environ, "LAB_MAX_WALL_SECONDS")
    if value is None:
        return DEFAULT_LAB_MAX_WALL_SECONDS
    try:
        seconds = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"LAB_MAX_WALL_SECONDS={value!r} is not an integer") from None
    if seconds < 1:
        raise ImproperlyConfigured(f"LAB_MAX_WALL_SECONDS={seconds} must be at least 1")
    return seconds


def config_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The lab worker's Celery settings from ``environ``; ``ImproperlyConfigured`` names a bad variable."""
    broker = _env(environ, "CELERY_BROKER_URL")
    if broker is None:
        raise ImproperlyConfigured(
            "CELERY_BROKER_URL must be set: the broker the lab worker takes jobs from and sends events to, "
            "e.g. redis://redis:6379/0 or redis+socket:///path/to/redis.sock"
        )
    broker = _broker_url("CELERY_BROKER_URL", broker)
    backend = _broker_url("CELERY_RESULT_BACKEND", _env(environ, "CELERY_RESULT_BACKEND") or broker)
    visibility_timeout = lab_max_wall_seconds(environ) + WALL_MARGIN_SECONDS
    transport: dict[str, Any] = {"visibility_timeout": visibility_timeout}
    if "sentinel" in (urlsplit(broker).scheme, urlsplit(backend).scheme):  # Redis behind Sentinel
        master = _env(environ, "CELERY_SENTINEL_MASTER")
        if master is None:
            raise ImproperlyConfigured("a sentinel:// broker needs CELERY_SENTINEL_MASTER, the primary's name")
        transport["master_name"] = master
    return {
        "broker_url": broker,
        "result_backend": backend,
        "broker_transport_options": dict(transport),
        "result_backend_transport_options": dict(transport),
        "result_expires": 24 * 3600,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "broker_connection_retry_on_startup": True,
        "task_publish_retry": True,
        "task_publish_retry_policy": dict(PUBLISH_RETRY_POLICY),
        "task_queues": tuple(Queue(name) for name in LAB_QUEUES),
        "task_default_queue": DEFAULT_QUEUE,
    }


class LabWorkerApp(Celery):
    """A Celery app configured from ``os.environ`` when it is first configured (``config_from_env``)."""

    def on_configure(self) -> None:
        # A method, not Celery's on_configure signal, whose receivers' errors are only logged:
        # this raises, at every use of an app with a bad environment, never a default broker.
        self.config_from_object(config_from_env(os.environ))


app = LabWorkerApp("workers", set_as_current=False, fixups=[], include=["workers.tasks"])
