from django.contrib import admin
from django.http import HttpRequest

from challenges.models import Challenge, Entry, Phase, Rerun, Team, TeamMember


class PhaseInline(admin.StackedInline):
    model = Phase
    extra = 0
    readonly_fields = ("revealed_at",)
    exclude = ("split_seed",)  # secret: which hidden rows are public


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ("slug", "title_en", "title_zh", "published", "open_to_everyone", "created_at")
    list_filter = ("published", "open_to_everyone")
    search_fields = ("slug", "title_en", "title_zh")
    prepopulated_fields = {"slug": ("title_en",)}
    filter_horizontal = ("cohorts",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    inlines = [PhaseInline]

    def save_model(self, request: HttpRequest, obj: Challenge, form: object, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class TeamMemberInline(admin.TabularInline):
    """Members join through invitations (``challenges.services``); here they can only be removed."""

    model = TeamMember
    extra = 0
    fields = ("user", "joined_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "challenge", "created_by", "created_at")
    list_filter = ("challenge",)
    search_fields = ("name", "members__user__username")
    readonly_fields = ("challenge", "created_by", "created_at")
    inlines = [TeamMemberInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a team starts with its first member (challenges.services.team_create)


class RerunInline(admin.TabularInline):
    model = Rerun
    extra = 0
    fields = ("seed", "run", "private_score")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """Scores come from the runs, never from a form: only the final pick can be changed here."""

    list_display = ("pk", "phase", "learner", "team", "public_score", "private_score", "final", "created_at")
    list_filter = ("phase__challenge", "final")
    search_fields = ("learner__username", "team__name")
    readonly_fields = ("phase", "run", "learner", "team", "public_score", "private_score", "created_at")
    inlines = [RerunInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
