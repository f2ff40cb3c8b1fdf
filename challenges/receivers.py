"""What challenges hears from the apps below it (``challenges.apps`` connects these)."""

from __future__ import annotations

from typing import Any

from challenges.services import run_scores_store


def run_ended_receive(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """``labs.signals.run_ended_signal``: store the run's public and private scores when it is an
    entry's or a re-run's (inside the transaction that ended the run)."""
    run_scores_store(run_id=run_id)
