from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cohorts.permissions import is_admin
from core.live import run_topic
from core.models import User
from labs import selectors, services
from labs.artifacts import run_file_response
from labs.diagnosis import Explained, run_findings_explained
from labs.forms import SubmitForm, params_suggested
from labs.models import Lab, Run, Submission
from labs.permissions import can_act_on_run, can_view_run
from labs.preview import data_preview_html
from labs.signals import lab_notes_signal, run_notes_signal
from labs.throttling import submission_throttled_message, submission_wait
from labs.validation import SubmissionRejected


def lab_list(request: HttpRequest) -> HttpResponse:
    """The published labs; public, like the course catalog."""
    return render(request, "labs/lab_list.html", {"labs": selectors.labs_with_status(request.user)})


def lab_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_object_or_404(selectors.labs_visible_to(request.user), slug=slug)
    if not request.user.is_authenticated:
        return _lab_detail_public(request, lab)
    last = selectors.last_submission(learner=request.user, lab=lab)
    initial = {"code": last.code if last else lab.starter_code, **params_suggested(request, lab)}
    form = SubmitForm(request.POST or None, request.FILES or None, lab=lab, initial=initial)
    wait = submission_wait(request) if request.method == "POST" else None
    if wait is not None:  # too many submissions: the same budget as the API's, nothing stored
        form.add_error(None, submission_throttled_message(wait))
    elif request.method == "POST" and form.is_valid():
        try:
            run = services.submission_create(
                learner=request.user,
                lab=lab,
                source=Submission.Source.WEB,
                code=form.cleaned_data["code"] or None,
                upload=form.cleaned_data["upload"],
                params=form.params(),
            )
        except SubmissionRejected as rejected:
            for error in rejected.errors:
                form.add_error(None, error)
        else:
            return HttpResponseRedirect(run.get_absolute_url())
    context = {
        "lab": lab,
        "form": form,
        "draft_key": f"academy:draft:{request.user.pk}:{lab.slug}",  # the editor's unsent draft (static/js/editor.js)
        "runs": selectors.runs_of(learner=request.user, lab=lab)[:10],
        "runs_left": selectors.runs_left_today(learner=request.user, lab=lab),
        "best": selectors.best_run(learner=request.user, lab=lab),
        "lessons": _lab_lessons(lab),
        "reference": selectors.reference_result(lab),
        "preview": data_preview_html(lab.dataset) if lab.dataset else "",
        "can_author": is_admin(request.user),
        "lab_notes": _lab_notes(lab, request.user),
    }
    return render(request, "labs/lab_detail.html", context, status=429 if wait else 400 if form.errors else 200)


def _lab_detail_public(request: HttpRequest, lab: Lab) -> HttpResponse:
    """A published lab as an anonymous visitor reads it: description, goal, limits and reference
    score. No form, no runs, no data; a submission asks them to sign in first."""
    if request.method not in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path())
    context = {
        "lab": lab,
        "lessons": _lab_lessons(lab),
        "reference": selectors.reference_result(lab),
        "lab_notes": _lab_notes(lab, request.user),
    }
    return render(request, "labs/lab_detail.html", context)


def _lab_notes(lab: Lab, viewer: User | AnonymousUser) -> list[tuple[str, str]]:
    """What the apps above labs say about ``lab`` to ``viewer`` (``labs.signals.lab_notes_signal``)."""
    notes: list[tuple[str, str]] = []
    for _receiver, answer in lab_notes_signal.send(sender=Lab, lab=lab, viewer=viewer):
        notes += answer or []
    return notes


def _lab_lessons(lab: Lab) -> QuerySet:
    """The published lessons that lead to ``lab`` (its page's "Read first")."""
    return lab.lessons.filter(course__published=True).select_related("course").order_by("course", "position")


def _visible_run(request: HttpRequest, run_id: int) -> Run:
    run = selectors.run_with_context(run_id)
    if run is None or not can_view_run(request.user, run):
        raise Http404
    return run


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    findings = run_findings_explained(run)
    context = {
        "run": run,
        "lab": run.submission.lab,
        "findings": findings,
        "progress": selectors.run_progress(run) | {"marks": _marks(findings)},
        "params": _param_rows(run.submission.params),
        "can_act": can_act_on_run(request.user, run),
        "poll_ms": settings.RUN_PAGE_POLL_MS,
        "run_notes": _run_notes(run, request.user),
        "live_topics": [run_topic(run.pk)],  # a final run changes too: a challenge's reveal unseals its score
    }
    return render(request, "labs/run_detail.html", context)


def _run_notes(run: Run, viewer: User) -> list[tuple[str, str]]:
    """What the apps above labs say about ``run`` to ``viewer`` (``labs.signals.run_notes_signal``)."""
    notes: list[tuple[str, str]] = []
    for _receiver, answer in run_notes_signal.send(sender=Run, run=run, viewer=viewer):
        notes += answer or []
    return notes


def _param_rows(params: dict[str, Any]) -> list[tuple[str, str]]:
    """A run's parameters as (name, value) rows, each value as JSON (``true``, ``null``, as the API
    writes them), not as Python's ``True`` and ``None``."""
    return [(name, json.dumps(value, ensure_ascii=False)) for name, value in sorted(params.items())]


@login_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _visible_run(request, run_id)
    try:
        since = max(0, int(request.GET.get("since", "0")))
    except ValueError:
        since = 0
    progress = selectors.run_progress(run, since=since)
    if run.is_final:  # the coach's reading, once there is one to read
        findings = run_findings_explained(run)
        html = render_to_string("labs/_diagnosis.html", {"findings": findings}, request=request)
        progress |= {"diagnosis_html": html, "marks": _marks(findings)}
    return JsonResponse(progress)


def _marks(findings: list[Explained]) -> list[dict[str, Any]]:
    """Each finding's points, to mark on the learning curve: [{label, metric, points: [[step, value]]}]."""
    return [
        {"label": finding.title, "metric": finding.evidence.get("metric", ""), "points": finding.evidence["points"]}
        for finding in findings
        if finding.evidence.get("points")
    ]


def _run_file(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    """A run's file (``labs.artifacts``) as an attachment, for whoever may see the run; else a 404."""
    response = run_file_response(_visible_run(request, run_id), kind)
    if response is None:
        raise Http404
    return response


@login_required
@require_GET
def run_weights(request: HttpRequest, run_id: int) -> HttpResponse:
    return _run_file(request, run_id, "weights")


@login_required
@require_GET
def run_log(request: HttpRequest, run_id: int) -> HttpResponse:
    return _run_file(request, run_id, "log")


@login_required
@require_GET
def run_metrics(request: HttpRequest, run_id: int) -> HttpResponse:
    return _run_file(request, run_id, "metrics")


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    if not can_act_on_run(request.user, run):
        raise Http404
    if run.is_final:
        messages.info(request, _("This run had already ended."))
    else:
        services.run_cancel(run=run)
        messages.success(request, _("Cancelling the run…"))
    return HttpResponseRedirect(run.get_absolute_url())


@login_required
@require_POST
def run_rerun(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    if not can_act_on_run(request.user, run):
        raise Http404
    wait = submission_wait(request)
    if wait is not None:
        messages.error(request, submission_throttled_message(wait))
        return HttpResponseRedirect(run.get_absolute_url())
    try:
        new_run = services.run_rerun(run=run)
    except SubmissionRejected as rejected:
        for error in rejected.errors:
            messages.error(request, error)
        return HttpResponseRedirect(run.get_absolute_url())
    return HttpResponseRedirect(new_run.get_absolute_url())


@login_required
def my_submissions(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_of(learner=request.user).order_by("-queued_at")
    page = Paginator(runs, 25).get_page(request.GET.get("page"))
    return render(request, "labs/my_submissions.html", {"page": page})
