from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, OuterRef, QuerySet, Value

from cohorts.permissions import is_admin
from core.broker import broker_reachable
from core.models import User
from labs.models import Lab, Run, RunState, Submission
from labs.validation import runs_counted_today


def labs_published() -> QuerySet[Lab]:
    return Lab.objects.filter(published=True, dataset__isnull=False).select_related("dataset")


def labs_with_status(user: User | AnonymousUser) -> QuerySet[Lab]:
    """The published labs, each with ``tried`` and ``passed`` for a signed-in ``user`` (the lab cards)."""
    labs = labs_published().order_by("title_en")
    if not user.is_authenticated:
        return labs.annotate(tried=Value(False), passed=Value(False))
    mine = Submission.objects.filter(learner=user, lab=OuterRef("pk"))
    passes = Run.objects.filter(submission__learner=user, submission__lab=OuterRef("pk"), passed=True)
    return labs.annotate(tried=Exists(mine), passed=Exists(passes))


def labs_visible_to(user: User) -> QuerySet[Lab]:
    """The labs whose pages ``user`` may open: the published ones; drafts too for an administrator."""
    if is_admin(user):
        return Lab.objects.select_related("dataset", "reference_run")
    return labs_published().select_related("reference_run")


def labs_for_authoring() -> QuerySet[Lab]:
    """Every lab, draft or published, with its dataset and reference run (the authoring list)."""
    return Lab.objects.select_related("dataset", "reference_run").order_by("slug")


def reference_result(lab: Lab) -> Run | None:
    """The lab's reference run when it succeeded with a score: the lab page and its leaderboard show it."""
    run = lab.reference_run
    return run if run is not None and run.state == RunState.SUCCEEDED and run.score is not None else None


def runs_scored_count() -> int:
    """Learners' runs the platform has trained and scored (the landing page's figure)."""
    return Run.objects.filter(score__isnull=False).exclude(submission__source=Submission.Source.REFERENCE).count()


def run_counts_by_state() -> dict[str, int]:
    counts = dict(Run.objects.values_list("state").annotate(n=Count("id")).order_by())
    return {label: counts.get(state, 0) for state, label in RunState.choices}


def runs_of(*, learner: User, lab: Lab | None = None) -> QuerySet[Run]:
    runs = Run.objects.filter(submission__learner=learner).select_related("submission__lab")
    return runs.filter(submission__lab=lab) if lab is not None else runs


def learner_of_run(run_id: int) -> int | None:
    """The id of the learner who submitted the run (None for a run that is gone)."""
    return Run.objects.filter(pk=run_id).values_list("submission__learner_id", flat=True).first()


def run_with_context(run_id: int) -> Run | None:
    return Run.objects.select_related("submission__lab", "submission__learner", "dataset").filter(pk=run_id).first()


def runs_left_today(*, learner: User, lab: Lab) -> int:
    return max(0, lab.submissions_per_day - runs_counted_today(learner_id=learner.pk, lab=lab))


def best_run(*, learner: User, lab: Lab) -> Run | None:
    """The learner's best scored run of ``lab`` (a sealed run shows no score: it is none of them)."""
    order = "-score" if lab.higher_is_better else "score"
    scored = runs_of(learner=learner, lab=lab).filter(state=RunState.SUCCEEDED, score__isnull=False)
    return scored.order_by(order).first()


def run_progress(run: Run, *, since: int = 0) -> dict[str, Any]:
    """What a live run page needs: state, new curve points since ``since``, the log tail, the score
    (null, as ``passed``, while the run is ``sealed``)."""
    lab = run.submission.lab
    return {
        "id": run.pk,
        "state": run.state,
        "state_label": run.get_state_display(),
        "reason": run.reason or None,
        "final": run.is_final,
        "attempt": run.attempt,
        "curve": run.curve[since:],
        "curve_length": len(run.curve),
        "log": run.log[-20000:],
        "metric": lab.metric,
        "score": run.score,
        "threshold": lab.threshold,
        "passed": run.passed,
        "sealed": run.sealed,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "worker_host": run.worker_host,
        "device": run.device,
        "torch_version": run.torch_version,
        "sandbox": run.sandbox,
        "cancel_requested": run.cancel_requested,
        "waiting": run.is_waiting,
        "downloads": run.downloads(),  # its files' links (labs.artifacts), null for those it has not
        # Asked only of a queued run: it cannot start while the job queue is away, and its page says so.
        "queue_unreachable": run.state == RunState.QUEUED and not broker_reachable(),
    }


def lab_by_slug(slug: str) -> Lab | None:
    return Lab.objects.filter(slug=slug).first()


def lab_by_id(lab_id: int) -> Lab | None:
    return Lab.objects.filter(pk=lab_id).first()


def labs_all() -> QuerySet[Lab]:
    return Lab.objects.order_by("slug")


def last_submission(*, learner: User, lab: Lab) -> Submission | None:
    """The learner's newest submission to the lab (the editor starts from its code)."""
    return Submission.objects.filter(learner=learner, lab=lab).first()


def runs_newest_first() -> QuerySet[Run]:
    """Every run with its lab, newest first (callers narrow it with ``labs.permissions.runs_visible_to``)."""
    return Run.objects.select_related("submission__lab").order_by("-queued_at")
