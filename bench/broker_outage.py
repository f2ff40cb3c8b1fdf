"""How long the site's requests take while the broker is away: stopped, and hung (SIGSTOP).

Requests are made in-process (Django's test client) on a temporary SQLite database, against a
private embedded broker that this benchmark starts, stops and freezes; no worker runs, so a
submission only has to be accepted and wait on the site. Each request is timed 5 times in each
state (broker up, stopped, hung); the medians are printed side by side. The figures, last: the
slowest request's median with the broker stopped and with it hung, and the slowest single request
with it hung, in milliseconds (``/healthz``, the whole platform's status, asks the broker on
purpose and waits up to that timeout: printed, not in the figures). Goals: a median far under a
second (nothing waits on the broker), and no single request over the site's broker timeout (1 s,
``core.broker``) by much.

    .venv/bin/python -m bench.broker_outage
"""

from __future__ import annotations

import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROUNDS = 5
SOLUTION = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return [0.0] * len(x)\n"


def requests(client: object, lab_slug: str, course: object, lesson: object, run_id: int) -> dict[str, Callable]:
    submit = f"/api/v1/labs/{lab_slug}/submissions/"
    return {
        "catalog": lambda: client.get("/courses/"),
        "course": lambda: client.get(f"/courses/{course.slug}/"),
        "lesson": lambda: client.get(f"/courses/{course.slug}/{lesson.slug}/"),
        "lab": lambda: client.get(f"/labs/{lab_slug}/"),
        "run page": lambda: client.get(f"/labs/runs/{run_id}/"),
        "run progress": lambda: client.get(f"/labs/runs/{run_id}/progress.json"),
        "grades": lambda: client.get("/grades/"),
        "readyz": lambda: client.get("/readyz"),
        "healthz": lambda: client.get("/healthz"),  # asks the broker on purpose: not in the figures
        "submit (API)": lambda: client.post(submit, {"code": SOLUTION}, content_type="application/json"),
    }


def timed(request: Callable) -> float:
    started = time.perf_counter()
    response = request()
    elapsed = time.perf_counter() - started
    if response.status_code >= 500 and response.status_code != 503:
        raise SystemExit(f"{response.request['PATH_INFO']} answered {response.status_code}")
    return elapsed


def main() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-outage-") as tmp:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        os.environ["VAR_DIR"] = tmp
        broker_dir = Path(tempfile.mkdtemp(prefix="broker-"))  # a unix socket path must stay short
        from config import embedded_broker

        url = embedded_broker.url_for(broker_dir)
        os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
        broker = embedded_broker.start(url)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from core.services import user_create
        from labs import services
        from labs.demo_seed import demo_lab_seed
        from tests.factories import course_with_lessons

        settings.DATASET_STORAGE_DIR = tmp
        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        lab = demo_lab_seed("linear-regression")
        lab.submissions_per_day = 1000
        lab.save(update_fields=["submissions_per_day"])
        course = course_with_lessons(modules=1, lessons_per_module=1)
        lesson = course.modules.get().lessons.get()
        learner = user_create(username="bench-learner", password=os.urandom(12).hex(), role="learner")
        run = services.submission_create(learner=learner, lab=lab, source="api", code=SOLUTION)
        client = Client()
        client.force_login(learner)
        todo = requests(client, lab.slug, course, lesson, run.pk)
        medians: dict[str, dict[str, float]] = {}
        worst: dict[str, float] = {}
        for state in ("up", "stopped", "hung"):
            if state == "stopped":
                embedded_broker_stop(url, broker)
            elif state == "hung":
                broker = embedded_broker.start(url)
                broker.send_signal(signal.SIGSTOP)
            for name, request in todo.items():
                times = [timed(request) for _ in range(ROUNDS + 1)]  # the first one included: hung, it pays
                medians.setdefault(name, {})[state] = statistics.median(times) * 1000
                if name != "healthz":
                    worst[state] = max(worst.get(state, 0.0), max(times) * 1000)
        broker.send_signal(signal.SIGCONT)
        embedded_broker_stop(url, broker)
    print(f"  {'request':<16}{'up':>10}{'stopped':>10}{'hung':>10}   (median ms of {ROUNDS})")
    for name, by_state in medians.items():
        print(f"  {name:<16}" + "".join(f"{by_state[s]:>10.1f}" for s in ("up", "stopped", "hung")))
    slowest = ", ".join(f"{state} {worst[state]:.0f} ms" for state in ("up", "stopped", "hung"))
    print(f"  slowest single request: {slowest}")
    pages = [by_state for name, by_state in medians.items() if name != "healthz"]
    return [
        f"OUTAGE_stopped_ms {max(m['stopped'] for m in pages):.1f}",
        f"OUTAGE_hung_ms {max(m['hung'] for m in pages):.1f}",
        f"OUTAGE_hung_worst_ms {worst['hung']:.1f}",
    ]


def embedded_broker_stop(url: str, process: object) -> None:
    import redis

    from config import embedded_broker

    try:
        redis.Redis(unix_socket_path=str(embedded_broker.socket_path(url)), socket_timeout=5).shutdown()
    except redis.RedisError:
        process.kill()
    process.wait(timeout=30)


if __name__ == "__main__":
    for line in main():
        print(line)
