"""The warm pool's hand-out rules, on a fake backend (no sandbox, no torch: fast and exact).

The rule that matters: a member is handed out only once it has reported "ready". Until then
its launcher and bwrap look its folder up by path, and the supervisor's rename of that folder
to the job's name made the sandbox die with ``FileNotFoundError`` (status 125).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from workers import warm
from workers.jobspec import Limits
from workers.progress import EventReader, OutputCapture, ProgressBatcher
from workers.runner import _warm_sandbox_failed_before_the_job, _Watch

SMALL = Limits(wall_seconds=10, memory_mb=256, processes=16, output_bytes=1024, disk_mb=16)


class FakeMember:
    """Just what the pool uses of a sandbox: an events pipe, an exit status, a folder."""

    def __init__(self, job_dir: Path) -> None:
        self.job_dir = job_dir
        self.events_fd, self._events_write = os.pipe()
        self.stdout_fd, self._stdout_write = os.pipe()
        self.status: int | None = None
        self.finished = False
        self._lock = threading.Lock()  # the timers of FakeBackend call in from other threads

    def report_ready(self) -> None:
        with self._lock:
            if self.status is None:
                os.write(self._events_write, b'{"kind": "ready", "torch": "2.x"}\n')

    def die(self, status: int = 125) -> None:
        """The sandbox exits: its end of the pipes closes (nothing written)."""
        with self._lock:
            if self.status is None:
                self.status = status
                os.close(self._events_write)
                os.close(self._stdout_write)

    def poll(self) -> int | None:
        return self.status

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.die(137)
            os.close(self.events_fd)
            os.close(self.stdout_fd)


class FakeBackend:
    """Starts fake members; each reports ready ``ready_after`` seconds later (None: never)."""

    name = "fake"

    def __init__(self, ready_after: float | None = 0.3, fail_start: bool = False) -> None:
        self.ready_after = ready_after
        self.fail_start = fail_start
        self.members: list[FakeMember] = []

    def start(self, *, job_dir: Path, limits: Limits, device: str, label: str, background: bool = False) -> FakeMember:
        if self.fail_start:
            raise RuntimeError("cannot start")
        member = FakeMember(job_dir)
        self.members.append(member)
        if self.ready_after is not None:
            timer = threading.Timer(self.ready_after, member.report_ready)
            timer.daemon = True
            timer.start()
        return member


@pytest.fixture
def make_pool(tmp_path: Path):
    pools: list[warm.WarmPool] = []

    def make(backend: FakeBackend, size: int = 1) -> warm.WarmPool:
        pool = warm.WarmPool(size, backend=backend, jobs_dir=tmp_path / "jobs", max_limits=SMALL)  # type: ignore[arg-type]
        pools.append(pool.start())
        return pool

    yield make
    for pool in pools:
        pool.close()


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_a_job_arriving_at_pool_start_waits_for_the_member_to_be_ready(make_pool) -> None:
    """The race itself: right after start, the member is not even spawned, then not ready."""
    backend = FakeBackend(ready_after=0.3)
    pool = make_pool(backend)
    started = time.monotonic()
    member = pool.acquire(SMALL, "cpu", wait=10)
    assert member is not None, "a member on its way must be waited for, not replaced by a fresh sandbox"
    assert warm._has_pending_event(member)  # it reported ready before it was handed out
    assert time.monotonic() - started >= 0.25
    assert member is backend.members[0]


def test_a_starting_member_is_never_handed_out(make_pool) -> None:
    backend = FakeBackend(ready_after=None)
    pool = make_pool(backend)
    wait_for(lambda: pool.members())  # spawned, still starting
    assert pool.acquire(SMALL, "cpu") is None
    assert pool.acquire(SMALL, "cpu", wait=0.3) is None
    assert pool.members() == backend.members  # still in the pool, untouched
    backend.members[0].report_ready()
    assert pool.acquire(SMALL, "cpu") is backend.members[0]


def test_a_ready_member_is_preferred_to_an_older_starting_one(make_pool) -> None:
    backend = FakeBackend(ready_after=None)
    pool = make_pool(backend, size=2)
    wait_for(lambda: len(pool.members()) == 2)
    backend.members[1].report_ready()
    assert pool.acquire(SMALL, "cpu", wait=5) is backend.members[1]


def test_end_of_file_is_not_ready(tmp_path: Path) -> None:
    """A sandbox that died during start-up leaves a readable, empty events pipe."""
    member = FakeMember(tmp_path)
    assert not warm._has_pending_event(member)
    member.die()
    assert not warm._has_pending_event(member)
    member.finish()
    assert not warm._has_pending_event(member)  # closed fd: no error, not ready


def test_a_member_dying_while_the_job_waits_sends_the_job_to_a_fresh_sandbox(
    make_pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warm, "RESPAWN_BACKOFF_S", 1.0)
    backend = FakeBackend(ready_after=None)
    pool = make_pool(backend)
    wait_for(lambda: pool.members())
    threading.Timer(0.2, backend.members[0].die).start()
    started = time.monotonic()
    assert pool.acquire(SMALL, "cpu", wait=30) is None
    assert time.monotonic() - started < 5  # gave up when the member died, not after 30 s
    assert backend.members[0].finished  # destroyed, not handed out
    # The pool backs off instead of restarting members in a tight loop, then refills.
    time.sleep(0.3)
    assert len(backend.members) == 1
    wait_for(lambda: len(backend.members) == 2)


def test_a_pool_that_cannot_start_members_does_not_hold_jobs(make_pool) -> None:
    backend = FakeBackend(fail_start=True)
    pool = make_pool(backend)
    wait_for(lambda: pool._setbacks > 0)
    started = time.monotonic()
    assert pool.acquire(SMALL, "cpu", wait=30) is None
    assert time.monotonic() - started < 1


def test_closing_the_pool_releases_a_waiting_job(make_pool) -> None:
    backend = FakeBackend(ready_after=None)
    pool = make_pool(backend)
    wait_for(lambda: pool.members())
    threading.Timer(0.2, pool.close).start()
    started = time.monotonic()
    assert pool.acquire(SMALL, "cpu", wait=30) is None
    assert time.monotonic() - started < 5
    assert backend.members[0].finished


def test_jobs_the_members_do_not_fit_are_not_kept_waiting(make_pool) -> None:
    pool = make_pool(FakeBackend(ready_after=None))
    started = time.monotonic()
    assert pool.acquire(SMALL, "cuda", wait=30) is None
    assert pool.acquire(Limits(**{**SMALL.to_dict(), "memory_mb": 10**6}), "cpu", wait=30) is None
    assert time.monotonic() - started < 1


def _watch(**fields: object) -> _Watch:
    state = _Watch(OutputCapture(1024), EventReader(), ProgressBatcher(lambda _batch: None))
    for key, value in fields.items():
        setattr(state, key, value)
    return state


@pytest.mark.parametrize(
    ("fields", "retry"),
    [
        ({}, True),  # died before "ready" (e.g. the launcher failed): fresh sandbox
        ({"go_sent": True}, True),  # died after "go" was written, before the learner's code
        ({"platform_failure": "platform: torch failed to load: x"}, True),  # its own warm-up failed
        ({"go_sent": True, "platform_failure": "platform: this run needs CUDA"}, False),  # would repeat
        ({"go_sent": True, "user_code_started": True}, False),  # the learner's code ran
        ({"kill_reason": "cancelled: by user"}, False),
        ({"kill_reason": "platform: the sandbox did not start in time"}, False),
    ],
)
def test_which_warm_failures_are_retried_in_a_fresh_sandbox(fields: dict, retry: bool) -> None:
    assert _warm_sandbox_failed_before_the_job(_watch(**fields)) is retry
