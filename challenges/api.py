"""Challenges API: the challenges one may see (anonymous readers too, as the public pages and the
course catalogue), their leaderboards, creating one (administrators), and a participant's entries and
final picks. Reads go through ``challenges.selectors``, which own every rule of what is hidden when
(private scores until the reveal, scores of a blind phase until its end); writes through
``challenges.services``."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from challenges import selectors, services
from challenges.models import Challenge, Entry, Phase, Team
from cohorts.permissions import is_admin
from cohorts.selectors import cohorts_all
from labs.api_inputs import JsonObjectField
from labs.models import Submission
from labs.selectors import labs_published
from labs.throttling import SubmissionRateThrottle, submission_throttled
from labs.validation import SubmissionRejected

# The limits of the model's small integer columns, and what is sensible for a competition's limits.
MAX_PER_DAY = 1000
MAX_TOTAL = 100_000
MAX_FINAL_PICKS = 10
MAX_RERUN_SEEDS = 10
MAX_POSITION = 32767


# --- Output ---------------------------------------------------------------------------------------


class QuotaSerializer(serializers.Serializer):
    used_today = serializers.IntegerField(help_text="entries in the last 24 hours (a team's together)")
    used_total = serializers.IntegerField()
    left = serializers.IntegerField(help_text="entries the phase still takes from you now")


class PhaseSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="in the request's language")
    lab = serializers.CharField(source="lab.slug", read_only=True)
    lab_fit_for_ranking = serializers.BooleanField(
        source="lab.fit_for_ranking",
        read_only=True,
        help_text="false: practice on public data, whose hidden rows a learner could find",
    )
    state = serializers.SerializerMethodField(help_text="upcoming, open, ended (private scores hidden) or revealed")

    class Meta:
        model = Phase
        fields = [
            "position",
            "title",
            "title_en",
            "title_zh",
            "lab",
            "lab_fit_for_ranking",
            "starts_at",
            "ends_at",
            "state",
            "blind",
            "submissions_per_day",
            "submissions_total",
            "final_picks",
            "rerun_seeds",
        ]

    def get_state(self, phase: Phase) -> str:
        return selectors.phase_state(phase)


class PhaseDetailSerializer(PhaseSerializer):
    quota = serializers.SerializerMethodField(help_text="yours, when you may take part; else null")

    class Meta(PhaseSerializer.Meta):
        fields = [*PhaseSerializer.Meta.fields, "quota"]

    @extend_schema_field(QuotaSerializer(allow_null=True))
    def get_quota(self, phase: Phase) -> dict | None:
        user = self.context["request"].user
        if not self.context.get("can_take_part"):
            return None
        return QuotaSerializer(selectors.entry_quota(phase=phase, learner=user)).data


class ChallengeSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="in the request's language")
    phases = PhaseSerializer(source="phases.all", many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="the challenge's page")

    class Meta:
        model = Challenge
        fields = ["slug", "title", "title_en", "title_zh", "open_to_everyone", "published", "phases", "url"]

    def get_url(self, challenge: Challenge) -> str:
        return reverse("challenges:detail", args=[challenge.slug])


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    members = serializers.SerializerMethodField(help_text="the members' public names")

    def get_members(self, team: Team) -> list[str]:
        return [member.user.public_name for member in team.members.select_related("user")]


class ChallengeDetailSerializer(ChallengeSerializer):
    rules = serializers.CharField(read_only=True, help_text="Markdown, in the request's language")
    prize = serializers.CharField(read_only=True, help_text="Markdown, in the request's language")
    phases = PhaseDetailSerializer(source="phases.all", many=True, read_only=True)
    can_take_part = serializers.SerializerMethodField(help_text="whether you may enter (false when signed out)")
    team = serializers.SerializerMethodField(help_text="your team in this challenge, if any")

    class Meta(ChallengeSerializer.Meta):
        fields = [*ChallengeSerializer.Meta.fields, "rules", "prize", "can_take_part", "team"]

    def get_can_take_part(self, challenge: Challenge) -> bool:
        return bool(self.context.get("can_take_part"))

    @extend_schema_field(TeamSerializer(allow_null=True))
    def get_team(self, challenge: Challenge) -> dict | None:
        user = self.context["request"].user
        team = selectors.team_of(challenge=challenge, user=user) if user.is_authenticated else None
        return None if team is None else TeamSerializer(team).data


class RowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null for baselines, and in a blind phase")
    name = serializers.CharField(help_text="a team's name, or a learner's public name")
    entries = serializers.IntegerField()
    public_score = serializers.FloatField(allow_null=True, help_text="rounded; null in a blind phase until its end")
    private_score = serializers.FloatField(allow_null=True, help_text="null until the reveal, but to administrators")
    baseline = serializers.BooleanField(help_text="the lab's reference solution or a trivial baseline")


class FinalPickSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    private_score = serializers.FloatField(allow_null=True, help_text="the mean over the re-runs when scored")
    spread = serializers.FloatField(allow_null=True, help_text="the re-runs' standard deviation")
    reruns = serializers.IntegerField(help_text="re-runs scored")


class FinalRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    final_score = serializers.FloatField()
    public_rank = serializers.IntegerField(allow_null=True)
    move = serializers.IntegerField(allow_null=True, help_text="places gained (positive) or lost since the public rank")
    picks = FinalPickSerializer(many=True)


class LeaderboardSerializer(serializers.Serializer):
    phase = PhaseSerializer()
    rows = RowSerializer(many=True)
    final = FinalRowSerializer(many=True, help_text="the final ranking; empty before the reveal")


class EntrySerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True)
    state = serializers.CharField(source="run.state", read_only=True)
    public_score = serializers.SerializerMethodField(help_text="null in a blind phase until its end")
    learner = serializers.CharField(source="learner.public_name", read_only=True, help_text="who submitted it")

    class Meta:
        model = Entry
        fields = ["id", "run", "created_at", "state", "public_score", "final", "learner"]

    def get_public_score(self, entry: Entry) -> float | None:
        return entry.public_score if self.context.get("show_public") else None


class EntryCreatedSerializer(serializers.Serializer):
    entry = serializers.IntegerField()
    run = serializers.IntegerField()
    url = serializers.CharField(help_text="the run's page")
    api_url = serializers.CharField(help_text="the run in the API")


# --- Input ----------------------------------------------------------------------------------------


class PhaseInputSerializer(serializers.Serializer):
    lab = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=labs_published(),
        help_text="a published lab's slug",
        error_messages={"does_not_exist": gettext_lazy("No published lab has the slug “{value}”.")},
    )
    title_en = serializers.CharField(max_length=200)
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    submissions_per_day = serializers.IntegerField(min_value=1, max_value=MAX_PER_DAY, required=False)
    submissions_total = serializers.IntegerField(min_value=1, max_value=MAX_TOTAL, required=False, allow_null=True)
    blind = serializers.BooleanField(required=False)
    final_picks = serializers.IntegerField(min_value=1, max_value=MAX_FINAL_PICKS, required=False)
    rerun_seeds = serializers.IntegerField(min_value=0, max_value=MAX_RERUN_SEEDS, required=False)
    public_fraction = serializers.FloatField(required=False, help_text="strictly between 0 and 1; default 0.5")

    def validate_public_fraction(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError(_("A finite number is required."))
        return value


class ChallengeInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=50)
    title_en = serializers.CharField(max_length=200)
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True)
    rules_en = serializers.CharField(help_text="Markdown")
    rules_zh = serializers.CharField(required=False, allow_blank=True, help_text="Markdown")
    prize_en = serializers.CharField(required=False, allow_blank=True, help_text="Markdown")
    prize_zh = serializers.CharField(required=False, allow_blank=True, help_text="Markdown")
    open_to_everyone = serializers.BooleanField(required=False, default=True)
    cohorts = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=cohorts_all(),
        many=True,
        required=False,
        help_text="cohorts' slugs: their members take part when the challenge is not open to everyone",
    )
    published = serializers.BooleanField(required=False, default=False)
    phases = PhaseInputSerializer(many=True, help_text="at least one; numbered 1, 2, … in this order")


class PhaseQuerySerializer(serializers.Serializer):
    phase = serializers.IntegerField(
        min_value=1, max_value=MAX_POSITION, required=False, help_text="a phase's position; default the current one"
    )


class EntryInputSerializer(serializers.Serializer):
    phase = serializers.IntegerField(min_value=1, max_value=MAX_POSITION, help_text="the phase's position")
    code = serializers.CharField(trim_whitespace=False)
    params = JsonObjectField(required=False, help_text='e.g. {"epochs": 5}')


class FinalPicksInputSerializer(serializers.Serializer):
    phase = serializers.IntegerField(min_value=1, max_value=MAX_POSITION, help_text="the phase's position")
    entries = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=MAX_FINAL_PICKS, help_text="your entries' ids"
    )


# --- Endpoints ------------------------------------------------------------------------------------

PHASE_PARAMETER = OpenApiParameter(
    "phase", int, description="the phase's position in the challenge; default the current phase"
)


class ReadOrAdministrator(BasePermission):
    """Anyone reads (what ``challenges_visible`` shows them); administrators create."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or is_admin(request.user)


def _challenge(request: Request, slug: str) -> Challenge:
    challenge = selectors.challenge_for(viewer=request.user, slug=slug)
    if challenge is None:
        raise Http404  # the same answer whether or not it exists
    return challenge


def _phase(challenge: Challenge, position: int | None) -> Phase | None:
    if position is None:
        return selectors.phase_current(challenge)
    return selectors.phases_of(challenge).filter(position=position).first()


def _phase_asked(request: Request, challenge: Challenge) -> Phase:
    """The phase of ``?phase=`` (404 when the challenge has none such), else the current one."""
    query = PhaseQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    phase = _phase(challenge, query.validated_data.get("phase"))
    if phase is None:
        raise Http404
    return phase


def _phase_posted(challenge: Challenge, position: int) -> Phase:
    phase = _phase(challenge, position)
    if phase is None:
        raise serializers.ValidationError(
            {"phase": [_("This challenge has no phase %(position)d.") % {"position": position}]}
        )
    return phase


def _challenge_error(error: services.ChallengeError) -> Response:
    return Response({"detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)


@extend_schema_view(
    get=extend_schema(
        description="The challenges you may see, newest first (signed out: the published ones open to everyone)."
    )
)
class ChallengeListApi(generics.ListAPIView):
    serializer_class = ChallengeSerializer
    permission_classes = [ReadOrAdministrator]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Challenge]:
        phases = Prefetch("phases", queryset=Phase.objects.select_related("lab").order_by("position"))
        return selectors.challenges_visible(viewer=self.request.user).prefetch_related(phases)

    @extend_schema(
        description="Create a challenge with its phases, all or nothing (administrators).",
        request=ChallengeInputSerializer,
        responses={201: ChallengeDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = ChallengeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            challenge = services.challenge_create(created_by=request.user, **data)
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(_detail(request, challenge), status=status.HTTP_201_CREATED)


def _detail(request: Request, challenge: Challenge) -> dict:
    user = request.user
    may = user.is_authenticated and selectors.can_take_part(challenge=challenge, user=user)
    return ChallengeDetailSerializer(challenge, context={"request": request, "can_take_part": may}).data


class ChallengeDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ChallengeDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(_detail(request, _challenge(request, slug)))


class ChallengeLeaderboardApi(APIView):
    """A phase's public leaderboard with its baseline rows, and its final ranking once revealed.
    ``private_score`` is null for everyone but administrators until the phase is revealed."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[PHASE_PARAMETER], responses=LeaderboardSerializer)
    def get(self, request: Request, slug: str) -> Response:
        phase = _phase_asked(request, _challenge(request, slug))
        viewer = request.user
        board = {
            "phase": phase,
            "rows": [
                *selectors.public_leaderboard(phase=phase, viewer=viewer),
                *selectors.baseline_rows(phase=phase, viewer=viewer),
            ],
            "final": selectors.final_leaderboard(phase=phase),
        }
        return Response(LeaderboardSerializer(board).data)


def _entries(request: Request, phase: Phase) -> list[dict]:
    user = request.user
    show_public = not phase.blind or phase.has_ended() or is_admin(user)  # as the leaderboards
    entries = (
        selectors.entries_of(phase=phase, contestant=user)
        .select_related("run", "learner")
        .order_by("-created_at", "-pk")
    )
    return EntrySerializer(entries, many=True, context={"show_public": show_public}).data


class ChallengeEntriesApi(APIView):
    """Your entries in a phase (your team's, when you are in one); POST enters code in a phase, as
    a run of the phase's lab, within the phase's limits and the lab's."""

    parser_classes = [JSONParser]

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method == "POST":  # one submission budget with the labs' API and pages
            return [SubmissionRateThrottle()]
        return super().get_throttles()

    def throttled(self, request: Request, wait: float | None) -> None:
        if request.method == "POST":
            raise submission_throttled(wait)
        super().throttled(request, wait)

    @extend_schema(parameters=[PHASE_PARAMETER], responses=EntrySerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        return Response(_entries(request, _phase_asked(request, _challenge(request, slug))))

    @extend_schema(request=EntryInputSerializer, responses={201: EntryCreatedSerializer})
    def post(self, request: Request, slug: str) -> Response:
        challenge = _challenge(request, slug)
        serializer = EntryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        phase = _phase_posted(challenge, data["phase"])
        try:
            run = services.entry_submit(
                phase=phase,
                learner=request.user,
                code=data["code"],
                params=data.get("params"),
                source=Submission.Source.API,
            )
        except services.ChallengeError as error:
            return _challenge_error(error)
        except SubmissionRejected as rejected:
            return Response({"errors": rejected.errors}, status=status.HTTP_400_BAD_REQUEST)
        created = {
            "entry": run.challenge_entry.pk,
            "run": run.pk,
            "url": run.get_absolute_url(),
            "api_url": reverse("api:run-detail", args=[run.pk]),
        }
        return Response(EntryCreatedSerializer(created).data, status=status.HTTP_201_CREATED)


class ChallengeFinalPicksApi(APIView):
    """Pick the entries of a phase that count in its final ranking (none: the best by public score)."""

    parser_classes = [JSONParser]

    @extend_schema(request=FinalPicksInputSerializer, responses=EntrySerializer(many=True))
    def put(self, request: Request, slug: str) -> Response:
        challenge = _challenge(request, slug)
        serializer = FinalPicksInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phase = _phase_posted(challenge, serializer.validated_data["phase"])
        try:
            services.final_picks_set(phase=phase, learner=request.user, entry_ids=serializer.validated_data["entries"])
        except services.ChallengeError as error:
            return _challenge_error(error)
        return Response(_entries(request, phase))
