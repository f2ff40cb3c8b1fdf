"""Grading pages: a cohort's gradebook (with overrides and the CSV export), a learner's own grades,
and the leaderboards of a lab and of a cohort."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.jobs import job_is_final
from core.models import Cohort, User
from labs import grading, grading_selectors, grading_services
from labs.grading_forms import GradeOverrideForm
from labs.models import Lab
from labs.selectors import labs_published


def _gradebook_cohort(request: HttpRequest, slug: str) -> Cohort:
    cohort = get_object_or_404(Cohort, slug=slug)
    if not grading_selectors.can_view_gradebook(user=request.user, cohort=cohort):
        raise Http404
    return cohort


GRADEBOOK_PAGE_SIZE = 50  # learners per gradebook page; the CSV export has every one


def _gradebook_page(
    request: HttpRequest, cohort: Cohort, form: GradeOverrideForm | None = None, status: int = 200
) -> HttpResponse:
    members = grading_selectors.gradebook_members(user=request.user, cohort=cohort)
    # The page is of ids only: gradebook_build fetches the rows themselves, with what they need.
    page = Paginator(members.values_list("pk", flat=True), GRADEBOOK_PAGE_SIZE).get_page(request.GET.get("page"))
    book = grading_selectors.gradebook_build(cohort=cohort, members=members.filter(pk__in=list(page)))
    if form is None:
        form = GradeOverrideForm(members=[row.member for row in book.rows], labs=book.labs)
    context = {
        "cohort": cohort,
        "book": book,
        "page": page,
        "form": form,
        "overrides": grading_selectors.gradebook_overrides(book),
        "is_admin": grading_selectors.is_grading_admin(request.user),
    }
    return render(request, "labs/gradebook.html", context, status=status)


@login_required
def gradebook(request: HttpRequest, slug: str) -> HttpResponse:
    return _gradebook_page(request, _gradebook_cohort(request, slug))


@login_required
@require_POST
def grade_override_create(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = _gradebook_cohort(request, slug)
    members = list(grading_selectors.gradebook_members(user=request.user, cohort=cohort))
    form = GradeOverrideForm(request.POST, members=members, labs=grading_selectors.cohort_labs(cohort))
    if form.is_valid():
        data = form.cleaned_data
        try:
            grading_services.grade_override_create(
                cohort=cohort,
                learner=User.objects.get(pk=data["learner"]),
                lab=Lab.objects.get(pk=data["lab"]) if data["lab"] else None,
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
    job = grading_services.gradebook_export_create(cohort=cohort, requested_by=request.user)
    job.refresh_from_db(fields=["state"])
    if not job_is_final(job):  # final now: the job queue was unreachable, and the job's page says so
        messages.success(request, _("The export is being prepared; you will be notified when it is ready."))
    return HttpResponseRedirect(job.get_absolute_url())


@login_required
def my_grades(request: HttpRequest) -> HttpResponse:
    context = {
        "books": grading_selectors.grades_of(learner=request.user),
        "gradebook_cohorts": grading_selectors.gradebook_cohorts(request.user),
    }
    return render(request, "labs/my_grades.html", context)


@login_required
def cohort_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = get_object_or_404(Cohort, slug=slug)
    if not grading_selectors.can_view_cohort_leaderboard(user=request.user, cohort=cohort):
        raise Http404
    entries, error = grading_selectors.cohort_leaderboard(cohort=cohort)
    return render(request, "labs/cohort_leaderboard.html", {"cohort": cohort, "entries": entries, "error": error})


@login_required
def lab_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_object_or_404(labs_published(), slug=slug)
    rule = request.GET.get("rule", grading.BEST)
    if rule not in (grading.BEST, grading.LATEST):
        rule = grading.BEST
    entries = grading_selectors.lab_leaderboard(lab=lab, rule=rule)
    return render(request, "labs/lab_leaderboard.html", {"lab": lab, "entries": entries, "rule": rule})
