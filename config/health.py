"""The platform's health as the probes and the administrator's home see it: database, broker,
queues and the workers that answer."""

from __future__ import annotations

from django.db import connection

from config.celery_app import app as celery_app
from core import broker

QUEUES = ("default", "gpu", "cpu")


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


def readiness_report() -> tuple[bool, dict[str, object]]:
    """Whether this web process can serve: its database answers. The broker's state is told, not
    required: pages, submissions (they wait on the site) and cancels all work while it is away
    (status "degraded")."""
    db_ok, db_detail = database_ok()
    broker_ok = broker.broker_reachable()
    status = "unhealthy" if not db_ok else "ok" if broker_ok else "degraded"
    return db_ok, {"database": {"ok": db_ok, "detail": db_detail}, "broker": {"ok": broker_ok}, "status": status}


def health_report() -> tuple[bool, dict[str, object]]:
    """The whole platform: database, broker, its queues and the workers that answer."""
    db_ok, db_detail = database_ok()
    report: dict[str, object] = {"database": {"ok": db_ok, "detail": db_detail}}
    try:
        report["broker"] = {"ok": True, "queues": broker_queue_lengths()}
        report["workers"] = workers_seen()
    except Exception as exc:  # noqa: BLE001
        report["broker"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        report["workers"] = {}
    healthy = db_ok and report["broker"]["ok"]
    report["status"] = "ok" if healthy else "unhealthy"
    return healthy, report
