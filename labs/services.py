"""Writes of the labs app that a person asks for: submitting, re-running and cancelling.

What happens to a run afterwards lives in ``labs.dispatch`` (sending it to a lab worker, fair
share) and ``labs.run_events`` (the worker's events, scoring, retries): a submission passes here
once, then dispatch, then the events."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from typing import Any

import redis
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import broker_reachable, redis_client
from core.live import live_publish, run_topic
from core.models import User
from core.text import db_text
from labs.diagnosis import run_diagnose
from labs.dispatch import runs_dispatch_waiting
from labs.models import ACTIVE_STATES, Lab, Run, RunState, Submission
from labs.signals import run_sealing_signal
from labs.validation import (
    SubmissionRejected,
    check_quota,
    kind_of,
    prepare_code,
    resolve_params,
    resolve_save_weights,
)
from workers import control

logger = logging.getLogger(__name__)


def submission_create(
    *,
    learner: User,
    lab: Lab,
    source: str,
    code: str | None = None,
    upload: UploadedFile | None = None,
    params: dict[str, Any] | None = None,
    sealed: bool = False,
) -> Run:
    """Validate, store and queue a learner's solution. Raises SubmissionRejected, queuing nothing.

    ``params``: the lab's parameters to override, and the reserved ``save_weights`` (false: the run
    keeps no trained weights; ``labs.artifacts``). ``sealed``: the run's score stays withheld until
    ``runs_unseal`` (a challenge's entry: the whole hidden set's score would tell its private part);
    every run of a lab a challenge still seals is sealed too (``_lab_sealed``), but for the lab's
    reference solution, the authors' baseline."""
    if not lab.published or lab.dataset_id is None:
        raise SubmissionRejected([_("This lab is not open for submissions.")])
    if upload is not None:
        kind = kind_of(upload.name or "")
        raw = upload.read(10 * 1024 * 1024 + 1)
    elif code is not None:
        kind, raw = "py", code.encode("utf-8", errors="surrogatepass")
    else:
        raise SubmissionRejected([_("Send the code or upload a file.")])
    prepared = prepare_code(raw, kind)
    resolved = resolve_params(lab, params)
    save_weights = resolve_save_weights(params)
    with transaction.atomic():
        # One submission at a time per learner, so two at once cannot both pass the quota.
        User.objects.select_for_update().filter(pk=learner.pk).first()
        check_quota(learner_id=learner.pk, lab=lab)
        submission = Submission.objects.create(
            learner=learner,
            lab=lab,
            code=prepared.code,
            code_sha256=hashlib.sha256(prepared.code.encode()).hexdigest(),
            source=source,
            kind=prepared.kind,
            params=resolved,
            save_weights=save_weights,
            notes=prepared.notes,
            original_name=db_text(upload.name or "")[:255] if upload else "",
        )
        if upload is not None:
            submission.original_file.save(upload.name or "solution", ContentFile(raw), save=True)
        sealed = sealed or (source != Submission.Source.REFERENCE and _lab_sealed(lab))
        return run_create(submission, sealed=sealed)


def _lab_sealed(lab: Lab) -> bool:
    """Whether new runs of ``lab`` are sealed: an app above labs says so (``run_sealing_signal``: a
    challenge's phase on the lab is not revealed yet, so any run's score on the whole hidden set,
    beside the phase's public score, would tell its private one)."""
    return any(answer is True for _receiver, answer in run_sealing_signal.send(sender=Lab, lab=lab))


def run_create(
    submission: Submission, *, seed: int | None = None, sealed: bool = False, by_platform: bool = False
) -> Run:
    """A queued run of ``submission`` on its lab's current data, with ``seed`` (by default a fresh one).
    ``sealed``: scored without showing it (``runs_unseal``); ``by_platform``: the platform's run (a
    challenge's re-run), outside the learner's daily quota (``labs.validation.runs_counted_today``)."""
    run = Run.objects.create(
        submission=submission,
        dataset=submission.lab.dataset,
        seed=secrets.randbelow(2**31) if seed is None else seed,
        code_sha256=submission.code_sha256,
        sealed=sealed,
        by_platform=by_platform,
    )
    transaction.on_commit(runs_dispatch_waiting)
    return run


def run_rerun(*, run: Run) -> Run:
    """A new Run of the same submission (same code and parameters, a new seed). Sealed as a new
    submission would be (``_lab_sealed``), and while the submission has a run still sealed: the same
    code's score would show what that seal withholds. A reference solution's run is never sealed."""
    submission = run.submission
    sealed = submission.source != Submission.Source.REFERENCE and (
        _lab_sealed(submission.lab) or submission.runs.filter(sealed=True).exists()
    )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=submission.learner_id).first()
        check_quota(learner_id=submission.learner_id, lab=submission.lab)
        return run_create(submission, sealed=sealed)


def runs_unseal(*, run_ids: Iterable[int]) -> int:
    """Show the withheld scores of these runs (those sealed among them): ``score`` becomes the sealed
    score, ``passed`` the lab's verdict on it. Idempotent; returns how many runs it unsealed. A run
    still being scored is unsealed too: ``labs.run_events.run_score`` then stores its score openly."""
    unsealed = 0
    with transaction.atomic():
        runs = Run.objects.select_for_update(of=("self",)).select_related("submission__lab")
        for run in runs.filter(pk__in=list(run_ids), sealed=True).order_by("pk"):
            score = run.sealed_score
            run.sealed, run.score = False, score
            run.passed = None if score is None else run.submission.lab.passes(score)
            run.save(update_fields=["sealed", "score", "passed", "updated_at"])
            run_diagnose(run)  # what the score tells (close to the pass mark, underfitting) may be said now
            live_publish(run_topic(run.pk), state=run.state)
            unsealed += 1
    return unsealed


def run_cancel(*, run: Run) -> None:
    """Cancel at once if still queued; otherwise raise the flag the worker's supervisor polls.

    The run is marked on the site first: with the broker away the cancel still holds, and the
    sweeper raises the flag of a live run marked so once the broker is back."""
    now = timezone.now()
    done = Run.objects.filter(pk=run.pk, state=RunState.QUEUED).update(
        state=RunState.CANCELLED, reason="cancelled: by user", finished_at=now, cancel_requested=True, updated_at=now
    )
    if done:
        live_publish(run_topic(run.pk), state=RunState.CANCELLED)
    elif Run.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(cancel_requested=True, updated_at=now):
        live_publish(run_topic(run.pk))  # its progress says that a cancel was asked for
    _cancel_flag_raise(run)  # a queued run's message may be in the broker: the flag stops the worker that takes it
    if done:
        runs_dispatch_waiting()  # it may have held its learner's place on the workers


def _cancel_flag_raise(run: Run) -> None:
    try:
        if broker_reachable():  # a broker known to be away (or hung) is not waited for
            control.request_cancel(redis_client(), run_id=run.pk, token=run.token)
            return
    except redis.RedisError:
        pass
    logger.warning("broker unreachable: run %s is cancelled on the site only (the sweeper flags a live run)", run.pk)
