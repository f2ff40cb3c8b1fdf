from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core import login_throttle, services
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
                "challenges": reverse("api:challenge-list", request=request),
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


class TokenObtainApi(APIView):
    """The API's sign-in: a username and password for a new personal token, listed and revocable
    on the tokens page like the ones made there. Locked like the sign-in page (core.login_throttle):
    the same counts, so guessing through one does not dodge the lock of the other."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # a stale token in the client's settings must not stop a new sign-in

    class TokenObtainSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
        name = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=100,
            help_text="the token's name, shown on the tokens page (default: API sign-in and the date)",
        )

        default_error_messages = {"credentials": gettext_lazy("Unable to log in with provided credentials.")}

        def validate(self, attrs: dict) -> dict:
            request = self.context["request"]
            user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
            if user is None:
                self.fail("credentials")
            return {**attrs, "user": user}

    class NewTokenSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="the key: shown this once, never stored")
        name = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=TokenObtainSerializer, responses={200: NewTokenSerializer})
    def post(self, request: Request) -> Response:
        data = request.data if hasattr(request.data, "get") else {}
        username = str(data.get("username") or "")
        wait = login_throttle.locked_for(username, request)
        if wait:
            return Response(
                {"errors": [login_throttle.locked_message(wait)]},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        serializer = self.TokenObtainSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            refusals = serializer.errors.get("non_field_errors", [])
            if any(error.code == "credentials" for error in refusals):  # a wrong password, not a malformed request
                login_throttle.failure_record(username, request)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        login_throttle.failures_clear(username)
        default_name = _("API sign-in %(date)s") % {"date": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
        token, key = services.token_create(
            user=serializer.validated_data["user"], name=serializer.validated_data.get("name") or default_name
        )
        new_token = {"token": key, "name": token.name, "created_at": token.created_at}
        return Response(self.NewTokenSerializer(new_token).data)
