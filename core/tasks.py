from celery import shared_task


@shared_task(name="core.tasks.ping")
def ping(payload: str = "pong") -> dict[str, str]:
    """Round-trip probe: proves a worker consumes ``default`` and the result backend works."""
    return {"reply": payload}
