from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses import fragments, selectors, services
from courses.filters import CourseFilter
from courses.models import Lesson, Progress

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
