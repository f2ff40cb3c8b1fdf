"""The Celery contract every later step relies on (design.md: long jobs on Celery)."""

from django.conf import settings

from config.celery_app import app


def test_celery_speaks_json_only() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_long_jobs_are_acknowledged_late_and_fetched_one_at_a_time() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_visibility_timeout_outlasts_the_longest_run() -> None:
    assert app.conf.broker_transport_options["visibility_timeout"] > settings.LAB_MAX_WALL_SECONDS


def test_queues_and_routes() -> None:
    assert {q.name for q in app.conf.task_queues} == {"default", "gpu", "cpu"}
    assert app.amqp.router.route({}, "core.tasks.ping")["queue"].name == "default"
    assert app.amqp.router.route({}, "workers.tasks.run_lab_job")["queue"].name == "cpu"
    assert app.amqp.router.route({"queue": "gpu"}, "workers.tasks.run_lab_job")["queue"].name == "gpu"
