from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.throttling import UserRateThrottle

from core.markdown import render_markdown
from courses import exercises, fragments, selectors, services
from courses.exercises import Exercise, Feedback
from courses.filters import CourseFilter
from courses.models import CodeCheck, CodeCheckState, ExerciseProgress, Lesson, Progress

CATALOG_PAGE_SIZE = 24  # courses per catalog page (fills whole rows of 2, 3 or 4 cards)


def catalog(request: HttpRequest) -> HttpResponse:
    """Paths first, then every course, searchable and filterable by level and tag."""
    user = request.user
    filters = CourseFilter(request.GET or None, queryset=selectors.courses_visible(user))
    courses = selectors.catalog_courses(user, filters.qs if filters.is_valid() else selectors.courses_visible(user))
    filtering = any(request.GET.get(key) for key in ("q", "level", "tag"))
    # The cards come from the cache (courses.fragments), which fetches tags only for cards it renders.
    page = Paginator(courses.prefetch_related(None), CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "filtering": filtering,
        "page": page,
        "cards": fragments.course_cards(list(page.object_list)),
        "paths": "" if filtering or page.number > 1 else fragments.catalog_paths(user),
        "tags": fragments.catalog_tags(user),
        "chosen_tag": request.GET.get("tag", ""),
    }
    return render(request, "courses/catalog.html", context)


def path_detail(request: HttpRequest, slug: str) -> HttpResponse:
    path = selectors.paths_with_courses(request.user).filter(slug=slug).first()
    if path is None:
        raise Http404
    context = {"path": path, "steps": path.steps.all(), "progress": selectors.path_progress(path)}
    return render(request, "courses/path_detail.html", context)


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    course = selectors.course_with_progress(user, slug)
    if course is None:
        raise Http404
    parts = fragments.course_parts(user, course)
    done = selectors.completed_lesson_ids(user, course)
    enrollment = selectors.enrollment_of(user, course)
    prerequisites = selectors.prerequisites_with_progress(user, course)
    last_read = enrollment.last_lesson_id if enrollment else None
    context = {
        "course": course,
        "parts": parts,
        "enrollment": enrollment,
        "progress": course.progress,
        "prerequisites": prerequisites,
        "unmet": [p for p in prerequisites if not p.progress.complete],
        "next_lesson": selectors.resume_lesson(list(parts.outline), done, last_read),
    }
    return render(request, "courses/course_detail.html", context)


@login_required
@require_POST
def course_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = selectors.courses_visible(request.user).filter(slug=slug).first()  # no syllabus needed
    if course is None:
        raise Http404
    try:
        services.enrollment_create(user=request.user, course=course)
    except services.CourseActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("You are enrolled. Enjoy the course!"))
    return HttpResponseRedirect(course.get_absolute_url())


def _lesson_or_404(request: HttpRequest, course_slug: str, lesson_slug: str) -> Lesson:
    lesson = selectors.lesson_page(request.user, course_slug, lesson_slug)
    if lesson is None:
        raise Http404
    return lesson


@login_required
def lesson_detail(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = _lesson_or_404(request, course_slug, lesson_slug)
    course = lesson.course
    outline = selectors.syllabus(course)
    for item in outline:
        item.course = course
    previous, following = selectors.lesson_neighbours(outline, lesson)
    done = selectors.completed_lesson_ids(request.user, course)
    enrollment = selectors.enrollment_of(request.user, course)
    if enrollment is not None:
        services.lesson_visit(user=request.user, lesson=lesson)
    context = {
        "lesson": lesson,
        "body_parts": _body_parts(request, lesson),
        "course": course,
        "outline": outline,
        "previous": previous,
        "next": following,
        "done": done,
        "is_done": lesson.pk in done,
        "enrollment": enrollment,
        "progress": Progress(done=len(done), total=len(outline)),
    }
    return render(request, "courses/lesson_detail.html", context)


# --- exercises (courses.exercises) ---------------------------------------------------------------

FLASH_KEY = "exercise_feedback"  # the feedback of a check sent without JavaScript, shown once


class ExerciseCheckThrottle(UserRateThrottle):
    scope = "exercise_checks"
    rate = "60/minute"


@dataclass
class ExerciseView:
    """One exercise as its form shows it: only what the learner has earned (never the answer)."""

    id: str
    kind: str
    prompt: SafeString
    several: bool = False
    choices: list[tuple[int, SafeString]] = field(default_factory=list)
    chosen: list[int] = field(default_factory=list)
    value: str = ""
    tries: int = 0
    solved: bool = False
    hints: list[SafeString] = field(default_factory=list)
    solution: SafeString | None = None
    state: str = ""  # the last feedback's: correct, wrong, invalid, checking, failed
    message: str = ""


def _exercise_view(
    exercise: Exercise, progress: ExerciseProgress | None, check: CodeCheck | None, flash: dict[str, Any] | None
) -> ExerciseView:
    wrong = progress.wrong_tries if progress else 0
    solved = bool(progress and progress.solved)
    view = ExerciseView(
        id=exercise["id"],
        kind=exercise["kind"],
        prompt=render_markdown(exercises.text_of(exercise["prompt"])),
        several=exercise.get("several", False),
        choices=[(n, render_markdown(exercises.text_of(c))) for n, c in enumerate(exercise.get("choices", []))],
        value=progress.last_answer if progress else "",
        tries=progress.tries if progress else 0,
        solved=solved,
        hints=[mark_safe(h) for h in exercises.earned_hints(exercise, wrong)],  # noqa: S308 - render_markdown's
    )
    solution = exercises.earned_solution(exercise, solved=solved, wrong_tries=wrong)
    view.solution = mark_safe(solution) if solution else None  # noqa: S308 - render_markdown's output
    if exercise["kind"] == "choice":
        view.chosen = [int(c) for c in view.value.split(",") if c.isdigit()]
    if exercise["kind"] == "code":
        view.value = check.code if check else view.value or exercise["starter"]
        if check:
            view.state, view.message = _check_state(check), check.message or _check_waiting_words(check)
    elif solved:
        view.state, view.message = "correct", _("Solved.")
    if flash and flash.get("exercise") == exercise["id"]:
        view.state, view.message = flash["state"], flash["message"]
        if flash["state"] == "invalid" and exercise["kind"] == "number":
            view.value = flash.get("value", view.value)  # what was typed, to correct it
    return view


def _check_lost(check: CodeCheck) -> bool:
    """Queued for longer than any check takes: its worker was lost (it no longer blocks a new one)."""
    return check.state == CodeCheckState.QUEUED and check.created_at < timezone.now() - services.CODE_CHECK_STALE


def _check_state(check: CodeCheck) -> str:
    if check.state == CodeCheckState.FAILED or _check_lost(check):
        return "failed"
    if check.state == CodeCheckState.QUEUED:
        return "checking"
    return "correct" if check.passed else "wrong"


def _check_waiting_words(check: CodeCheck) -> str:
    if _check_lost(check):
        return _("This check was lost on its way; it did not count as a try. Check again.")
    return _("Checking your code…") if check.state == CodeCheckState.QUEUED else ""


def _body_parts(request: HttpRequest, lesson: Lesson) -> list[SafeString | ExerciseView]:
    """The lesson text as HTML pieces with its exercises' forms in between."""
    if not lesson.exercises:
        return [render_markdown(lesson.body)]
    user = request.user
    progress = selectors.exercise_progress(user, lesson)
    checks = selectors.code_checks_latest(user, lesson)
    flash = request.session.pop(FLASH_KEY, None)
    flash = flash if isinstance(flash, dict) and flash.get("lesson") == lesson.pk else None
    by_id = {exercise["id"]: exercise for exercise in lesson.exercises}
    return [
        render_markdown(value)
        if kind == "markdown"
        else _exercise_view(by_id[value], progress.get(value), checks.get(value), flash)
        for kind, value in exercises.body_parts(lesson.body, lesson.exercises)
    ]


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _feedback_json(feedback: Feedback, **extra: Any) -> dict[str, Any]:
    return {
        "state": feedback.state,
        "message": feedback.message,
        "tries": feedback.tries,
        "solved": feedback.solved,
        "hints": feedback.hints,
        "solution_html": feedback.solution_html,
        **extra,
    }


@login_required
@require_POST
def exercise_check(request: HttpRequest, course_slug: str, lesson_slug: str, exercise_id: str) -> HttpResponse:
    """Judge one answer. With JavaScript (``Accept: application/json``) the feedback comes back as
    JSON; without, the lesson page shows it at the exercise (a redirect, the feedback kept once in
    the session)."""
    lesson = _lesson_or_404(request, course_slug, lesson_slug)
    if lesson.exercise(exercise_id) is None:
        raise Http404
    throttle = ExerciseCheckThrottle()
    if not throttle.allow_request(request, None):
        feedback = Feedback(
            state="invalid", message=_("Too many tries in a minute. Wait a little."), tries=0, solved=False, hints=[]
        )
        status = 429
    else:
        answer = request.POST.getlist("answer")
        feedback = services.exercise_check(user=request.user, lesson=lesson, exercise_id=exercise_id, answer=answer)
        status = 200
    if _wants_json(request):
        status_url = reverse("courses:exercise_status", args=[course_slug, lesson_slug, exercise_id])
        return JsonResponse(_feedback_json(feedback, status_url=status_url), status=status)
    request.session[FLASH_KEY] = {
        "lesson": lesson.pk,
        "exercise": exercise_id,
        "state": feedback.state,
        "message": feedback.message,
        "value": (request.POST.get("answer") or "")[: exercises.MAX_NUMBER_CHARS],
    }
    return HttpResponseRedirect(f"{lesson.get_absolute_url()}#exercise-{exercise_id}")


@login_required
@require_GET
def exercise_status(request: HttpRequest, course_slug: str, lesson_slug: str, exercise_id: str) -> HttpResponse:
    """A code cell's newest check, as JSON, for the page to poll while it says "checking"."""
    lesson = _lesson_or_404(request, course_slug, lesson_slug)
    exercise = lesson.exercise(exercise_id)
    if exercise is None or exercise["kind"] != "code":
        raise Http404
    check = selectors.code_check_latest(request.user, lesson, exercise_id)
    progress = selectors.exercise_progress(request.user, lesson).get(exercise_id)
    state = _check_state(check) if check else ""
    message = (check.message or _check_waiting_words(check)) if check else ""
    feedback = services.exercise_feedback(exercise, progress, state=state, message=message)
    return JsonResponse(_feedback_json(feedback))


@login_required
@require_POST
def lesson_complete(request: HttpRequest, course_slug: str, lesson_slug: str) -> HttpResponse:
    lesson = _lesson_or_404(request, course_slug, lesson_slug)
    undo = request.POST.get("undo") == "1"
    try:
        if undo:
            services.lesson_uncomplete(user=request.user, lesson=lesson)
        else:
            progress = services.lesson_complete(user=request.user, lesson=lesson)
            return HttpResponseRedirect(_after_completing(request, lesson, progress))
    except services.CourseActionRefused as refused:
        messages.error(request, refused.message)
    return HttpResponseRedirect(lesson.get_absolute_url())  # undone, or refused: the same lesson


def _after_completing(request: HttpRequest, lesson: Lesson, progress: Progress) -> str:
    """Where "Mark as complete" leads: the course page once every lesson is done, else the next
    lesson in the course's order (the course page after its last one), saying what was done."""
    course = lesson.course
    if progress.complete:
        messages.success(request, _("Course complete — well done!"))
        return course.get_absolute_url()
    messages.success(request, _("“%(lesson)s” is complete.") % {"lesson": lesson.title})
    following = selectors.lesson_neighbours(selectors.syllabus(course), lesson)[1]
    if following is None:
        return course.get_absolute_url()
    following.course = course  # get_absolute_url without a query
    return following.get_absolute_url()
