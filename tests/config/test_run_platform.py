"""`make run`'s terminal: the start-up warnings first, then the box with the URL and logins, last.
The whole command is exercised by scripts/smoke-run.sh in CI; these pin what it prints."""

from __future__ import annotations

from config.management.commands.run_platform import startup_warnings, workers_answering

CELERY_AS_ROOT = [
    "/srv/.venv/lib/python3.11/site-packages/celery/platforms.py:893: SecurityWarning: You're running the worker"
    " with superuser privileges: this is",
    "absolutely not recommended!",
    "  _warn_or_raise_security_error(egid, euid, gid, uid,",
    "[2026-12-06 00:30:12,284: INFO/MainProcess] lab@vm ready.",
]
WEB = [
    "WARNING: This is a development server. Do not use it in a production setting.",
    "2026-12-06 00:30:07,990 ERROR django.request: Service Unavailable: /healthz",
    "2026-12-06 00:30:09,001 WARNING labs.sandbox: bubblewrap is missing: runs use the development fallback",
    "2026-12-06 00:30:09,500 WARNING labs.sandbox: bubblewrap is missing: runs use the development fallback",
]
MAIL = ['[2026-12-06 00:30:12,284: WARNING/ForkPoolWorker-3] Content-Type: text/plain; charset="utf-8"']


def test_warnings_are_named_by_process_once_each_without_paths_or_timestamps() -> None:
    found = startup_warnings({"lab-worker": CELERY_AS_ROOT, "web": WEB, "site-worker": MAIL}, width=200)

    assert found == [
        "lab-worker: SecurityWarning: You're running the worker with superuser privileges: this is",
        "web: WARNING labs.sandbox: bubblewrap is missing: runs use the development fallback",
    ]


def test_the_development_server_notice_and_our_own_probes_are_not_warnings() -> None:
    assert startup_warnings({"web": WEB[:2], "site-worker": MAIL}) == []


def test_long_warnings_are_cut_to_the_width() -> None:
    (line,) = startup_warnings({"web": ["WARNING " + "x" * 300]}, width=60)

    assert len(line) == 60 and line.endswith("…")


def test_the_box_waits_for_both_workers() -> None:
    lab_only = b'{"workers": {"lab@vm": ["cpu", "gpu"]}, "status": "degraded"}'
    both = b'{"workers": {"lab@vm": ["cpu", "gpu"], "site@vm": ["default"]}, "status": "ok"}'

    assert not workers_answering(lab_only)
    assert workers_answering(both)
