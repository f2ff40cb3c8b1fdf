"""Grading API: a cohort's gradebook, one's own grades, overrides, the CSV export job, lab leaderboards.

Same rules as the pages (``rules.selectors``): a gradebook is for administrators (every
learner) and mentors (their mentees); anyone else gets 404."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cohorts import selectors as cohort_selectors
from cohorts.models import Cohort, Job
from core import selectors as core_selectors
from grading import dashboard, rules, selectors, services
from grading.models import GradeOverride
from labs import selectors as lab_selectors
from labs.selectors import labs_published

# --- Output ----------------------------------------------------------------------------------


class PolicySerializer(serializers.Serializer):
    lab_weight = serializers.IntegerField()
    review_weight = serializers.IntegerField()
    course_weight = serializers.IntegerField()
    pass_mark = serializers.FloatField()
    score_rule = serializers.CharField(help_text="best or latest")
    late_penalty_per_day = serializers.FloatField()
    late_cutoff_days = serializers.IntegerField()


class LabSpecSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    higher_is_better = serializers.BooleanField()
    threshold = serializers.FloatField()
    due_at = serializers.DateTimeField()
    weight = serializers.IntegerField()


class JudgedRunSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.run_id")
    score = serializers.FloatField(source="run.score")
    finished_at = serializers.DateTimeField(source="run.finished_at")
    raw_points = serializers.FloatField(help_text="0–100 before the late penalty")
    days_late = serializers.IntegerField(help_text="started days after the deadline")
    penalty = serializers.FloatField()
    points = serializers.FloatField()
    counts = serializers.BooleanField(help_text="false: finished after the cut-off")


class OverrideSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="override_id")
    score = serializers.FloatField()
    reason = serializers.CharField()
    by = serializers.CharField()
    created_at = serializers.DateTimeField()


class GradedReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="review_id")
    run = serializers.IntegerField(source="run_id")
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class LabGradeSerializer(serializers.Serializer):
    lab = serializers.CharField(source="lab.slug")
    counted = JudgedRunSerializer(allow_null=True, help_text="the run that counts, by the cohort's rule")
    runs = JudgedRunSerializer(many=True)
    auto_points = serializers.FloatField()
    points = serializers.FloatField(help_text="the override's score if there is one, else auto_points")
    override = OverrideSerializer(allow_null=True)
    history = OverrideSerializer(many=True, help_text="every override of this lab, newest first")
    review = GradedReviewSerializer(allow_null=True)
    review_points = serializers.FloatField(allow_null=True)


class GradeSerializer(serializers.Serializer):
    labs = LabGradeSerializer(many=True)
    lab_part = serializers.FloatField(allow_null=True)
    review_part = serializers.FloatField(allow_null=True)
    course_part = serializers.FloatField(allow_null=True)
    lessons_done = serializers.IntegerField(source="course.done")
    lessons_total = serializers.IntegerField(source="course.total")
    computed = serializers.FloatField()
    override = OverrideSerializer(allow_null=True)
    history = OverrideSerializer(many=True)
    final = serializers.FloatField()
    pass_mark = serializers.FloatField()
    passed = serializers.BooleanField()


class GradebookRowSerializer(serializers.Serializer):
    learner_id = serializers.IntegerField(source="member.learner_id")
    username = serializers.CharField(source="member.learner.username")
    name = serializers.StringRelatedField(source="member.learner")
    mentor = serializers.StringRelatedField(source="member.mentor", allow_null=True)
    grade = GradeSerializer(allow_null=True)


class GradebookSerializer(serializers.Serializer):
    cohort = serializers.CharField(source="cohort.slug")
    cohort_name = serializers.CharField(source="cohort.name")
    policy = PolicySerializer()
    labs = LabSpecSerializer(many=True)
    lesson_total = serializers.IntegerField()
    error = serializers.CharField(allow_null=True, help_text="why no grade could be computed")
    rows = GradebookRowSerializer(many=True)


class GradeOverrideOutputSerializer(serializers.ModelSerializer):
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    by = serializers.StringRelatedField()

    class Meta:
        model = GradeOverride
        fields = ["id", "learner", "lab", "score", "reason", "by", "created_at"]


class ExportJobSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Job
        fields = ["id", "kind", "state", "created_at", "url"]


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text="the learner's nickname if they chose it, else their name")
    score = serializers.FloatField(source="value")
    finished_at = serializers.DateTimeField(source="at")


# --- Endpoints -------------------------------------------------------------------------------


def _gradebook_cohort(request: Request, slug: str) -> Cohort:
    cohort = cohort_selectors.cohort_by_slug(slug)
    if cohort is None or not selectors.can_view_gradebook(user=request.user, cohort=cohort):
        raise Http404  # the same answer whether or not the cohort exists
    return cohort


class CohortGradebookApi(APIView):
    @extend_schema(responses=GradebookSerializer)
    def get(self, request: Request, slug: str) -> Response:
        cohort = _gradebook_cohort(request, slug)
        members = selectors.gradebook_members(user=request.user, cohort=cohort)
        return Response(GradebookSerializer(selectors.gradebook_build(cohort=cohort, members=members)).data)


class MyGradesApi(APIView):
    """The caller's grade in each of their cohorts (a one-row gradebook each)."""

    @extend_schema(responses=GradebookSerializer(many=True))
    def get(self, request: Request) -> Response:
        books = selectors.grades_of(learner=request.user)
        return Response(GradebookSerializer(books, many=True).data)


class GradeOverrideCreateApi(APIView):
    class GradeOverrideInputSerializer(serializers.Serializer):
        learner = serializers.IntegerField(help_text="the learner's user id")
        lab = serializers.SlugField(required=False, allow_null=True, help_text="a lab's slug; omit for the final grade")
        score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=GradeOverrideInputSerializer, responses={201: GradeOverrideOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        cohort = _gradebook_cohort(request, slug)
        serializer = self.GradeOverrideInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        learner = core_selectors.user_by_id(data["learner"])
        lab = lab_selectors.lab_by_slug(data["lab"]) if data.get("lab") else None
        if learner is None or (data.get("lab") and lab is None):
            field = "learner" if learner is None else "lab"
            return Response({field: ["Not found."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            override = services.grade_override_create(
                cohort=cohort, learner=learner, lab=lab, score=data["score"], reason=data["reason"], by=request.user
            )
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(GradeOverrideOutputSerializer(override).data, status=status.HTTP_201_CREATED)


class GradebookExportApi(APIView):
    """Start a CSV export of the gradebook; the job's page links the file once it is done."""

    @extend_schema(request=None, responses={202: ExportJobSerializer})
    def post(self, request: Request, slug: str) -> Response:
        cohort = _gradebook_cohort(request, slug)
        job = services.gradebook_export_create(cohort=cohort, requested_by=request.user)
        job.refresh_from_db()  # it failed at once if the job queue was unreachable
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class LabLeaderboardApi(APIView):
    class LeaderboardQuerySerializer(serializers.Serializer):
        rule = serializers.ChoiceField(choices=[rules.BEST, rules.LATEST], default=rules.BEST, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "rule", str, enum=[rules.BEST, rules.LATEST], default=rules.BEST, description="which run counts"
            )
        ],
        responses=LeaderboardEntrySerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        lab = get_object_or_404(labs_published(), slug=slug)
        query = self.LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = selectors.lab_leaderboard(lab=lab, rule=query.validated_data.get("rule", rules.BEST))
        return Response(LeaderboardEntrySerializer(entries, many=True).data)


class CohortDashboardApi(APIView):
    """The cohort dashboard's figures (administrators)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        if not request.user.has_perm("core.administer"):
            raise PermissionDenied
        return Response(dashboard.cohort_dashboard_data(get_object_or_404(cohort_selectors.cohorts_all(), slug=slug)))
