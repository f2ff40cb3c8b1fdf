"""The one Celery app. Queues: ``default`` (site work with database access), ``gpu`` and
``cpu`` (lab runs, no database). Settings live in Django settings under ``CELERY_``."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from celery import Celery, bootsteps
from kombu import Queue

if TYPE_CHECKING:
    from celery.worker.consumer import Consumer

logger = logging.getLogger(__name__)

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


class DispatchOnConnect(bootsteps.StartStopStep):
    """A site worker (queue ``default``) asks for a dispatch each time it connects to the broker,
    at start and after an outage: runs submitted while the broker was away wait on the site
    (``labs.dispatch``) and go out now, not at the next sweep."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer: Consumer) -> None:
        if "default" not in {queue.name for queue in consumer.task_consumer.queues}:
            return  # a lab worker
        try:
            consumer.app.send_task("labs.tasks.dispatch_runs", queue="default", ignore_result=True)
        except Exception:  # the broker left again: the next connect, or the sweeper, dispatches
            logger.exception("could not ask for a dispatch of the waiting runs")


app.steps["consumer"].add(DispatchOnConnect)
