import subprocess

import pytest

from core.tasks import ping


@pytest.mark.worker
def test_ping_round_trips_through_a_real_worker_process(site_worker: subprocess.Popen) -> None:
    result = ping.delay("hello from the test")
    assert result.get(timeout=60) == {"reply": "hello from the test"}
    assert result.state == "SUCCESS"
    assert site_worker.poll() is None
