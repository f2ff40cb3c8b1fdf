from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.models import NotificationKind, User
from core.roles import primary_role


class ApiRootApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "me": reverse("api:me", request=request),
                "token": reverse("api:token", request=request),
                "paths": reverse("api:path-list", request=request),
                "courses": reverse("api:course-list", request=request),
                "modules": reverse("api:module-list", request=request),
                "lessons": reverse("api:lesson-list", request=request),
                "progress": reverse("api:my-progress", request=request),
                "labs": reverse("api:lab-list", request=request),
                "runs": reverse("api:run-list", request=request),
                "grades": reverse("api:my-grades", request=request),
                "notifications": reverse("api:notification-list", request=request),
                "cohorts": reverse("api:cohort-list", request=request),
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
            }
        )


def _email_off_field(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationKind.choices),
        help_text="notification kinds not sent to you by email (still shown on the site)",
        **kwargs,
    )


class MeApi(APIView):
    class OutputSerializer(serializers.ModelSerializer):
        role = serializers.SerializerMethodField()
        email_off = _email_off_field(read_only=True)

        class Meta:
            model = User
            fields = [
                "id",
                "username",
                "display_name",
                "email",
                "preferred_language",
                "role",
                "nickname",
                "show_nickname",
                "email_off",
            ]
            read_only_fields = ["id", "username"]

        def get_role(self, user: User) -> str | None:
            return primary_role(user)

    class InputSerializer(serializers.ModelSerializer):
        email_off = _email_off_field(required=False, allow_empty=True)

        class Meta:
            model = User
            fields = ["display_name", "email", "preferred_language", "nickname", "show_nickname", "email_off"]

        def validate_email_off(self, kinds: list[str]) -> list[str]:
            return [kind for kind in NotificationKind.values if kind in kinds]  # known order, no repeats

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(self.OutputSerializer(request.user).data)
