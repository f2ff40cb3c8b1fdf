"""/healthz with a real lab worker process: its heartbeat record makes the platform "ok". A module
of its own: the worker lives as long as its module, and tests/config/test_healthz.py needs none."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.test import Client

pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def test_a_real_lab_worker_registers_and_healthz_turns_ok(client: Client, lab_worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60  # its first record comes as it starts, the next every 15 s
    while (response := client.get("/healthz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert response.status_code == 200, response.json()
    assert any(name.startswith("test-cpu-gpu-") for name in response.json()["workers"]), response.json()
