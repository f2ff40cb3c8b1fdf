from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mentorship.models import (
    Criterion,
    Dismissal,
    Level,
    LineComment,
    MentorNote,
    Review,
    ReviewScore,
    Rubric,
    SessionRecord,
)


class CriterionInline(admin.StackedInline):
    model = Criterion
    extra = 0
    show_change_link = True


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ("lab", "max_points")
    inlines = [CriterionInline]


class LevelInline(admin.TabularInline):
    model = Level
    extra = 0


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ("title_en", "title_zh", "rubric", "position")
    list_filter = ("rubric",)
    inlines = [LevelInline]


class ReviewScoreInline(admin.TabularInline):
    model = ReviewScore
    extra = 0


class LineCommentInline(admin.TabularInline):
    model = LineComment
    extra = 0


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("run", "mentor", "verdict", "points", "max_points", "created_at")
    list_filter = ("verdict",)
    search_fields = ("mentor__username", "run__submission__learner__username")
    raw_id_fields = ("run",)
    inlines = [ReviewScoreInline, LineCommentInline]


@admin.register(SessionRecord)
class SessionRecordAdmin(admin.ModelAdmin):
    list_display = ("held_on", "mentor", "learner")
    search_fields = ("mentor__username", "learner__username")
    list_select_related = ("mentor", "learner")


@admin.register(MentorNote)
class MentorNoteAdmin(admin.ModelAdmin):
    list_display = ("created_at", "mentor", "learner")
    search_fields = ("mentor__username", "learner__username")
    list_select_related = ("mentor", "learner")


class DismissalActive(admin.SimpleListFilter):
    title = _("in effect")
    parameter_name = "active"

    def lookups(self, request: object, model_admin: object) -> list[tuple[str, str]]:
        return [("yes", _("in effect")), ("no", _("undone"))]

    def queryset(self, request: object, queryset: QuerySet[Dismissal]) -> QuerySet[Dismissal]:
        if self.value() in ("yes", "no"):
            return queryset.filter(undone_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    """Runs mentors took out of the review queue, and why: administrators see every one, undone too."""

    list_display = ("created_at", "run", "learner", "lab", "reason", "note", "dismissed_by", "undone_at", "undone_by")
    list_filter = (DismissalActive, "reason")
    search_fields = ("dismissed_by__username", "run__submission__learner__username", "run__submission__lab__slug")
    list_select_related = ("run__submission__learner", "run__submission__lab", "dismissed_by", "undone_by")
    raw_id_fields = ("run", "dismissed_by", "undone_by")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    @admin.display(description=_("learner"), ordering="run__submission__learner__username")
    def learner(self, dismissal: Dismissal) -> str:
        return str(dismissal.run.submission.learner)

    @admin.display(description=_("lab"), ordering="run__submission__lab__slug")
    def lab(self, dismissal: Dismissal) -> str:
        return dismissal.run.submission.lab.slug
