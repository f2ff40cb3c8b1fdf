"""Catalog filters, shared by the catalog page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from courses.models import Course, CourseLevel, Lesson, Module
from courses.selectors import search_courses


class CourseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    level = django_filters.ChoiceFilter(choices=CourseLevel.choices, label=_("Level"), empty_label=_("Any level"))
    tag = django_filters.CharFilter(field_name="tags__slug", label=_("Tag"), max_length=50)

    class Meta:
        model = Course
        fields = ["q", "level", "tag"]

    def search(self, courses: QuerySet[Course], name: str, value: str) -> QuerySet[Course]:
        return search_courses(courses, value.strip()) if value.strip() else courses


class ModuleFilter(django_filters.FilterSet):
    course = django_filters.CharFilter(field_name="course__slug", label=_("Course"))

    class Meta:
        model = Module
        fields = ["course"]


class LessonFilter(django_filters.FilterSet):
    course = django_filters.CharFilter(field_name="course__slug", label=_("Course"))
    # Bounded: an id past the database's integer range is a 400, not a 500 (OverflowError).
    module = django_filters.NumberFilter(field_name="module_id", label=_("Module"), min_value=1, max_value=2**63 - 1)
    has_lab = django_filters.BooleanFilter(field_name="lab", lookup_expr="isnull", exclude=True, label=_("Has a lab"))

    class Meta:
        model = Lesson
        fields = ["course", "module", "has_lab"]
