"""What labs tells the apps above it, which it may not import (``challenges`` listens here).

``run_ended_signal``: a run reached a final state. Sent with ``run_id`` (int), from
``labs.run_events.run_ended``, inside the transaction that moved the run to that state: a receiver's
writes commit or roll back with the run's end, and a redelivered event (which moves nothing) sends
nothing. Receivers must be idempotent and must not raise for the learner's errors."""

from __future__ import annotations

import django.dispatch

run_ended_signal = django.dispatch.Signal()
