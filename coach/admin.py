from django.contrib import admin

from coach.models import Choice


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    list_display = ("learner", "kind", "lesson", "lab", "mentor", "created_at")
    list_filter = ("kind",)
    search_fields = ("learner__username", "mentor__username", "note")
    raw_id_fields = ("learner", "mentor", "lesson", "lab")
