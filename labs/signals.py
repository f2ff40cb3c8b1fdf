"""What labs tells the apps above it, which it may not import (``challenges`` listens here).

``run_ended_signal``: a run reached a final state. Sent with ``run_id`` (int), from
``labs.run_events.run_ended``, inside the transaction that moved the run to that state: a receiver's
writes commit or roll back with the run's end, and a redelivered event (which moves nothing) sends
nothing. Receivers must be idempotent and must not raise for the learner's errors.

``run_notes_signal``: a run's page is shown. Sent with ``run`` (Run) and ``viewer`` (User), by
``labs.views.run_detail``; a receiver returns a list of ``(text, url)`` notes about the run, already
fit for that viewer to read (the page shows them; ``url`` may be empty), or None. Read only.

``lab_notes_signal``: a lab's page is shown. Sent with ``lab`` (Lab) and ``viewer`` (User or
AnonymousUser), by ``labs.views.lab_detail``; receivers answer as to ``run_notes_signal``.

``run_sealing_signal``: a run of a lab is about to be created. Sent with ``lab`` (Lab), by
``labs.services``; a receiver returns True when the new runs of that lab must be sealed (a
challenge's phase on the lab is not revealed yet: a run's score on the whole hidden set, beside the
phase's public score, would tell its private one), else False or None. Read only.

``run_sharing_signal``: who else may see runs. Sent with ``viewer`` (a signed-in User), by
``labs.permissions``; a receiver returns a ``Q`` over Run that matches the runs shared with that
viewer besides their own, their mentees' and (administrators) everyone's — a team's challenge entries
with its members — or None. Seeing a shared run is seeing its page, curve, log, code and files; acting
on it (cancel, re-run) and its mentor's reviews stay the learner's side's. Read only.

``diagnosis_lessons_signal``: the lessons that teach the fix for run findings (``labs.diagnosis``).
Sent with ``codes`` (a list of finding codes), by ``labs.diagnosis.run_findings_explained``; a
receiver returns ``{code: [(title, url), …]}`` (published lessons, best first), or None. Read only."""

from __future__ import annotations

import django.dispatch

run_ended_signal = django.dispatch.Signal()
run_notes_signal = django.dispatch.Signal()
lab_notes_signal = django.dispatch.Signal()
run_sealing_signal = django.dispatch.Signal()
run_sharing_signal = django.dispatch.Signal()
diagnosis_lessons_signal = django.dispatch.Signal()
