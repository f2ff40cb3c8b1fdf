"""A lab author's program in the lab sandbox, for the site: the harness's ``score`` task (a custom
metric's ``score.py`` with the hidden labels and one run's predictions; ``labs.author_code``), and
its ``exercise`` task (a lesson's code cell, then the exercise's check; ``courses.services``).

The same sandbox as a learner's run (``workers.sandbox``: its own uid, cgroup, no network, a file
tree built from nothing), a fresh one each time (never a warm member, which is kept for learners'
runs), with small limits. A score job holds nothing of a learner's code: only the author's program,
its input and ``meta``. An exercise job holds a learner's cell and no secret: only that cell and the
exercise's check.
"""

from __future__ import annotations

import os
import selectors
import time
from pathlib import Path

from workers import harness, jobdirs
from workers.jobspec import Limits
from workers.progress import EventReader, OutputCapture
from workers.runner import prepare_jobs_root, read_job_output
from workers.sandbox import Sandbox, select_backend

AUTHOR_LIMITS = {"memory_mb": 2048, "processes": 32, "output_bytes": 64 * 1024, "disk_mb": 64}
RESULTS = {"score": harness.SCORE_RESULT_PATH, "exercise": harness.EXERCISE_RESULT_PATH}


class AuthorJobFailed(RuntimeError):
    """The author's program gave no result: the reason and the end of its output."""


def run_author_job(task: str, files: dict[str, bytes], *, timeout: float, result_max_bytes: int) -> str:
    """Run ``task`` in a fresh sandbox on a folder holding ``files``; its result file's text."""
    limits = Limits(wall_seconds=max(1, int(timeout)), **AUTHOR_LIMITS)
    job_dir = jobdirs.create(prepare_jobs_root())
    try:
        for name, payload in files.items():
            (job_dir / name).write_bytes(payload)
        sandbox = select_backend().start(job_dir=job_dir, limits=limits, device="cpu", label=job_dir.name)
        output = OutputCapture(limits.output_bytes)
        failure = _drive(sandbox, output, task, timeout)
        facts = sandbox.finish()
        payload, problem = read_job_output(job_dir, Path(RESULTS[task]).name, result_max_bytes)
        if payload is not None and facts.exit_code == 0:
            return payload.decode("utf-8", errors="replace")
        reason = failure or problem or f"exit status {facts.exit_code}"
        if facts.memory_limit_hits or facts.oom_kills:
            reason = f"limit: memory ({limits.memory_mb} MB)"
        tail = output.render().strip()[-1500:]
        raise AuthorJobFailed(f"{reason}\n{tail}".strip())
    finally:
        jobdirs.release(job_dir)


def _drive(sandbox: Sandbox, output: OutputCapture, task: str, timeout: float) -> str | None:
    """Feed the sandbox its "go" when it is ready, read it until it ends or its time is up; the
    failure it reported, if any."""
    events = EventReader()
    selector = selectors.DefaultSelector()
    selector.register(sandbox.stdout_fd, selectors.EVENT_READ, "output")
    selector.register(sandbox.events_fd, selectors.EVENT_READ, "events")
    deadline = time.monotonic() + timeout + 60  # + starting the sandbox (importing torch)
    failure = None
    exited_at = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                sandbox.kill()
                return f"limit: time ({timeout:g} s)"
            if sandbox.poll() is not None:
                exited_at = exited_at or now
                if now - exited_at > 2:  # what is left (the dev backend's leftovers) holds the pipes
                    break
            for key, _ in selector.select(0.2):
                try:
                    data = os.read(key.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(key.fd)
                elif key.data == "output":
                    output.feed(data)
                else:
                    for event in events.feed(data):
                        if event["kind"] == "ready":
                            deadline = time.monotonic() + timeout
                            sandbox.send_go(deadline, task=task)
                        elif event["kind"] == "failure":
                            failure = str(event.get("reason") or "")
    finally:
        selector.close()
    return failure
