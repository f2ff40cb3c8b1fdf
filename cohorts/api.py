"""API: cohorts (scoped to who may see them), roster imports, and the status of any background job."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from cohorts import background, selectors, services
from cohorts.models import Cohort, CohortMember, Job, JobState, LabDeadline
from cohorts.roster import MAX_BYTES, RosterError, job_roster_import_create, roster_decode
from core.models import User


class IsAdministrator(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return services.can_manage_cohorts(request.user)


class CohortMentorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["username", "name"]


class CohortMemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="learner.username", read_only=True)
    name = serializers.CharField(source="learner.__str__", read_only=True)
    mentor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CohortMember
        fields = ["username", "name", "mentor", "joined_at"]


class CohortDeadlineSerializer(serializers.ModelSerializer):
    lab = serializers.CharField(source="lab.slug", read_only=True)

    class Meta:
        model = LabDeadline
        fields = ["lab", "due_at", "weight"]


class CohortSerializer(serializers.ModelSerializer):
    path = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    courses = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    mentor_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cohort
        fields = ["slug", "name", "path", "courses", "starts_on", "ends_on", "member_count", "mentor_count"]


class CohortDetailSerializer(CohortSerializer):
    mentors = CohortMentorSerializer(many=True, read_only=True)
    members = CohortMemberSerializer(source="visible_members", many=True, read_only=True)
    deadlines = CohortDeadlineSerializer(source="deadline_list", many=True, read_only=True)

    class Meta(CohortSerializer.Meta):
        fields = [
            *CohortSerializer.Meta.fields,
            "mentors",
            "members",
            "deadlines",
            "lab_weight",
            "review_weight",
            "course_weight",
            "pass_mark",
            "score_rule",
            "late_penalty_per_day",
            "late_cutoff_days",
        ]


class JobSerializer(serializers.ModelSerializer):
    cohort = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    summary = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    result_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "cohort",
            "requested_by",
            "input_name",
            "summary",
            "error",
            "created_at",
            "finished_at",
            "url",
            "result_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_result_url(self, job: Job) -> str | None:
        """Where to download the CSV result (a signed-in session), once the job is done."""
        if job.state != JobState.DONE or not job.result_file:
            return None
        return reverse("job_result", args=[job.pk], request=self.context.get("request"))


def _cohorts_for(request: Request) -> QuerySet[Cohort]:
    return selectors.with_counts(selectors.cohorts_visible_to(request.user)).prefetch_related("courses")


class CohortListApi(generics.ListAPIView):
    serializer_class = CohortSerializer

    def get_queryset(self) -> QuerySet[Cohort]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Cohort.objects.none()
        return _cohorts_for(self.request)


class CohortDetailApi(APIView):
    @extend_schema(responses=CohortDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        cohort = _cohorts_for(request).filter(slug=slug).first()
        if cohort is None:
            raise Http404
        members = selectors.members_of(cohort)
        if not selectors.can_see_all_members(request.user, cohort):
            members = members.filter(learner=request.user)
        cohort.visible_members = members
        cohort.deadline_list = selectors.deadlines_of(cohort)
        return Response(CohortDetailSerializer(cohort).data)


class CohortRosterApi(APIView):
    """Import a roster into this cohort: multipart with ``file``, or JSON ``{"text": "username,..."}``.
    Answers 202 with the job; poll ``/api/v1/jobs/<id>/`` for its outcome."""

    permission_classes = [IsAdministrator]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class RosterInputSerializer(serializers.Serializer):
        file = serializers.FileField(required=False)
        text = serializers.CharField(required=False, trim_whitespace=False)

        def validate(self, attrs: dict) -> dict:
            if bool(attrs.get("file")) == bool(attrs.get("text")):
                raise serializers.ValidationError(_("Send exactly one of `file` or `text`."))
            return attrs

    @extend_schema(request=RosterInputSerializer, responses={202: JobSerializer})
    def post(self, request: Request, slug: str) -> Response:
        cohort = selectors.cohort_by_slug(slug)
        if cohort is None:
            raise Http404
        serializer = self.RosterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data.get("file")
        try:
            text = roster_decode(upload.read(MAX_BYTES + 1)) if upload else serializer.validated_data["text"]
            job = job_roster_import_create(
                requested_by=request.user, cohort=cohort, file_name=upload.name if upload else "roster.csv", text=text
            )
        except RosterError as exc:
            return Response({"errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        job.refresh_from_db()  # it failed at once if the job queue was unreachable
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        job = background.jobs_visible_to(request.user).filter(pk=job_id).first()
        if job is None:
            raise Http404
        return Response(JobSerializer(job, context={"request": request}).data)
