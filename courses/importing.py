"""Move courses between the folder format (``courses.course_files``) and the database.

Import matches by slug: a course by its slug, its modules and lessons by theirs, so importing the
same folder again changes nothing and an edited folder updates in place (a lesson moved to another
module keeps its learners' completions). Everything is checked before anything is written, and the
whole import is one transaction: a bad folder leaves the database as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction

from core.fragments import courses_changed
from courses.course_files import (
    Bilingual,
    CourseData,
    CourseFormatError,
    LessonData,
    ModuleData,
    PathData,
    TagData,
    course_read,
    is_path_folder,
    path_read,
)
from courses.models import Course, LearningPath, Lesson, Module, PathCourse, Tag
from labs.models import Lab
from skills.catalogue import CatalogueError, catalogue_of, catalogue_read, catalogue_save
from skills.models import Skill


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    courses: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def note(self, kind: str, outcome: str) -> None:
        self.counts[f"{kind} {outcome}"] += 1

    def summary(self) -> str:
        changes = ", ".join(f"{what}: {n}" for what, n in sorted(self.counts.items()) if not what.endswith("unchanged"))
        return changes or "nothing changed"


def _save_if_changed(
    instance: models.Model, values: dict[str, Any], report: ImportReport, kind: str, *, also_changed: bool = False
) -> None:
    """Create ``instance`` with ``values``, or save those that differ; ``also_changed``: something
    else about it changed (its many-to-many rows), so it counts as updated."""
    if instance.pk is None:
        for name, value in values.items():
            setattr(instance, name, value)
        instance.save()
        report.note(kind, "created")
        return
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed or also_changed:
        instance.save()
    report.note(kind, "updated" if changed or also_changed else "unchanged")


def _texts(prefix: str, text: Bilingual) -> dict[str, str]:
    return {f"{prefix}_en": text.en, f"{prefix}_zh": text.zh}


# --- checks against the database -----------------------------------------------------------------


def _check_references(courses: list[CourseData], paths: list[PathData], *, prune: bool, skills: list[str]) -> list[str]:
    """What the folder names that does not exist (``skills``: those its catalogue brings)."""
    problems = []
    importing = {course.slug for course in courses}
    known = importing | set(
        Course.objects.filter(slug__in=_all_course_refs(courses, paths)).values_list("slug", flat=True)
    )
    labs = set(Lab.objects.values_list("slug", flat=True))
    known_skills = set(skills) | set(Skill.objects.values_list("slug", flat=True))
    for course in courses:
        problems += [
            f"{course.slug}: prerequisite '{slug}' is not a course here"
            for slug in course.prerequisites
            if slug not in known
        ]
        for module in course.modules:
            for lesson in module.lessons:
                if lesson.lab and lesson.lab not in labs:
                    problems.append(f"{course.slug}/{lesson.slug}: lab '{lesson.lab}' does not exist")
                problems += [
                    f"{course.slug}/{lesson.slug}: skill '{slug}' is not in the skill catalogue (import_skills)"
                    for slug in lesson.skills
                    if slug not in known_skills
                ]
        if not prune:
            problems += _completed_lessons_dropped(course)
    for path in paths:
        problems += [
            f"path {path.slug}: course '{slug}' is not a course here" for slug in path.courses if slug not in known
        ]
    return problems + _prerequisite_cycles(courses)


def _all_course_refs(courses: list[CourseData], paths: list[PathData]) -> set[str]:
    refs = {slug for course in courses for slug in course.prerequisites}
    return refs | {slug for path in paths for slug in path.courses}


def _completed_lessons_dropped(course: CourseData) -> list[str]:
    kept = {lesson.slug for module in course.modules for lesson in module.lessons}
    dropped = (
        Lesson.objects.filter(course__slug=course.slug)
        .exclude(slug__in=kept)
        .annotate(done=models.Count("completions"))
        .filter(done__gt=0)
    )
    return [
        f"{course.slug}/{lesson.slug}: the folder no longer has this lesson, but {lesson.done} learner(s) "
        "completed it; pass --prune to delete it with their completions"
        for lesson in dropped
    ]


def _prerequisite_cycles(courses: list[CourseData]) -> list[str]:
    """Prerequisites as they will be after the import must not loop (A needs B needs A)."""
    graph: dict[str, set[str]] = {}
    for course_slug, prerequisite_slug in Course.prerequisites.through.objects.values_list(
        "from_course__slug", "to_course__slug"
    ):
        graph.setdefault(course_slug, set()).add(prerequisite_slug)
    graph.update({course.slug: set(course.prerequisites) for course in courses})
    problems = []
    for course in courses:
        stack, seen = list(graph.get(course.slug, ())), set()
        while stack:
            slug = stack.pop()
            if slug == course.slug:
                problems.append(f"{course.slug}: prerequisites loop back to this course")
                break
            if slug not in seen:
                seen.add(slug)
                stack.extend(graph.get(slug, ()))
    return problems


# --- writing -------------------------------------------------------------------------------------


def _tags_upsert(tags: list[TagData], report: ImportReport) -> list[Tag]:
    existing = {tag.slug: tag for tag in Tag.objects.filter(slug__in=[t.slug for t in tags])}
    result = []
    for data in tags:
        tag = existing.get(data.slug, Tag(slug=data.slug))
        _save_if_changed(tag, _texts("name", data.name), report, "tags")
        result.append(tag)
    return result


def _lessons_upsert(course: Course, modules: list[tuple[Module, ModuleData]], report: ImportReport) -> None:
    existing = {lesson.slug: lesson for lesson in course.lessons.all()}
    labs = dict(Lab.objects.values_list("slug", "pk"))
    skills = dict(Skill.objects.values_list("slug", "pk"))
    position = 0
    for module, data in modules:
        for lesson_data in data.lessons:
            position += 1
            lesson = existing.pop(lesson_data.slug, None) or Lesson(course=course, slug=lesson_data.slug)
            values = {
                "module_id": module.pk,
                "position": position,
                "minutes": lesson_data.minutes,
                "lab_id": labs[lesson_data.lab] if lesson_data.lab else None,
                "fixes": lesson_data.fixes,
                "exercises": lesson_data.exercises,
                **_texts("title", lesson_data.title),
                **_texts("body", lesson_data.body),
            }
            wanted = {skills[slug] for slug in lesson_data.skills}
            retagged = lesson.pk is not None and set(lesson.skills.values_list("pk", flat=True)) != wanted
            _save_if_changed(lesson, values, report, "lessons", also_changed=retagged)
            lesson.skills.set(wanted)
    for lesson in existing.values():
        lesson.delete()
        report.note("lessons", "deleted")


def _course_upsert(data: CourseData, report: ImportReport) -> tuple[Course, bool]:
    """The course saved, and whether it is new (a new course's tags and prerequisites are no "update")."""
    course = Course.objects.filter(slug=data.slug).first() or Course(slug=data.slug)
    created = course.pk is None
    values = {
        "level": data.level,
        "estimated_hours": data.estimated_hours,
        "published": data.published,
        **_texts("title", data.title),
        **_texts("summary", data.summary),
    }
    _save_if_changed(course, values, report, "courses")
    tags = _tags_upsert(data.tags, report)
    if sorted(t.pk for t in course.tags.all()) != sorted(t.pk for t in tags):
        course.tags.set(tags)
        if not created:
            report.note("course tags", "updated")
    existing = {module.slug: module for module in course.modules.all()}
    modules = []
    for position, module_data in enumerate(data.modules, start=1):
        module = existing.pop(module_data.slug, None) or Module(course=course, slug=module_data.slug)
        values = {"position": position, **_texts("title", module_data.title), **_texts("summary", module_data.summary)}
        _save_if_changed(module, values, report, "modules")
        modules.append((module, module_data))
    _lessons_upsert(course, modules, report)
    for module in existing.values():  # its lessons moved away or were deleted above
        module.delete()
        report.note("modules", "deleted")
    report.courses.append(course.slug)
    return course, created


def _prerequisites_set(data: CourseData, course: Course, created: bool, report: ImportReport) -> None:
    wanted = list(Course.objects.filter(slug__in=data.prerequisites))
    if sorted(c.pk for c in course.prerequisites.all()) != sorted(c.pk for c in wanted):
        course.prerequisites.set(wanted)
        if not created:
            report.note("course prerequisites", "updated")


def _path_upsert(data: PathData, report: ImportReport) -> None:
    path = LearningPath.objects.filter(slug=data.slug).first() or LearningPath(slug=data.slug)
    created = path.pk is None
    values = {"published": data.published, **_texts("title", data.title), **_texts("summary", data.summary)}
    _save_if_changed(path, values, report, "paths")
    current = list(path.steps.order_by("position").values_list("course__slug", flat=True))
    if current != data.courses:
        path.steps.all().delete()
        courses = {c.slug: c for c in Course.objects.filter(slug__in=data.courses)}
        PathCourse.objects.bulk_create(
            PathCourse(path=path, course=courses[slug], position=n) for n, slug in enumerate(data.courses, start=1)
        )
        courses_changed(course.pk for course in courses.values())  # bulk_create sends no post_save
        if not created:
            report.note("path steps", "updated")
    report.paths.append(path.slug)


def curriculum_import(folder: Path, *, prune: bool = False) -> ImportReport:
    """Import a course folder, or a path folder with its courses. Raises ``CourseFormatError``."""
    if is_path_folder(folder):
        path, courses = path_read(folder)
        paths = [path]
    else:
        courses, paths = [course_read(folder)], []
    catalogue, skills = catalogue_of(folder), []
    try:
        skills = catalogue_read(catalogue) if catalogue else []
    except CatalogueError as error:
        raise CourseFormatError(error.problems) from None
    problems = _check_references(courses, paths, prune=prune, skills=[s.slug for s in skills])
    if problems:
        raise CourseFormatError(problems)
    report = ImportReport()
    with transaction.atomic():
        if skills:
            for outcome, n in catalogue_save(skills).items():
                if n and outcome != "unchanged":
                    report.counts[f"skills {outcome}"] += n
        saved = [(data, *_course_upsert(data, report)) for data in courses]
        for data, course, created in saved:
            _prerequisites_set(data, course, created, report)
        for path in paths:
            _path_upsert(path, report)
    return report


# --- export --------------------------------------------------------------------------------------


def course_data(course: Course) -> CourseData:
    """Everything about a course the folder format holds, read back from the database."""
    lessons_by_module: dict[int, list[LessonData]] = {}
    for lesson in course.lessons.select_related("lab").prefetch_related("skills").order_by("position"):
        lessons_by_module.setdefault(lesson.module_id, []).append(
            LessonData(
                slug=lesson.slug,
                title=Bilingual(lesson.title_en, lesson.title_zh),
                body=Bilingual(lesson.body_en, lesson.body_zh),
                minutes=lesson.minutes,
                fixes=list(lesson.fixes),
                skills=sorted(skill.slug for skill in lesson.skills.all()),
                exercises=list(lesson.exercises),
                lab=lesson.lab.slug if lesson.lab else None,
            )
        )
    return CourseData(
        slug=course.slug,
        title=Bilingual(course.title_en, course.title_zh),
        summary=Bilingual(course.summary_en, course.summary_zh),
        level=course.level,
        tags=[TagData(slug=t.slug, name=Bilingual(t.name_en, t.name_zh)) for t in course.tags.order_by("slug")],
        estimated_hours=course.estimated_hours,
        prerequisites=sorted(course.prerequisites.values_list("slug", flat=True)),
        published=course.published,
        modules=[
            ModuleData(
                slug=module.slug,
                title=Bilingual(module.title_en, module.title_zh),
                summary=Bilingual(module.summary_en, module.summary_zh),
                lessons=lessons_by_module.get(module.pk, []),
            )
            for module in course.modules.order_by("position")
        ],
    )


def path_data(path: LearningPath) -> tuple[PathData, list[CourseData]]:
    courses = [step.course for step in path.steps.select_related("course").order_by("position")]
    data = PathData(
        slug=path.slug,
        title=Bilingual(path.title_en, path.title_zh),
        summary=Bilingual(path.summary_en, path.summary_zh),
        courses=[course.slug for course in courses],
        published=path.published,
    )
    return data, [course_data(course) for course in courses]
