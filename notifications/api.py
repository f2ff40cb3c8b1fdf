"""The API of a user's own notifications: list (optionally only unread), count the unread ones,
mark one or all read."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import services
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "url", "created_at", "read_at"]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="true: only unread ones; false: only read ones"
    )

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


class NotificationListApi(generics.ListAPIView):
    """Your notifications, newest first."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return services.notifications_of(user=self.request.user)


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = get_object_or_404(services.notifications_of(user=request.user), pk=notification_id)
        services.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(notification).data)


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many notifications were unread")


class NotificationReadAllApi(APIView):
    @extend_schema(request=None, responses=NotificationsMarkedSerializer)
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="how many of your notifications are unread")


@method_decorator(never_cache, name="dispatch")  # a count that changes: no browser or proxy keeps it
class NotificationUnreadCountApi(APIView):
    """How many of your notifications are unread: the count every page's badge shows (cached per user)."""

    @extend_schema(responses=UnreadCountSerializer)
    def get(self, request: Request) -> Response:
        return Response({"unread": services.notifications_unread_count(user=request.user)})
