"""The API's downloads: a run's files (``labs.artifacts``: weights, log, metrics CSV) for the learner,
their mentor and administrators (``can_view_run``; anyone else gets the 404 of a run that does not
exist), and a lab's public dataset for anyone signed in who may see the lab."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from labs import selectors
from labs.api import _run_for
from labs.artifacts import run_file_response
from labs.datasets import dataset_open, dataset_storage
from labs.models import Dataset

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
NOT_FOUND = OpenApiResponse(description="No such run or lab, not yours to see, or no such file (yet).")


class FileApi(APIView):
    """Answers a file whatever the request's ``Accept`` says: DRF would refuse ``Accept: text/csv`` with
    406, its renderers being JSON's (errors still come as JSON)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        return super().perform_content_negotiation(request, force=True)


def _run_file(request: Request, run_id: int, kind: str) -> HttpResponse:
    response = run_file_response(_run_for(request, run_id), kind)
    if response is None:
        raise Http404
    return response


class RunWeightsApi(FileApi):
    @extend_schema(
        summary="The run's trained weights",
        description="The model's `state_dict` as `torch.save` wrote it (`model.pt`); load it with "
        "`torch.load(path, weights_only=True)`. Header `X-Content-SHA256`.",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, run_id: int) -> HttpResponse:
        return _run_file(request, run_id, "weights")


class RunLogApi(FileApi):
    @extend_schema(
        summary="The run's whole output log",
        description="Everything the run printed, within the lab's output limit. Header `X-Content-SHA256`.",
        responses={(200, "text/plain"): OpenApiTypes.STR, 404: NOT_FOUND},
    )
    def get(self, request: Request, run_id: int) -> HttpResponse:
        return _run_file(request, run_id, "log")


class RunMetricsApi(FileApi):
    @extend_schema(
        summary="The run's learning curve as CSV",
        description="Columns `step`, `t` (seconds since the run started) and one per metric `run.log` sent.",
        responses={(200, "text/csv"): OpenApiTypes.STR, 404: NOT_FOUND},
    )
    def get(self, request: Request, run_id: int) -> HttpResponse:
        return _run_file(request, run_id, "metrics")


class LabDataApi(FileApi):
    @extend_schema(
        summary="The lab's public dataset",
        description="The `.npz` lab workers get: `x_train`, `y_train`, `x_test` (never its labels), optional "
        "`x_val`, `y_val`, `num_classes`, `meta_json` and the lab's `files/…`. Header `X-Dataset-SHA256`.",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        lab = selectors.labs_visible_to(request.user).filter(slug=slug, dataset__isnull=False).first()
        if lab is None:
            raise Http404
        dataset = lab.dataset
        storage = dataset_storage()
        if not storage.exists(dataset.file_name):
            logger.error("lab %s: its dataset file %s is missing from the store", lab.slug, dataset.file_name)
            raise Http404
        response = StreamingHttpResponse(_chunks(dataset), content_type="application/octet-stream")
        response["Content-Length"] = str(storage.size(dataset.file_name))
        response["Content-Disposition"] = content_disposition_header(True, f"{lab.slug}.npz")
        response["X-Dataset-SHA256"] = dataset.sha256
        return response


def _chunks(dataset: Dataset) -> Iterator[bytes]:
    with dataset_open(dataset) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
