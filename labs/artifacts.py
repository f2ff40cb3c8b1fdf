"""A run's files: the trained weights (``model.pt``, the model's ``state_dict``) and the whole output log
that a lab worker stores when the run ends, and the metrics as CSV, made from the curve on request.

How they travel: when a run is sent (``labs.dispatch.job_spec``), the site names each file of that
attempt in the ``default`` store — ``artifacts/runs/<run id>/<attempt token>/model.pt`` and
``…/log.txt`` — and signs a link a worker can write it by (``core.storage.upload_url``: a pre-signed PUT,
or a ``file://`` path on this machine), so a worker holds no key. The token is new for every attempt and
is never shown: nobody can guess a name, and a stale attempt writes only under its own. The worker says
in its finished event what it stored (size, sha256); ``labs.run_events`` keeps that in ``Run.artifacts``
for the current attempt only, under the names the site chose (never a name a worker sends). People
get the files from the site, which checks who asks (``labs.permissions.can_view_run``).

Weights are kept up to the lab's ``artifact_max_mb`` (never more than its disk limit; 0: none), unless
the learner opted out (``Submission.save_weights``: the reserved parameter ``save_weights=false``).
When a run is deleted, its files go too (``labs.file_cleanup``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.http import FileResponse, HttpResponse

from cohorts.background import spreadsheet_safe
from core.storage import upload_url
from labs.models import Lab, Run
from workers.events import ARTIFACTS
from workers.jobspec import Uploads

FILE_NAMES = {"weights": "model.pt", "log": "log.txt"}  # one per name of workers.events.ARTIFACTS
CONTENT_TYPES = {"weights": "application/octet-stream", "log": "text/plain; charset=utf-8"}
MIB = 1024 * 1024
UPLOAD_MARGIN_SECONDS = 3600
MAX_LINK_SECONDS = 7 * 24 * 3600  # the longest a SigV4 pre-signed link lives


def artifact_storage() -> Storage:
    return storages["default"]


def run_folder(run_id: int) -> str:
    """The folder of run ``run_id`` in the ``default`` store: one folder in it per attempt."""
    return f"artifacts/runs/{run_id}"


def artifact_name(*, run_id: int, token: str, kind: str) -> str:
    """The name of one file of one attempt in the ``default`` store."""
    return f"{run_folder(run_id)}/{token}/{FILE_NAMES[kind]}"


def weights_max_mb(lab: Lab) -> int:
    """The largest trained weights a run of ``lab`` keeps, in MB: its cap, never above its disk limit; 0: none."""
    return min(lab.artifact_max_mb, lab.disk_mb)


def run_uploads(run: Run) -> Uploads:
    """The links a worker stores this attempt's files by. They live as long as the run may wait in the
    queue and then run, and an hour more; a link that expired anyway only costs that file."""
    lab = run.submission.lab
    lifetime = min(settings.LAB_QUEUE_TIMEOUT_SECONDS + lab.wall_seconds + UPLOAD_MARGIN_SECONDS, MAX_LINK_SECONDS)

    def link(kind: str) -> str:
        name = artifact_name(run_id=run.pk, token=run.token, kind=kind)
        return upload_url(artifact_storage(), name, expires_in=lifetime)

    weights_mb = weights_max_mb(lab) if run.submission.save_weights else 0
    return Uploads(weights=link("weights") if weights_mb else "", log=link("log"), weights_max_bytes=weights_mb * MIB)


def artifacts_stored(*, run_id: int, token: str, reported: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a finished attempt stored (``AttemptResult.artifacts``, validated by ``workers.events``), as
    ``Run.artifacts`` keeps it: the files the site asked for, under the names it chose for the attempt."""
    return {
        kind: {
            "name": artifact_name(run_id=run_id, token=token, kind=kind),
            "size": reported[kind]["size"],
            "sha256": reported[kind]["sha256"],
        }
        for kind in ARTIFACTS
        if kind in reported
    }


def run_file_response(run: Run, kind: str) -> HttpResponse | None:
    """``kind`` (weights, log, metrics) of ``run`` as an attachment; None when it has none. The caller
    has checked who asks."""
    return metrics_response(run) if kind == "metrics" else artifact_response(run, kind)


def artifact_response(run: Run, kind: str) -> HttpResponse | None:
    """The stored file ``kind`` of ``run``, streamed from the store as an attachment; None when the run
    has none (or the store lost it). The caller has checked who asks."""
    stored = run.artifacts.get(kind)
    if not isinstance(stored, dict) or not stored.get("name"):
        return None
    storage = artifact_storage()
    if not storage.exists(stored["name"]):
        return None
    response = FileResponse(
        storage.open(stored["name"], "rb"),
        as_attachment=True,
        filename=f"run-{run.pk}-{FILE_NAMES[kind]}",
        content_type=CONTENT_TYPES[kind],
    )
    response["X-Content-SHA256"] = stored["sha256"]
    return response


def metrics_csv(run: Run) -> str | None:
    """The curve as CSV: ``step``, ``t`` (seconds since the run started) and one column per metric, in
    the order they first appear; an empty cell where a point has no value. None without a curve."""
    if not run.curve:
        return None
    names: dict[str, None] = {}
    for point in run.curve:
        names.update(dict.fromkeys(point["metrics"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "t", *(spreadsheet_safe(name) for name in names)])
    for point in run.curve:
        values = [point.get("step"), point.get("t"), *(point["metrics"].get(name) for name in names)]
        writer.writerow([_number(value) for value in values])
    return out.getvalue()


def metrics_response(run: Run) -> HttpResponse | None:
    text = metrics_csv(run)
    if text is None:
        return None
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-metrics.csv"'
    return response


def _number(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)
