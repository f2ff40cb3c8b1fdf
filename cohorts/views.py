"""Pages: cohorts (administrators only) and the status page of any background job."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from cohorts import background, selectors, services
from cohorts.forms import MemberMentorForm, RosterUploadForm
from cohorts.models import Cohort, Job, JobState
from cohorts.roster import RosterError, job_roster_import_create
from core.live import job_topic


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the sign-in page; signed-in users without the permission get 403."""
    return login_required(permission_required("core.administer", raise_exception=True)(view))


@admin_only
def cohort_list(request: HttpRequest) -> HttpResponse:
    cohort_rows = selectors.with_counts(selectors.cohorts_all())
    return render(request, "cohorts/cohort_list.html", {"cohorts": cohort_rows})


@admin_only
def cohort_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = selectors.cohort_for_page(slug)
    if cohort is None:
        raise Http404
    upload_form = RosterUploadForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "roster":
            upload_form = RosterUploadForm(request.POST, request.FILES)
            job = _roster_upload(request, cohort, upload_form)
            if job is not None:
                return HttpResponseRedirect(job.get_absolute_url())
        elif action == "mentor":
            _mentor_change(request, cohort)
            return HttpResponseRedirect(request.path)
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    context = {
        "cohort": cohort,
        "members": selectors.members_of(cohort),
        "mentors": selectors.mentors_of(cohort),
        "mentor_choices": selectors.mentor_candidates(),
        "deadlines": selectors.deadlines_of(cohort),
        "jobs": selectors.recent_jobs_of(cohort),
        "upload_form": upload_form,
    }
    return render(request, "cohorts/cohort_detail.html", context, status=400 if upload_form.errors else 200)


def _roster_upload(request: HttpRequest, cohort: Cohort, form: RosterUploadForm) -> Job | None:
    if not form.is_valid():
        return None
    try:
        return job_roster_import_create(
            requested_by=request.user, cohort=cohort, file_name=form.cleaned_data["file"].name or "", text=form.text
        )
    except RosterError as exc:
        form.add_error("file", str(exc))
        return None


def _mentor_change(request: HttpRequest, cohort: Cohort) -> None:
    form = MemberMentorForm(request.POST, cohort=cohort)
    if not form.is_valid():
        messages.error(request, _("The mentor could not be changed: choose a member and a mentor from the lists."))
        return
    member, mentor = form.cleaned_data["member"], form.cleaned_data["mentor"]
    try:
        services.cohort_mentor_set(member=member, mentor=mentor)
    except services.CohortError as exc:
        messages.error(request, str(exc))
        return
    if mentor is None:
        messages.success(request, _("%(learner)s has no mentor now.") % {"learner": member.learner})
    else:
        messages.success(
            request, _("%(mentor)s now mentors %(learner)s.") % {"mentor": mentor, "learner": member.learner}
        )


def _visible_job(request: HttpRequest, job_id: int) -> Job:
    job = selectors.job_by_id(job_id)
    if job is None or not background.can_view_job(request.user, job):
        raise Http404
    return job


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _visible_job(request, job_id)
    header, rows = background.job_result_preview(job) if job.result_file else ([], [])
    context = {
        "job": job,
        "final": background.job_is_final(job),
        "summary": background.job_summary_items(job),
        "preview_header": header,
        "preview_rows": rows,
        "can_manage_cohorts": services.can_manage_cohorts(request.user),
        "live_topics": [] if background.job_is_final(job) else [job_topic(job.kind, job.pk)],
    }
    return render(request, "cohorts/job_detail.html", context)


@login_required
def job_result(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _visible_job(request, job_id)
    if job.state != JobState.DONE or not job.result_file:
        raise Http404
    # The byte-order mark makes spreadsheet programs read the UTF-8 (Chinese names) correctly.
    text = background.job_result_text(job)
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    name = job.result_name or f"job-{job.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
