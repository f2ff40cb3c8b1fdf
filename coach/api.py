"""The coach in the API: a learner's skill profile and next steps (their own, or a mentee's for
their mentor), as the home and the mentee page show them."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coach.profile import LEVEL_CODES, skill_profile
from coach.recommend import STEP_KINDS, next_steps_cached
from cohorts.permissions import can_mentor
from core.models import User


class EvidenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    url = serializers.CharField(help_text="the run, lab or lesson it is about; empty when none")
    sign = serializers.IntegerField(help_text="1 counts for the skill, -1 against, 0 neither (not tried yet)")


class SkillLevelSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    score = serializers.IntegerField(help_text="0 to 100")
    level = serializers.ChoiceField(choices=LEVEL_CODES)
    level_label = serializers.CharField(help_text="the level in the request's language")
    parts = serializers.DictField(
        child=serializers.IntegerField(), help_text="lessons, labs, reviews, exercises: each of 100"
    )
    evidence = EvidenceSerializer(many=True)


class StepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=STEP_KINDS)
    label = serializers.CharField(help_text="the kind, in words")
    title = serializers.CharField()
    url = serializers.CharField()
    reason = serializers.CharField(help_text="why it was chosen, one line")
    target = serializers.CharField(help_text='"lesson:<id>" or "lab:<id>"')


class CoachSerializer(serializers.Serializer):
    skills = SkillLevelSerializer(many=True)
    next_steps = StepSerializer(many=True)


def _coach(learner: User) -> Response:
    return Response(CoachSerializer({"skills": skill_profile(learner), "next_steps": next_steps_cached(learner)}).data)


class MyCoachApi(APIView):
    """The caller's skill profile (each level with its evidence) and next steps (each with its reason)."""

    @extend_schema(responses=CoachSerializer)
    def get(self, request: Request) -> Response:
        return _coach(request.user)


class MenteeCoachApi(APIView):
    """A mentee's skill profile and next steps, for their mentor or an administrator (404 for anyone else)."""

    @extend_schema(responses=CoachSerializer)
    def get(self, request: Request, username: str) -> Response:
        learner = User.objects.filter(username=username).first()
        if learner is None or not can_mentor(request.user, learner.pk):
            raise Http404
        return _coach(learner)
