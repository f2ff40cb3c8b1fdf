from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "title", "created_at", "read_at", "emailed")
    list_filter = ("kind",)
    search_fields = ("user__username", "title")
    list_select_related = ("user",)
