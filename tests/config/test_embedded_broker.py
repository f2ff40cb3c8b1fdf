"""The embedded broker outlives a Ctrl-C to the terminal's process group, but not its starter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

STARTER = """
import sys, time
from pathlib import Path
from config import embedded_broker
process = embedded_broker.start(embedded_broker.url_for(Path(sys.argv[1])))
print(process.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_the_broker_ignores_the_groups_ctrl_c_and_stops_when_its_starter_is_killed(tmp_path: Path) -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(tmp_path / "broker")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
    )
    broker = int(starter.stdout.readline())
    assert os.getpgid(broker) != os.getpgid(starter.pid)  # not in the group a terminal's Ctrl-C reaches
    os.killpg(starter.pid, signal.SIGKILL)  # the starter dies without stopping it
    starter.wait()
    deadline = time.monotonic() + 10
    while _alive(broker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(broker)
