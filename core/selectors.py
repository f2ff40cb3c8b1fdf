from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Count
from kombu import Connection

from core.celery import app as celery_app
from core.models import Role, User

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
    """Messages waiting per queue (raises if the broker is unreachable)."""
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1)
        client = conn.default_channel.client
        return {queue: int(client.llen(queue)) for queue in QUEUES}


def workers_seen(timeout: float = 0.5) -> dict[str, list[str]]:
    """Worker name -> the queues it consumes, for every worker answering within ``timeout``."""
    replies = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    return {name: sorted(q["name"] for q in queues) for name, queues in sorted(replies.items())}


def health_report() -> tuple[bool, dict[str, object]]:
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


def users_per_role() -> dict[str, int]:
    counts = dict(User.objects.filter(is_active=True).values_list("groups__name").annotate(n=Count("id")).order_by())
    return {role: counts.get(role, 0) for role in Role.values}
