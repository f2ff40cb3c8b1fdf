"""Mentorship API: the review queue (and dismissals from it), reviews, the mentor dashboard,
sessions and private notes. The same permission rules as the pages (``cohorts.permissions``) and
the same selectors and filters (``QueueFilterForm``)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cohorts.permissions import can_mentor, can_see_learner, is_admin, is_mentor
from core import selectors as core_selectors
from core.models import User
from labs import selectors as labs_selectors
from labs.models import Run
from mentorship import selectors, services
from mentorship.forms import QueueFilterForm
from mentorship.models import Dismissal, DismissReason, MentorNote, Review, SessionRecord, Verdict


class ScoreSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.title")
    level = serializers.CharField(source="level.title")
    points = serializers.IntegerField(source="level.points")


class LineCommentSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1)
    text = serializers.CharField()


class ReviewSerializer(serializers.ModelSerializer):
    mentor = serializers.CharField(source="mentor.__str__", read_only=True)
    scores = ScoreSerializer(many=True, read_only=True)
    line_comments = LineCommentSerializer(many=True, read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "run",
            "mentor",
            "verdict",
            "comment",
            "points",
            "max_points",
            "scores",
            "line_comments",
            "created_at",
        ]


class DismissalSerializer(serializers.ModelSerializer):
    dismissed_by = serializers.CharField(source="dismissed_by.username", read_only=True)

    class Meta:
        model = Dismissal
        fields = ["run", "reason", "note", "dismissed_by", "created_at"]
        read_only_fields = ["run", "created_at"]


class QueueRunSerializer(serializers.ModelSerializer):
    lab = serializers.CharField(source="submission.lab.slug")
    learner = serializers.CharField(source="submission.learner.username")
    threshold = serializers.FloatField(source="submission.lab.threshold")
    higher_is_better = serializers.BooleanField(source="submission.lab.higher_is_better")
    earlier_runs = serializers.IntegerField(help_text="older waiting runs of this learner and lab, folded into it")
    dismissal = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Run
        fields = [
            "id",
            "lab",
            "learner",
            "state",
            "score",
            "threshold",
            "higher_is_better",
            "passed",
            "finished_at",
            "earlier_runs",
            "dismissal",
            "url",
        ]

    @extend_schema_field(DismissalSerializer(allow_null=True))
    def get_dismissal(self, run: Run) -> dict | None:
        active = run.active_dismissals
        return DismissalSerializer(active[0]).data if active else None


def _require_mentor_role(request: Request) -> None:
    if not (is_mentor(request.user) or is_admin(request.user)):
        raise PermissionDenied


QUEUE_API_LIMIT = 200


class ReviewQueueApi(APIView):
    """What needs a mentor, oldest first, as the review queue page shows it: the newest finished,
    unreviewed, undismissed run of each of your mentees' labs (``all=1``: every such run;
    ``dismissed=1``: dismissed ones too). At most 200."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lab", str, description="a lab's slug"),
            OpenApiParameter("state", str, enum=list(selectors.QUEUE_OUTCOMES), description="the outcome"),
            OpenApiParameter("learner", str, description="a learner's username"),
            OpenApiParameter("all", bool, description="every waiting run, not the newest per learner and lab"),
            OpenApiParameter("dismissed", bool, description="include dismissed runs"),
        ],
        responses=QueueRunSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        _require_mentor_role(request)
        filters = QueueFilterForm(request.query_params, labs=list(labs_selectors.labs_all()))
        if not filters.is_valid():
            return Response({"errors": filters.errors}, status=status.HTTP_400_BAD_REQUEST)
        runs = selectors.review_queue(mentor=request.user, **filters.filters())
        return Response(QueueRunSerializer(runs[:QUEUE_API_LIMIT], many=True).data)


def _run_for(request: Request, run_id: int) -> Run:
    """The run, if the user is on its learner's side (the learner, their mentor, an administrator; else
    404: a run shared with a teammate shares no reviews); a 403 follows for one who may not mentor it."""
    run = labs_selectors.run_with_context(run_id)
    if run is None or not can_see_learner(request.user, run.submission.learner_id):
        raise Http404
    return run


class RunDismissalApi(APIView):
    """Dismiss a finished run from the review queue with a reason (POST), or undo that (DELETE).
    The learner's mentor or an administrator; dismissing a dismissed run changes nothing (200)."""

    class DismissInputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=DismissReason.choices)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def _run(self, request: Request, run_id: int) -> Run:
        run = _run_for(request, run_id)
        if not can_mentor(request.user, run.submission.learner_id):
            raise PermissionDenied
        return run

    @extend_schema(request=DismissInputSerializer, responses={200: DismissalSerializer, 201: DismissalSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        run = self._run(request, run_id)
        serializer = self.DismissInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            dismissal, created = services.dismissal_create(mentor=request.user, run=run, **serializer.validated_data)
        except services.MentorshipRefused as refused:
            return Response({"errors": refused.errors}, status=status.HTTP_400_BAD_REQUEST)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(DismissalSerializer(dismissal).data, status=answer)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, run_id: int) -> Response:
        services.dismissal_undo(mentor=request.user, run=self._run(request, run_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunReviewsApi(APIView):
    class ReviewInputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=Verdict.choices)
        comment = serializers.CharField(required=False, allow_blank=True, default="")
        levels = serializers.DictField(
            child=serializers.IntegerField(), required=False, help_text='{"<criterion id>": <level id>}'
        )
        line_comments = LineCommentSerializer(many=True, required=False)
        confirm_low_points = serializers.BooleanField(
            required=False, default=False, help_text="approve even with under half of the rubric's points"
        )

    def _run(self, request: Request, run_id: int) -> Run:
        return _run_for(request, run_id)

    @extend_schema(responses=ReviewSerializer(many=True))
    def get(self, request: Request, run_id: int) -> Response:
        return Response(ReviewSerializer(selectors.reviews_of(self._run(request, run_id)), many=True).data)

    @extend_schema(request=ReviewInputSerializer, responses={201: ReviewSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        run = self._run(request, run_id)
        if not can_mentor(request.user, run.submission.learner_id):
            raise PermissionDenied
        data = self._validated(request)
        try:
            services.review_create(
                mentor=request.user,
                run=run,
                verdict=data["verdict"],
                comment=data["comment"],
                levels={int(k): v for k, v in data.get("levels", {}).items()},
                line_comments=[(c["line"], c["text"]) for c in data.get("line_comments", [])],
                confirm_low_points=data["confirm_low_points"],
            )
        except services.LowPointsRefused as refused:
            hint = _("Send `confirm_low_points` set to true to approve anyway.")  # fields in backticks, as labs.api
            return Response(
                {"errors": [*refused.errors, hint], "confirm_low_points": [hint]}, status=status.HTTP_400_BAD_REQUEST
            )
        except services.MentorshipRefused as refused:
            return Response({"errors": refused.errors}, status=status.HTTP_400_BAD_REQUEST)
        newest = selectors.reviews_of(run)[0]
        return Response(ReviewSerializer(newest).data, status=status.HTTP_201_CREATED)

    def _validated(self, request: Request) -> dict:
        serializer = self.ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        levels = serializer.validated_data.get("levels", {})
        if any(not str(key).isdigit() for key in levels):
            raise serializers.ValidationError({"levels": ["Keys are criterion ids."]})
        return serializer.validated_data


class MenteeStatusSerializer(serializers.Serializer):
    username = serializers.CharField(source="learner.username")
    name = serializers.CharField(source="learner.__str__")
    cohort = serializers.CharField()
    runs = serializers.IntegerField()
    labs_passed = serializers.IntegerField()
    awaiting_review = serializers.IntegerField()
    last_active = serializers.DateTimeField(allow_null=True)
    failures_in_a_row = serializers.IntegerField()
    course_percent = serializers.IntegerField(allow_null=True)
    stuck = serializers.BooleanField()
    stuck_reason = serializers.CharField()


class MenteesApi(APIView):
    """The mentor dashboard: each mentee's activity and who may be stuck."""

    @extend_schema(responses=MenteeStatusSerializer(many=True))
    def get(self, request: Request) -> Response:
        _require_mentor_role(request)
        return Response(MenteeStatusSerializer(selectors.mentor_dashboard(mentor=request.user), many=True).data)


class SessionSerializer(serializers.ModelSerializer):
    mentor = serializers.CharField(source="mentor.__str__", read_only=True)
    learner = serializers.CharField(source="learner.username", read_only=True)

    class Meta:
        model = SessionRecord
        fields = ["id", "mentor", "learner", "held_on", "notes", "action_items", "created_at"]


class NoteSerializer(serializers.ModelSerializer):
    mentor = serializers.CharField(source="mentor.__str__", read_only=True)

    class Meta:
        model = MentorNote
        fields = ["id", "mentor", "text", "created_at"]


def _learner(request: Request, username: str, *, mentor_only: bool) -> User:
    learner = core_selectors.user_by_username(username)
    allowed = can_mentor if mentor_only else can_see_learner
    if learner is None or not allowed(request.user, learner.pk):
        raise Http404  # the same answer whether or not the username exists
    return learner


class MenteeSessionsApi(APIView):
    """Session records with a learner: the learner, their mentor and administrators read them."""

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request, username: str) -> Response:
        learner = _learner(request, username, mentor_only=False)
        return Response(SessionSerializer(selectors.sessions_of(learner), many=True).data)

    @extend_schema(request=SessionSerializer, responses={201: SessionSerializer})
    def post(self, request: Request, username: str) -> Response:
        learner = _learner(request, username, mentor_only=True)
        serializer = SessionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            record = services.session_record_create(
                mentor=request.user,
                learner=learner,
                held_on=data["held_on"],
                notes=data["notes"],
                action_items=data.get("action_items", ""),
            )
        except services.MentorshipRefused as refused:
            return Response({"errors": refused.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SessionSerializer(record).data, status=status.HTTP_201_CREATED)


class MenteeNotesApi(APIView):
    """Private notes about a learner: their author and administrators only; never the learner."""

    @extend_schema(responses=NoteSerializer(many=True))
    def get(self, request: Request, username: str) -> Response:
        learner = _learner(request, username, mentor_only=True)
        return Response(NoteSerializer(selectors.notes_about(reader=request.user, learner=learner), many=True).data)

    @extend_schema(request=NoteSerializer, responses={201: NoteSerializer})
    def post(self, request: Request, username: str) -> Response:
        learner = _learner(request, username, mentor_only=True)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            note = services.mentor_note_create(
                mentor=request.user, learner=learner, text=serializer.validated_data["text"]
            )
        except services.MentorshipRefused as refused:
            return Response({"errors": refused.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
