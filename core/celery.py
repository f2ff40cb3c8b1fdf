"""The one Celery app. Queues: ``default`` (site work with database access), ``gpu`` and
``cpu`` (lab runs, no database). Settings live in Django settings under ``CELERY_``."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

app = Celery("core")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"), Queue("cpu"))
app.conf.task_default_queue = "default"

# Lab runs are sent with the lab's own queue (gpu or cpu), which outranks these routes;
# a lab job sent without one goes to cpu. Everything else is site work.
app.conf.task_routes = {
    "workers.tasks.*": {"queue": "cpu"},
    "core.tasks.*": {"queue": "default"},
    "courses.tasks.*": {"queue": "default"},
    "labs.tasks.*": {"queue": "default"},
    "mentorship.tasks.*": {"queue": "default"},
}
app.autodiscover_tasks(["core", "courses", "labs", "mentorship", "workers"])
