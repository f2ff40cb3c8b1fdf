"""The publish gate: a new or changed lab is a draft (administrators only) until its reference
solution has run on the platform (a real worker, the real sandbox) and passed its own threshold.

``reference_run_start`` queues that run, as the system user ``reference-solution`` (inactive: it
never signs in, never ranks, has no mentor); ``labs.run_events.reference_run_ended`` publishes the
lab when the run passes on the lab's current data and code, if publication was asked for. The lab
page shows the reference's score and its leaderboard a "reference" row.
"""

from __future__ import annotations

import hashlib

from django.db import transaction

from core.models import User
from labs.models import Lab, Run, Submission
from labs.services import run_create
from labs.validation import resolve_params

REFERENCE_USERNAME = "reference-solution"


class PublishRefused(ValueError):
    """The lab cannot be published (the message says why)."""


def reference_user() -> User:
    user, created = User.objects.get_or_create(
        username=REFERENCE_USERNAME, defaults={"is_active": False, "first_name": "Reference solution"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def reference_run_start(*, lab: Lab, publish: bool) -> Run:
    """Queue the lab's reference solution on its current data (a draft too); with ``publish``, the lab
    is published when that run passes."""
    if lab.dataset_id is None:
        raise PublishRefused(f"{lab.slug} has no dataset")
    if not lab.reference_solution.strip():
        raise PublishRefused(f"{lab.slug} has no reference solution")
    with transaction.atomic():
        submission = Submission.objects.create(
            learner=reference_user(),
            lab=lab,
            code=lab.reference_solution,
            code_sha256=hashlib.sha256(lab.reference_solution.encode()).hexdigest(),
            source=Submission.Source.REFERENCE,
            params=resolve_params(lab, None),
        )
        run = run_create(submission)
        Lab.objects.filter(pk=lab.pk).update(reference_run=run, publish_requested=publish)
    return run


def lab_unpublish(*, lab: Lab) -> None:
    Lab.objects.filter(pk=lab.pk).update(published=False, publish_requested=False)
