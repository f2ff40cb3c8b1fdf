"""The authoring pages (administrators only; anyone else gets 404): every lab with its state, a lab
folder uploaded as a .zip (a new lab, or an update of the lab of its slug, always as a draft), the
reference run that publishes it, and the way back, a lab as a folder .zip."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cohorts.permissions import is_admin
from core.live import run_topic
from labs import selectors
from labs.authoring import ExportRefused, hidden_seed_for, lab_export, lab_import, skills_problems
from labs.forms import LabUploadForm
from labs.lab_archive import ArchiveRefused, lab_zip_pack, lab_zip_unpack
from labs.lab_folder import LabFolder, LabFolderInvalid, Problem, read_lab_folder
from labs.models import Lab
from labs.preview import data_preview
from labs.publishing import PublishRefused, lab_unpublish, reference_run_start

ProblemGroups = list[tuple[str, list[str]]]


def authors_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in administrators; anyone else signed in gets 404, as if the pages did not exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


@authors_only
def authoring_list(request: HttpRequest) -> HttpResponse:
    form, problems = LabUploadForm(), []
    if request.method == "POST":
        form = LabUploadForm(request.POST, request.FILES)
        lab, problems = _upload(form, slug=None)
        if lab is not None:
            return _imported(request, lab)
    context = {"labs": selectors.labs_for_authoring(), "form": form, "problems": problems}
    return render(request, "labs/authoring/lab_list.html", context, status=_status(form, problems))


@authors_only
def authoring_lab(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_object_or_404(selectors.labs_for_authoring(), slug=slug)
    form, problems = LabUploadForm(), []
    if request.method == "POST":
        form = LabUploadForm(request.POST, request.FILES)
        imported, problems = _upload(form, slug=lab.slug)
        if imported is not None:
            return _imported(request, imported)
    run = lab.reference_run
    run_active = run is not None and not run.is_final
    context = {
        "lab": lab,
        "run": run,
        "datasets": lab.datasets.order_by("-version"),
        "preview": data_preview(lab.dataset) if lab.dataset else None,
        "form": form,
        "problems": problems,
        "poll_ms": settings.RUN_PAGE_POLL_MS,
        "run_active": run_active,
        "live_topics": [run_topic(run.pk)] if run_active else [],  # static/js/authoring.js follows the run
    }
    return render(request, "labs/authoring/lab_detail.html", context, status=_status(form, problems))


@authors_only
@require_POST
def authoring_reference(request: HttpRequest, slug: str) -> HttpResponse:
    lab = _lab(slug)
    publish = request.POST.get("publish") == "1"
    try:
        run = reference_run_start(lab=lab, publish=publish)
    except PublishRefused as refused:
        messages.error(request, _("The reference run could not start: %(reason)s") % {"reason": refused})
    else:
        queued = _("Reference run #%(id)s queued: the lab is published if it passes.") if publish else None
        messages.success(request, (queued or _("Reference run #%(id)s queued.")) % {"id": run.pk})
    return HttpResponseRedirect(reverse("labs:authoring_lab", args=[lab.slug]))


@authors_only
@require_POST
def authoring_unpublish(request: HttpRequest, slug: str) -> HttpResponse:
    lab = _lab(slug)
    lab_unpublish(lab=lab)
    messages.success(request, _("%(lab)s is a draft again: learners no longer see it.") % {"lab": lab.slug})
    return HttpResponseRedirect(reverse("labs:authoring_lab", args=[lab.slug]))


@authors_only
@require_GET
def authoring_download(request: HttpRequest, slug: str) -> HttpResponse:
    """The lab as its folder, zipped: what an upload takes back (its test labels included: for authors)."""
    lab = _lab(slug)
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it, and so removes it, once sent)
    with tempfile.TemporaryDirectory(prefix="lab-export-") as tmp:
        try:
            lab_export(lab, Path(tmp) / lab.slug)
        except ExportRefused as refused:
            archive.close()
            messages.error(request, _("The lab could not be exported: %(reason)s") % {"reason": refused})
            return HttpResponseRedirect(reverse("labs:authoring_lab", args=[lab.slug]))
        lab_zip_pack(Path(tmp) / lab.slug, archive)
    archive.seek(0)
    return FileResponse(archive, as_attachment=True, filename=f"{lab.slug}.zip", content_type="application/zip")


def _lab(slug: str) -> Lab:
    lab = selectors.lab_by_slug(slug)
    if lab is None:
        raise Http404
    return lab


def _upload(form: LabUploadForm, *, slug: str | None) -> tuple[Lab | None, ProblemGroups]:
    """The uploaded lab folder, imported as a draft; or None and its problems (per file), nothing written.
    ``slug``: the lab a lab's own page updates (another slug is a problem there)."""
    if not form.is_valid():
        return None, []
    with tempfile.TemporaryDirectory(prefix="lab-upload-") as tmp:
        try:
            folder = lab_zip_unpack(form.cleaned_data["archive"], Path(tmp))
        except ArchiveRefused as refused:
            form.add_error("archive", str(refused))
            return None, []
        problems = _slug_problems(folder.name, slug)
        try:
            lab_folder: LabFolder | None = read_lab_folder(folder, hidden_seed=hidden_seed_for)
        except LabFolderInvalid as invalid:
            lab_folder, problems = None, invalid.problems + problems
        if lab_folder is not None:
            problems += skills_problems(lab_folder.definition)
        if problems or lab_folder is None:
            return None, _grouped(problems, tmp)
        return lab_import(lab_folder), []


def _slug_problems(slug: str, expected: str | None) -> list[Problem]:
    """The folder's name is the lab's slug (``read_lab_folder`` holds them equal); on a lab's own page, its slug."""
    problems = []  # a slug our URLs cannot take is read_lab_folder's problem (labs.lab_folder.SLUG)
    if expected is not None and slug != expected:
        message = _(
            "this page updates the lab %(expected)s, but the zip holds %(slug)s: upload it on the list of labs"
        ) % {"expected": expected, "slug": slug}
        problems.append(Problem("lab.toml", message))
    return problems


def _grouped(problems: list[Problem], tmp: str) -> ProblemGroups:
    """Problems per file, files in the order first met; our temporary folder's path left out of the text."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        groups.setdefault(problem.file, []).append(problem.message.replace(f"{tmp}/", ""))
    return list(groups.items())


def _status(form: LabUploadForm, problems: ProblemGroups) -> int:
    return 400 if form.errors or problems else 200


def _imported(request: HttpRequest, lab: Lab) -> HttpResponse:
    dataset = lab.dataset
    assert dataset is not None  # lab_import always publishes the data
    messages.success(
        request,
        _("%(lab)s imported as a draft, dataset v%(version)s. Run its reference solution to publish it.")
        % {"lab": lab.slug, "version": dataset.version},
    )
    return HttpResponseRedirect(reverse("labs:authoring_lab", args=[lab.slug]))
