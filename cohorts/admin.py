from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cohorts.models import Cohort, CohortMember, Job, LabDeadline


class CohortMemberInline(admin.TabularInline):
    model = CohortMember
    extra = 0
    autocomplete_fields = ["learner", "mentor"]


class LabDeadlineInline(admin.TabularInline):
    model = LabDeadline
    extra = 0


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "path", "starts_on", "ends_on")
    search_fields = ("name", "slug")
    list_filter = ("path",)
    filter_horizontal = ("mentors", "courses")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CohortMemberInline, LabDeadlineInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "path", "courses", "starts_on", "ends_on", "mentors")}),
        (
            _("Grading policy"),
            {
                "fields": (
                    ("lab_weight", "review_weight", "course_weight"),
                    "pass_mark",
                    "score_rule",
                    ("late_penalty_per_day", "late_cutoff_days"),
                )
            },
        ),
        (_("Lab workers"), {"fields": ("gpu_run_limit",)}),
    )


@admin.register(CohortMember)
class CohortMemberAdmin(admin.ModelAdmin):
    list_display = ("learner", "cohort", "mentor", "joined_at")
    list_filter = ("cohort",)
    search_fields = ("learner__username", "learner__email", "mentor__username")
    autocomplete_fields = ("learner", "mentor")
    list_select_related = ("learner", "cohort", "mentor")


@admin.register(LabDeadline)
class LabDeadlineAdmin(admin.ModelAdmin):
    list_display = ("lab", "cohort", "due_at", "weight", "reminded_at")
    list_filter = ("cohort", "lab")
    list_select_related = ("lab", "cohort")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "state", "requested_by", "cohort", "created_at", "finished_at")
    list_filter = ("kind", "state")
    readonly_fields = ("created_at", "finished_at")
    list_select_related = ("requested_by", "cohort")
