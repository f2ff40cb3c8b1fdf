from django.contrib import admin

from grading.models import GradeOverride


@admin.register(GradeOverride)
class GradeOverrideAdmin(admin.ModelAdmin):
    list_display = ("learner", "cohort", "lab", "score", "by", "created_at")
    list_filter = ("cohort",)
    search_fields = ("learner__username", "reason")
    list_select_related = ("learner", "cohort", "lab", "by")
    raw_id_fields = ("learner", "by")
