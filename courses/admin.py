"""Administrators edit the curriculum here as well as through import_course/export_course."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from courses.exercises import exercises_read
from courses.models import Course, Enrollment, LearningPath, Lesson, LessonCompletion, Module, PathCourse, Tag


class PathCourseInline(admin.TabularInline):
    model = PathCourse
    extra = 1
    autocomplete_fields = ["course"]
    ordering = ["position"]


@admin.register(LearningPath)
class LearningPathAdmin(admin.ModelAdmin):
    list_display = ["slug", "title_en", "title_zh", "published"]
    list_filter = ["published"]
    search_fields = ["slug", "title_en", "title_zh"]
    inlines = [PathCourseInline]


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    fields = ["position", "slug", "title_en", "title_zh"]
    ordering = ["position"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["slug", "title_en", "title_zh", "level", "estimated_hours", "published", "n_lessons"]
    list_filter = ["published", "level", "tags"]
    search_fields = ["slug", "title_en", "title_zh"]
    filter_horizontal = ["tags", "prerequisites"]
    inlines = [ModuleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(lesson_count=Count("lessons"))

    @admin.display(description="lessons", ordering="lesson_count")
    def n_lessons(self, course: Course) -> int:
        return course.lesson_count


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    fields = ["position", "slug", "title_en", "title_zh", "minutes", "lab"]
    ordering = ["position"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "position", "title_en", "title_zh"]
    list_filter = ["course"]
    search_fields = ["slug", "title_en", "title_zh", "course__slug"]
    list_select_related = ["course"]
    inlines = [LessonInline]


class LessonForm(forms.ModelForm):
    """Checks the body's exercise blocks as an import does (``courses.exercises``) and keeps them parsed."""

    class Meta:
        model = Lesson
        fields = [
            *("module", "slug", "position", "title_en", "title_zh", "body_en", "body_zh"),
            *("minutes", "lab", "fixes", "skills"),
        ]

    def clean(self) -> dict:
        data = super().clean()
        self.instance.exercises, problems = exercises_read(data.get("body_en") or "", data.get("body_zh") or "")
        if problems:
            raise forms.ValidationError(problems)
        return data


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonForm
    list_display = ["__str__", "position", "title_en", "title_zh", "minutes", "lab"]
    list_filter = ["course", "lab"]
    search_fields = ["slug", "title_en", "title_zh", "body_en", "body_zh"]
    list_select_related = ["course", "lab"]
    autocomplete_fields = ["module"]
    filter_horizontal = ["skills"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_en", "name_zh"]
    search_fields = ["slug", "name_en", "name_zh"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "enrolled_at", "last_activity_at"]
    list_filter = ["course"]
    search_fields = ["user__username", "course__slug"]
    list_select_related = ["user", "course"]
    raw_id_fields = ["user", "last_lesson"]


@admin.register(LessonCompletion)
class LessonCompletionAdmin(admin.ModelAdmin):
    list_display = ["user", "lesson", "completed_at"]
    list_filter = ["lesson__course"]
    search_fields = ["user__username", "lesson__slug"]
    list_select_related = ["user", "lesson__course"]
    raw_id_fields = ["user", "lesson"]
