"""The platform's health as the probes and the administrator's home see it: database, broker,
queues and the workers that answer.

``health_report`` (``/healthz``) is "ok" only when the database and the broker answer and at least
one lab worker is registered (its heartbeat record, ``workers.gpu_stats``, which ``/metrics``
counts too). A lab queue without a worker of its own is counted, not required: the GPU pool scales
from zero when idle (deploy/k8s/keda-worker-gpu-h100.yaml). Site workers are counted from Celery's
broadcast, which a busy or unlucky worker misses now and then (measured: one call in six at
0.5 s), so they are told, not required.
"""

from __future__ import annotations

from django.db import connection

from config.celery_app import app as celery_app
from core import broker
from labs.models import DeviceClass
from workers import gpu_stats

SITE_QUEUE = "default"
QUEUES = (SITE_QUEUE, "gpu", "cpu")


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as text
        return False, f"{type(exc).__name__}: {exc}"
    return True, connection.vendor


def broker_queue_lengths() -> dict[str, int]:
    """Messages waiting per queue (raises RedisError at once if the broker is unreachable)."""
    pipe = broker.redis_client().pipeline(transaction=False)
    for queue in QUEUES:
        pipe.llen(queue)
    return dict(zip(QUEUES, map(int, pipe.execute()), strict=True))


def workers_seen(timeout: float = 0.5) -> dict[str, list[str]]:
    """Worker name -> the queues it consumes, for every worker answering within ``timeout``."""
    replies = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    return {name: sorted(q["name"] for q in queues) for name, queues in sorted(replies.items())}


def lab_workers_per_queue(records: list[gpu_stats.WorkerRecord]) -> dict[str, int]:
    """Lab workers alive per lab queue (the lab queues are named after the device classes)."""
    return {queue: sum(queue in record.queues for record in records) for queue in DeviceClass.values}


def workers_report() -> tuple[dict[str, list[str]], dict[str, object]]:
    """The workers seen (name -> queues: those answering Celery's broadcast, and the lab workers'
    heartbeat records) and the check of them: workers per queue, and ``missing``, what the platform
    lacks. Raises RedisError when the broker is unreachable."""
    seen = workers_seen()
    lab = gpu_stats.workers_alive(broker.redis_client())
    site_workers = sum(SITE_QUEUE in queues for queues in seen.values())
    missing = []
    if not lab:
        queues = " or ".join(DeviceClass.values)
        missing.append(f"no lab worker is registered (none consumes {queues}: runs wait in the queue)")
    seen.update((record.worker, list(record.queues)) for record in lab)
    per_queue = {SITE_QUEUE: site_workers, **lab_workers_per_queue(lab)}
    return seen, {"ok": not missing, "per_queue": per_queue, "missing": missing}


def readiness_report() -> tuple[bool, dict[str, object]]:
    """Whether this web process can serve: its database answers. The broker's state is told, not
    required: pages, submissions (they wait on the site) and cancels all work while it is away
    (status "degraded")."""
    db_ok, db_detail = database_ok()
    broker_ok = broker.broker_reachable()
    status = "unhealthy" if not db_ok else "ok" if broker_ok else "degraded"
    return db_ok, {"database": {"ok": db_ok, "detail": db_detail}, "broker": {"ok": broker_ok}, "status": status}


def health_report() -> tuple[bool, dict[str, object]]:
    """The whole platform: database, broker and its queues, the workers seen (name -> queues) and
    their check (``worker_check``: per queue, and what is missing). Status "unavailable" without
    the database, "degraded" without the broker or a lab worker, else "ok"."""
    db_ok, db_detail = database_ok()
    report: dict[str, object] = {"database": {"ok": db_ok, "detail": db_detail}}
    try:
        report["broker"] = {"ok": True, "queues": broker_queue_lengths()}
        report["workers"], report["worker_check"] = workers_report()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as text
        report["broker"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        report["workers"] = {}
        report["worker_check"] = {"ok": False, "per_queue": {}, "missing": ["not known: the broker is unreachable"]}
    healthy = db_ok and report["broker"]["ok"] and report["worker_check"]["ok"]
    report["status"] = "ok" if healthy else "unavailable" if not db_ok else "degraded"
    return healthy, report
