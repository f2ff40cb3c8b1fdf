from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorts.permissions import can_mentor, is_admin, is_mentor
from core import selectors as core_selectors
from core.models import User
from labs import selectors as labs_selectors
from labs.diagnosis import run_findings_explained
from labs.models import Run
from mentorship import selectors, services
from mentorship.forms import DismissForm, NoteForm, QueueFilterForm, ReviewForm, SessionForm
from mentorship.queue_page import review_queue_page


def _mentor_only(request: HttpRequest) -> None:
    if not (is_mentor(request.user) or is_admin(request.user)):
        raise Http404


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _mentor_only(request)
    statuses = selectors.mentor_dashboard(mentor=request.user)
    context = {
        "statuses": statuses,
        "stuck": sum(1 for s in statuses if s.stuck),
        "queue_size": selectors.review_queue(mentor=request.user).count(),
    }
    return render(request, "mentorship/dashboard.html", context)


QUEUE_PAGE_SIZE = 25  # queue items per page, oldest first
LEARNER_SUGGESTIONS = 200  # usernames offered by the queue's learner filter


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _mentor_only(request)
    filters = QueueFilterForm(request.GET, labs=list(labs_selectors.labs_all()))
    filters.is_valid()  # an invalid filter is left out (and shown with its error)
    page, rows = review_queue_page(
        request,
        mentor=request.user,
        filters=filters.filters(),
        number=request.GET.get("page"),
        per_page=QUEUE_PAGE_SIZE,
    )
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "learners": selectors.mentee_usernames(mentor=request.user, limit=LEARNER_SUGGESTIONS),
    }
    return render(request, "mentorship/queue.html", context)


def _run_to_review(request: HttpRequest, run_id: int) -> Run:
    run = labs_selectors.run_with_context(run_id)
    if run is None or not can_mentor(request.user, run.submission.learner_id):
        raise Http404
    return run


@login_required
def review(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_to_review(request, run_id)
    rubric = services.rubric_of(run)
    form = ReviewForm(request.POST or None, rubric=rubric)
    low_points = None  # (points, maximum) of an approval the service refused for low points
    if request.method == "POST" and form.is_valid():
        try:
            services.review_create(
                mentor=request.user,
                run=run,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data["comment"],
                levels=form.levels(),
                line_comments=form.cleaned_data["line_comments"],
                confirm_low_points=form.cleaned_data["confirm_low_points"],
            )
        except services.LowPointsRefused as refused:
            low_points = (refused.points, refused.max_points)
            form.add_error(None, refused.errors[0])
        except services.MentorshipRefused as refused:
            for error in refused.errors:
                form.add_error(None, error)
        else:
            messages.success(request, _("Review posted; the learner has been notified."))
            return HttpResponseRedirect(reverse("mentorship:queue"))
    reviews = selectors.reviews_of(run)
    context = {
        "run": run,
        "lab": run.submission.lab,
        "form": form,
        "rubric": rubric,
        "reviews": reviews,
        "code_lines": selectors.code_with_comments(run.submission.code, reviews),
        "low_points": low_points,
        "points_rule": {
            "levels": form.level_points(),
            "max": rubric.max_points if rubric else 0,
            "share": services.LOW_POINTS_SHARE,
        },
        "dismissal": selectors.dismissal_of(run),
        "dismiss_form": DismissForm(),
        "findings": run_findings_explained(run),
    }
    return render(request, "mentorship/review.html", context, status=400 if form.errors else 200)


def _back_to_queue(request: HttpRequest) -> HttpResponseRedirect:
    """To the page the form was on (the queue with its filters, or the review page), else the queue."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return HttpResponseRedirect(target if safe and target.startswith("/") else reverse("mentorship:queue"))


@require_POST
@login_required
def dismiss(request: HttpRequest, run_id: int) -> HttpResponse:
    """Take a run out of the review queue with a reason; the message links to where it can be undone."""
    run = _run_to_review(request, run_id)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why you dismiss this run."))
        return _back_to_queue(request)
    try:
        dismissal, _created = services.dismissal_create(
            mentor=request.user, run=run, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        )
    except services.MentorshipRefused as refused:
        for error in refused.errors:
            messages.error(request, error)
        return _back_to_queue(request)
    where = urlencode(
        {"all": "1", "dismissed": "1", "learner": run.submission.learner.username, "lab": run.submission.lab.slug}
    )
    messages.success(
        request,
        format_html(
            '{} <a href="{}?{}" data-testid="undo-link">{}</a>',
            _("Run #%(id)s dismissed (%(reason)s).") % {"id": run.pk, "reason": dismissal.get_reason_display()},
            reverse("mentorship:queue"),
            where,
            _("Undo"),
        ),
    )
    return _back_to_queue(request)


@require_POST
@login_required
def dismiss_undo(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_to_review(request, run_id)
    if services.dismissal_undo(mentor=request.user, run=run) is None:
        messages.info(request, _("Run #%(id)s was not dismissed.") % {"id": run.pk})
    else:
        messages.success(request, _("Run #%(id)s is back in the review queue.") % {"id": run.pk})
    return _back_to_queue(request)


@login_required
def mentee(request: HttpRequest, username: str) -> HttpResponse:
    learner = core_selectors.user_by_username(username)
    if learner is None:
        raise Http404
    if not can_mentor(request.user, learner.pk):
        raise Http404
    session_form = SessionForm(request.POST if "session" in request.POST else None, prefix="session")
    note_form = NoteForm(request.POST if "note" in request.POST else None, prefix="note")
    if request.method == "POST":
        saved = _save_mentee_forms(request, learner, session_form, note_form)
        if saved:
            return HttpResponseRedirect(request.path)
    context = {
        "learner": learner,
        "runs": labs_selectors.runs_of(learner=learner).order_by("-queued_at")[:20],
        "sessions": selectors.sessions_of(learner),
        "notes": selectors.notes_about(reader=request.user, learner=learner),
        "session_form": session_form,
        "note_form": note_form,
    }
    return render(
        request, "mentorship/mentee.html", context, status=400 if session_form.errors or note_form.errors else 200
    )


def _save_mentee_forms(request: HttpRequest, learner: User, session_form: SessionForm, note_form: NoteForm) -> bool:
    try:
        if "session" in request.POST and session_form.is_valid():
            services.session_record_create(mentor=request.user, learner=learner, **session_form.cleaned_data)
            messages.success(request, _("Session recorded; the learner can see it."))
            return True
        if "note" in request.POST and note_form.is_valid():
            services.mentor_note_create(mentor=request.user, learner=learner, text=note_form.cleaned_data["text"])
            messages.success(request, _("Private note saved."))
            return True
    except services.MentorshipRefused as refused:
        for error in refused.errors:
            messages.error(request, error)
    return False


@login_required
def my_mentoring(request: HttpRequest) -> HttpResponse:
    """A learner's side: their mentoring sessions with action items, and the reviews of their runs."""
    context = {
        "sessions": selectors.sessions_of(request.user),
        "reviews": selectors.reviews_received(request.user)[:50],
    }
    return render(request, "mentorship/my_mentoring.html", context)
