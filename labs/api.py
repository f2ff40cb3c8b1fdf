from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labs import selectors, services
from labs.api_inputs import BinaryFileParser, JsonObjectField, PythonFileParser
from labs.artifacts import weights_max_mb
from labs.diagnosis import CODES as DIAGNOSIS_CODES
from labs.diagnosis import run_findings_explained
from labs.models import Lab, Run, Submission
from labs.permissions import can_act_on_run, can_view_run, runs_visible_to
from labs.throttling import SubmissionRateThrottle, submission_throttled
from labs.validation import SubmissionRejected


class LabSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    n_train = serializers.IntegerField(source="dataset.n_train", read_only=True)
    n_test = serializers.IntegerField(source="dataset.n_test", read_only=True)
    feature_shape = serializers.JSONField(source="dataset.feature_shape", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    artifact_max_mb = serializers.SerializerMethodField(
        help_text="the largest trained weights a run keeps (MB); 0: none. save_weights=false keeps none"
    )
    fit_for_ranking = serializers.BooleanField(
        read_only=True,
        help_text="true: the hidden test rows exist only on the platform (a secret seed's, or the author's own); "
        "false: practice on public data, its hidden rows can be found elsewhere",
    )

    class Meta:
        model = Lab
        fields = [
            "slug",
            "title",
            "description",
            "metric",
            "higher_is_better",
            "threshold",
            "device_class",
            "params",
            "wall_seconds",
            "memory_mb",
            "submissions_per_day",
            "artifact_max_mb",
            "fit_for_ranking",
            "starter_code",
            "n_train",
            "n_test",
            "feature_shape",
            "url",
        ]

    def get_artifact_max_mb(self, lab: Lab) -> int:
        return weights_max_mb(lab)


class FindingSerializer(serializers.Serializer):
    """One finding of the coach's reading of a run (labs.diagnosis)."""

    code = serializers.ChoiceField(choices=DIAGNOSIS_CODES)
    message = serializers.CharField(help_text="the explanation, in the request's language")
    evidence = serializers.DictField(
        help_text="the metric, the curve's points that show it ([step, value] pairs) and the numbers the message quotes"
    )
    lessons = serializers.ListField(child=serializers.CharField(), help_text="the lessons that teach the fix")


class RunSerializer(serializers.ModelSerializer):
    lab = serializers.CharField(source="submission.lab.slug", read_only=True)
    metric = serializers.CharField(source="submission.lab.metric", read_only=True)
    threshold = serializers.FloatField(source="submission.lab.threshold", read_only=True)
    submission = serializers.IntegerField(source="submission_id", read_only=True)
    source = serializers.CharField(source="submission.source", read_only=True)
    params = serializers.JSONField(source="submission.params", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    artifacts = serializers.DictField(  # labs.artifacts: {"weights", "log", "metrics"} -> the API's link or null
        source="api_downloads", child=serializers.CharField(allow_null=True), read_only=True
    )
    score = serializers.FloatField(
        read_only=True, allow_null=True, help_text="on the hidden test set; null until scored, and while sealed"
    )
    passed = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="whether the score passes the lab's threshold; null as the score"
    )
    sealed = serializers.BooleanField(
        read_only=True,
        help_text="a run of a lab a challenge uses (its entry or not): its score and verdict are withheld until "
        "the challenge's results are revealed",
    )

    diagnosis = serializers.SerializerMethodField(
        help_text="what the run's curve, log and outcome say went wrong; empty while it runs and for a run without a "
        "finding"
    )

    class Meta:
        model = Run
        fields = [
            "id",
            "lab",
            "submission",
            "source",
            "state",
            "reason",
            "attempt",
            "metric",
            "score",
            "threshold",
            "passed",
            "sealed",
            "params",
            "seed",
            "code_sha256",
            "device",
            "torch_version",
            "sandbox",
            "worker_host",
            "queued_at",
            "started_at",
            "finished_at",
            "curve",
            "diagnosis",
            "url",
            "artifacts",
        ]

    @extend_schema_field(FindingSerializer(many=True))
    def get_diagnosis(self, run: Run) -> list[dict[str, Any]]:
        return [finding.as_api() for finding in run_findings_explained(run)]


class LabListApi(generics.ListAPIView):
    serializer_class = LabSerializer
    queryset = selectors.labs_published()


class LabDetailApi(generics.RetrieveAPIView):
    serializer_class = LabSerializer
    queryset = selectors.labs_published()
    lookup_field = "slug"


class SubmissionCreateApi(APIView):
    """Submit a solution: JSON ``{"code": "...", "params": {...}}``; multipart with ``file`` and
    ``params`` as a JSON string; or the file itself as the body (``Content-Type: text/x-python`` or
    ``application/octet-stream``) with ``?filename=`` and ``?params=`` (labs.api_inputs)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser, PythonFileParser, BinaryFileParser]
    throttle_classes = [SubmissionRateThrottle]  # one budget with the web form (labs.throttling)

    def throttled(self, request: Request, wait: float | None) -> None:
        raise submission_throttled(wait)

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(required=False, trim_whitespace=False)
        file = serializers.FileField(required=False)
        params = JsonObjectField(required=False, help_text='e.g. {"epochs": 5}; a JSON string in multipart')

        def validate(self, attrs: dict) -> dict:
            if bool(attrs.get("code")) == bool(attrs.get("file")):
                raise serializers.ValidationError(
                    "Send exactly one of `code` (JSON) or `file` (multipart), or the file itself as the body "
                    "with Content-Type: text/x-python."
                )
            return attrs

    @extend_schema(
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
            "application/x-www-form-urlencoded": InputSerializer,
            "text/x-python": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        parameters=[
            OpenApiParameter("filename", str, description="a raw body's file name (.py or .ipynb)"),
            OpenApiParameter("params", str, description='a raw body\'s parameters as JSON, e.g. {"epochs": 5}'),
        ],
        responses={201: RunSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        lab = selectors.labs_published().filter(slug=slug).first()
        if lab is None:
            raise Http404
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = services.submission_create(
                learner=request.user,
                lab=lab,
                source=Submission.Source.API,
                code=serializer.validated_data.get("code"),
                upload=serializer.validated_data.get("file"),
                params=serializer.validated_data.get("params"),
            )
        except SubmissionRejected as rejected:
            return Response({"errors": rejected.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunListApi(generics.ListAPIView):
    serializer_class = RunSerializer
    filterset_fields = ["state"]

    def get_queryset(self) -> QuerySet[Run]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Run.objects.none()
        return runs_visible_to(self.request.user, selectors.runs_newest_first())


def _run_for(request: Request, run_id: int, *, act: bool = False) -> Run:
    run = selectors.run_with_context(run_id)
    allowed = run is not None and (can_act_on_run if act else can_view_run)(request.user, run)
    if not allowed:
        raise Http404
    return run


class RunDetailApi(APIView):
    @extend_schema(responses=RunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(_run_for(request, run_id)).data)


class RunCancelApi(APIView):
    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        run = _run_for(request, run_id, act=True)
        if run.is_final:
            return Response({"errors": ["This run had already ended."]}, status=status.HTTP_409_CONFLICT)
        services.run_cancel(run=run)
        run.refresh_from_db()
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunRerunApi(APIView):
    throttle_classes = [SubmissionRateThrottle]

    def throttled(self, request: Request, wait: float | None) -> None:
        raise submission_throttled(wait)

    @extend_schema(request=None, responses={201: RunSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        run = _run_for(request, run_id, act=True)
        try:
            new_run = services.run_rerun(run=run)
        except SubmissionRejected as rejected:
            return Response({"errors": rejected.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(RunSerializer(new_run).data, status=status.HTTP_201_CREATED)
