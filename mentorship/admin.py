from django.contrib import admin

from mentorship.models import Criterion, Level, LineComment, MentorNote, Review, ReviewScore, Rubric, SessionRecord


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
