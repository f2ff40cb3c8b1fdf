from django.contrib import admin

from skills.models import Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_en", "name_zh", "position"]
    search_fields = ["slug", "name_en", "name_zh"]
    ordering = ["position", "slug"]
