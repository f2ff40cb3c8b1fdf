"""What the lab benchmarks share: a platform with real workers, learners, and waiting for runs.

``platform_running`` starts, in a temporary VAR_DIR, the embedded broker (unless
CELERY_BROKER_URL points elsewhere), migrates, seeds a demo lab and starts a site worker and a
lab worker as separate ``celery worker`` processes; everything is stopped on the way out.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def broker_running(var_dir: Path) -> Iterator[str]:
    """The embedded broker the settings use for ``VAR_DIR=var_dir``, running: its Redis is the
    site's cache too (core/cache.py), which the pages measured here rely on as they do in use."""
    from config import embedded_broker

    url = embedded_broker.url_for(var_dir / "broker")
    process = embedded_broker.start(url)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def bare_run_seconds(slug: str, solution: Path, *, threads: int | None = None) -> float:
    """A fresh ``python`` process running the solution as a learner would on their own machine."""
    env = {**os.environ}
    if threads is not None:
        env.update({name: str(threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "labs.demo.local_run", slug, str(solution), "--quiet"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


@contextlib.contextmanager
def platform_running(slug: str, *, lab_concurrency: int | None = 1, env: dict[str, str] | None = None) -> Iterator[Any]:
    """Yields the seeded lab, with a site worker and a lab worker running (``lab_concurrency`` slots)."""
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        os.environ["VAR_DIR"] = tmp
        os.environ.update(env or {})
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from config import embedded_broker, worker_processes
        from labs.demo_seed import demo_lab_seed

        broker = None
        if embedded_broker.is_embedded(settings.CELERY_BROKER_URL, settings.EMBEDDED_BROKER_DIR):
            broker = embedded_broker.start(settings.CELERY_BROKER_URL)
        workers = []
        try:
            call_command("migrate", verbosity=0)
            lab = demo_lab_seed(slug)
            lab.submissions_per_day = 100_000
            lab.save()
            worker_env = {**os.environ}
            workers.append(worker_processes.start_worker(queues="default", log_dir=Path(tmp), env=worker_env))
            workers.append(
                worker_processes.start_worker(
                    queues="cpu,gpu", log_dir=Path(tmp), env=worker_env, concurrency=lab_concurrency
                )
            )
            yield lab
        finally:
            for worker in workers:
                worker_processes.stop_worker(worker)
            if broker is not None:
                broker.terminate()


def learner_create(name: str) -> Any:
    from core.services import user_create

    return user_create(username=f"bench-{name}-{os.getpid()}", password=os.urandom(12).hex(), role="learner")


def wait_final(run_ids: list[int], *, timeout: float = 600, poll: float = 0.02) -> list[Any]:
    """The runs once every one is final (succeeded, failed or cancelled); exits on a failed one."""
    from labs.models import Run, RunState

    deadline = time.monotonic() + timeout
    while True:
        runs = list(Run.objects.filter(pk__in=run_ids))
        if all(run.is_final for run in runs):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"runs not final after {timeout:.0f} s: {[(r.pk, r.state) for r in runs]}")
        time.sleep(poll)
    for run in runs:
        if run.state != RunState.SUCCEEDED:
            raise SystemExit(f"benchmark run {run.pk} {run.state}: {run.reason}\n{run.log[-2000:]}")
    return runs
