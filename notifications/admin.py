from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "title", "created_at", "read_at", "emailed")
    list_filter = ("kind",)
    search_fields = ("user__username", "title")
    list_select_related = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: Notification | None = None) -> tuple[str, ...]:
        # A notification stays its user's: moving it would leave the first user's cached unread count wrong.
        return ("user",) if obj is not None else ()
