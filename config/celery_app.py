"""The site's Celery app: the web process sends with it, and the site worker (queue ``default``:
work with database access) and beat run it. Settings live in Django settings under ``CELERY_``.

Lab runs (queues ``gpu`` and ``cpu``) are sent from here by name but run on lab workers, which start
another app, ``workers.celery_app``, that never imports Django."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from celery import Celery, bootsteps
from kombu import Queue

if TYPE_CHECKING:
    from celery.worker.consumer import Consumer

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# The apps whose tasks the site worker runs (queue ``default``).
SITE_APPS = ["core", "notifications", "courses", "cohorts", "labs", "grading", "mentorship", "challenges"]

app = Celery("config")
# The default in every thread of the site, not only the one that created it: the apps send with
# ``celery.current_app`` (they never import config), and a web server answers in many threads.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"), Queue("cpu"))
app.conf.task_default_queue = "default"

# Lab runs are sent with the lab's own queue (gpu or cpu), which outranks these routes;
# a lab job sent without one goes to cpu. Everything else is site work.
app.conf.task_routes = {
    "workers.tasks.*": {"queue": "cpu"},
    **{f"{site_app}.tasks.*": {"queue": "default"} for site_app in SITE_APPS},
}
app.autodiscover_tasks(SITE_APPS)


class DispatchOnConnect(bootsteps.StartStopStep):
    """A site worker (queue ``default``) asks for a dispatch each time it connects to the broker,
    at start and after an outage: runs submitted while the broker was away wait on the site
    (``labs.dispatch``) and go out now, not at the next sweep."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer: Consumer) -> None:
        if "default" not in {queue.name for queue in consumer.task_consumer.queues}:
            return  # a lab worker
        try:
            # labs.dispatch.DISPATCH_TASK (this module loads before the apps, so it cannot import it)
            consumer.app.send_task("labs.tasks.dispatch_runs", queue="default", ignore_result=True)
        except Exception:  # the broker left again: the next connect, or the sweeper, dispatches
            logger.exception("could not ask for a dispatch of the waiting runs")


app.steps["consumer"].add(DispatchOnConnect)
