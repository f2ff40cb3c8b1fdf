"""Writes for grading: manual grade overrides, and the gradebook's CSV export as a background job."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cohorts.background import JobOutput, JobRefused, job_enqueue, job_run, spreadsheet_safe
from cohorts.models import Cohort, CohortMember, Job, LabDeadline
from core.models import User
from grading.models import GradeOverride
from grading.rules import two_decimals
from grading.selectors import Gradebook, can_view_gradebook, gradebook_build, gradebook_members, is_grading_admin
from labs.models import Lab

GRADEBOOK_EXPORT_TASK = "grading.tasks.gradebook_export"
TWO_PLACES = Decimal("0.01")


# --- Overrides -----------------------------------------------------------------------------


def can_override(*, by: User, member: CohortMember | None) -> bool:
    """An administrator, or the mentor of that learner in that cohort."""
    if is_grading_admin(by):
        return True
    return member is not None and member.mentor_id == by.pk and by.has_perm("core.mentor")


@transaction.atomic
def grade_override_create(
    *, cohort: Cohort, learner: User, lab: Lab | None, score: Decimal | float | str, reason: str, by: User
) -> GradeOverride:
    """Set a learner's points for one of the cohort's labs (``lab``) or their final grade (``lab`` None).

    Raises PermissionDenied unless ``by`` is an administrator or the learner's mentor in the cohort,
    and ValidationError (per field) for a learner outside the cohort, a lab without a deadline in it,
    a score outside 0–100 or an empty reason. Earlier overrides stay as the history."""
    member = CohortMember.objects.filter(cohort=cohort, learner=learner).first()
    if not can_override(by=by, member=member):
        raise PermissionDenied(_("Only an administrator or the learner's mentor may change this grade."))
    errors: dict[str, str] = {}
    if member is None:
        errors["learner"] = _("This learner is not in the cohort.")
    if lab is not None and not LabDeadline.objects.filter(cohort=cohort, lab=lab).exists():
        errors["lab"] = _("This lab has no deadline in the cohort, so it is not graded there.")
    points = _points(score)
    if points is None:
        errors["score"] = _("Give a score from 0 to 100.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the grade is changed.")
    if errors:
        raise ValidationError(errors)
    return GradeOverride.objects.create(cohort=cohort, learner=learner, lab=lab, score=points, reason=reason, by=by)


def _points(score: Decimal | float | str) -> Decimal | None:
    try:
        points = Decimal(str(score).strip()).quantize(TWO_PLACES)
    except (InvalidOperation, ValueError):
        return None
    return points if points.is_finite() and 0 <= points <= 100 else None


# --- CSV export ----------------------------------------------------------------------------


def gradebook_export_create(*, cohort: Cohort, requested_by: User) -> Job:
    """A job that writes the gradebook (the rows ``requested_by`` may see) as CSV, queued once committed."""
    if not can_view_gradebook(user=requested_by, cohort=cohort):
        raise PermissionDenied
    job = Job.objects.create(kind=Job.Kind.GRADEBOOK_EXPORT, requested_by=requested_by, cohort=cohort)
    transaction.on_commit(partial(job_enqueue, job_id=job.pk, task_name=GRADEBOOK_EXPORT_TASK))
    return job


def gradebook_export_run(*, job_id: int) -> dict[str, int]:
    """Write the gradebook CSV onto the job and finish it (which notifies the requester)."""

    def work(job: Job) -> JobOutput:
        members = gradebook_members(user=job.requested_by, cohort=job.cohort)
        book = gradebook_build(cohort=job.cohort, members=members)
        if book.error:
            raise JobRefused(book.error)
        passed = sum(1 for row in book.rows if row.grade.passed)
        summary = {"learners": len(book.rows), "labs": len(book.labs), "passed": passed}
        return JobOutput(summary, f"gradebook-{job.cohort.slug}-{job.pk}.csv", gradebook_csv(book))

    return job_run(job_id=job_id, kind=Job.Kind.GRADEBOOK_EXPORT, work=work)


def gradebook_csv(book: Gradebook) -> str:
    """One row per learner: each lab's counted run, points, days late and review points; the parts;
    the final grade and whether it passes. Numbers have two decimals; empty means none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = [_("username"), _("name"), _("mentor")]
    for lab in book.labs:
        header += [f"{lab.slug}: {_('run')}", f"{lab.slug}: {_('points')}"]
        header += [f"{lab.slug}: {_('days late')}", f"{lab.slug}: {_('review')}"]
    header += [_("lab part"), _("review part"), _("course %"), _("computed grade"), _("final grade"), _("passed")]
    header.append(_("final override reason"))
    writer.writerow(header)
    for row in book.rows:
        grade, learner = row.grade, row.member.learner
        cells = [
            spreadsheet_safe(learner.username),
            spreadsheet_safe(str(learner)),
            spreadsheet_safe(str(row.member.mentor or "")),
        ]
        for lab in grade.labs:
            cells += [lab.counted.run.run_id if lab.counted else "", two_decimals(lab.points)]
            cells += [lab.counted.days_late if lab.counted else "", two_decimals(lab.review_points)]
        cells += [two_decimals(grade.lab_part), two_decimals(grade.review_part), two_decimals(grade.course_part)]
        cells += [two_decimals(grade.computed), two_decimals(grade.final), _("yes") if grade.passed else _("no")]
        cells.append(spreadsheet_safe(grade.override.reason) if grade.override else "")
        writer.writerow(cells)
    return out.getvalue()
