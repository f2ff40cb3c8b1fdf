"""Writes of the labs app that a person asks for: submitting, re-running and cancelling.

What happens to a run afterwards lives in ``labs.dispatch`` (sending it to a lab worker, fair
share) and ``labs.run_events`` (the worker's events, scoring, retries): a submission passes here
once, then dispatch, then the events."""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

import redis
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import broker_reachable, redis_client
from core.models import User
from core.text import db_text
from labs.dispatch import runs_dispatch_waiting
from labs.models import ACTIVE_STATES, Lab, Run, RunState, Submission
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
) -> Run:
    """Validate, store and queue a learner's solution. Raises SubmissionRejected, queuing nothing.

    ``params``: the lab's parameters to override, and the reserved ``save_weights`` (false: the run
    keeps no trained weights; ``labs.artifacts``)."""
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
        return run_create(submission)


def run_create(submission: Submission, *, seed: int | None = None) -> Run:
    """A queued run of ``submission`` on its lab's current data, with ``seed`` (by default a fresh one)."""
    run = Run.objects.create(
        submission=submission,
        dataset=submission.lab.dataset,
        seed=secrets.randbelow(2**31) if seed is None else seed,
        code_sha256=submission.code_sha256,
    )
    transaction.on_commit(runs_dispatch_waiting)
    return run


def run_rerun(*, run: Run) -> Run:
    """A new Run of the same submission (same code and parameters, a new seed)."""
    submission = run.submission
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=submission.learner_id).first()
        check_quota(learner_id=submission.learner_id, lab=submission.lab)
        return run_create(submission)


def run_cancel(*, run: Run) -> None:
    """Cancel at once if still queued; otherwise raise the flag the worker's supervisor polls.

    The run is marked on the site first: with the broker away the cancel still holds, and the
    sweeper raises the flag of a live run marked so once the broker is back."""
    now = timezone.now()
    done = Run.objects.filter(pk=run.pk, state=RunState.QUEUED).update(
        state=RunState.CANCELLED, reason="cancelled: by user", finished_at=now, cancel_requested=True, updated_at=now
    )
    if not done:
        Run.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(cancel_requested=True, updated_at=now)
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
