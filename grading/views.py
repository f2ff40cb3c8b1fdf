"""Grading pages: a cohort's gradebook (with overrides and the CSV export), a learner's own grades,
and the leaderboards of a lab and of a cohort."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorts import selectors as cohort_selectors
from cohorts.background import job_is_final
from cohorts.models import Cohort
from core import selectors as core_selectors
from grading import dashboard, rules, selectors, services
from grading.forms import GradeOverrideForm
from grading.gradebook import gradebook_page
from labs import selectors as lab_selectors


def _gradebook_cohort(request: HttpRequest, slug: str) -> Cohort:
    cohort = get_object_or_404(cohort_selectors.cohorts_all(), slug=slug)
    if not selectors.can_view_gradebook(user=request.user, cohort=cohort):
        raise Http404
    return cohort


GRADEBOOK_PAGE_SIZE = 50  # learners per gradebook page; the CSV export has every one


def _gradebook_page(
    request: HttpRequest, cohort: Cohort, form: GradeOverrideForm | None = None, status: int = 200
) -> HttpResponse:
    members = selectors.gradebook_members(user=request.user, cohort=cohort)
    page = Paginator(members, GRADEBOOK_PAGE_SIZE).get_page(request.GET.get("page"))
    book = gradebook_page(cohort=cohort, members=list(page))
    if form is None:
        form = GradeOverrideForm(members=[row.member for row in book.rows], labs=book.labs)
    context = {
        "cohort": cohort,
        "book": book,
        "page": page,
        "form": form,
        "overrides": book.overrides,
        "is_admin": selectors.is_grading_admin(request.user),
    }
    return render(request, "grading/gradebook.html", context, status=status)


@login_required
def gradebook(request: HttpRequest, slug: str) -> HttpResponse:
    return _gradebook_page(request, _gradebook_cohort(request, slug))


@login_required
@require_POST
def grade_override_create(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = _gradebook_cohort(request, slug)
    members = list(selectors.gradebook_members(user=request.user, cohort=cohort))
    form = GradeOverrideForm(request.POST, members=members, labs=selectors.cohort_labs(cohort))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.grade_override_create(
                cohort=cohort,
                learner=core_selectors.user_by_id(data["learner"]),
                lab=lab_selectors.lab_by_id(data["lab"]) if data["lab"] else None,
                score=data["score"],
                reason=data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The grade was changed."))
            return HttpResponseRedirect(reverse("grading:gradebook", args=[cohort.slug]))
    return _gradebook_page(request, cohort, form=form, status=400)


@login_required
@require_POST
def gradebook_export(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = _gradebook_cohort(request, slug)
    job = services.gradebook_export_create(cohort=cohort, requested_by=request.user)
    job.refresh_from_db(fields=["state"])
    if not job_is_final(job):  # final now: the job queue was unreachable, and the job's page says so
        messages.success(request, _("The export is being prepared; you will be notified when it is ready."))
    return HttpResponseRedirect(job.get_absolute_url())


@login_required
def my_grades(request: HttpRequest) -> HttpResponse:
    context = {
        "books": selectors.grades_of(learner=request.user),
        "gradebook_cohorts": selectors.gradebook_cohorts(request.user),
    }
    return render(request, "grading/my_grades.html", context)


@login_required
def cohort_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = get_object_or_404(cohort_selectors.cohorts_all(), slug=slug)
    if not selectors.can_view_cohort_leaderboard(user=request.user, cohort=cohort):
        raise Http404
    entries, error = selectors.cohort_leaderboard(cohort=cohort)
    return render(request, "grading/cohort_leaderboard.html", {"cohort": cohort, "entries": entries, "error": error})


@login_required
def lab_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_object_or_404(lab_selectors.labs_visible_to(request.user), slug=slug)
    rule = request.GET.get("rule", rules.BEST)
    if rule not in (rules.BEST, rules.LATEST):
        rule = rules.BEST
    entries = selectors.board_with_reference(selectors.lab_leaderboard(lab=lab, rule=rule), lab=lab)
    return render(request, "grading/lab_leaderboard.html", {"lab": lab, "entries": entries, "rule": rule})


@login_required
@permission_required("core.administer", raise_exception=True)
def cohort_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = get_object_or_404(cohort_selectors.cohorts_all(), slug=slug)
    return render(
        request, "grading/cohort_dashboard.html", {"cohort": cohort, "data": dashboard.cohort_dashboard_data(cohort)}
    )
