"""Courses as code: read the folder format documented in the README ("Course format").

This module knows files, not the database: ``course_read``/``path_read`` turn a folder into plain
data and collect every problem with its file name; ``courses.course_writer`` writes the same data
back, and ``courses.importing`` moves it in and out of the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.utils.text import slugify

from core.findings import FINDING_CODES as DIAGNOSIS_CODES
from courses.exercises import exercises_read
from courses.models import RESERVED_COURSE_SLUGS, CourseLevel

COURSE_FILE = "course.md"
MODULE_FILE = "module.md"
PATH_FILE = "path.md"
LANG_MARKER = re.compile(r"^<!-- lang: (en|zh) -->[ \t]*$", re.MULTILINE)
NUMBERED = re.compile(r"^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 50


class CourseFormatError(Exception):
    """The folder does not follow the format; ``problems`` lists each one with its file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Bilingual:
    en: str
    zh: str = ""


@dataclass
class TagData:
    slug: str
    name: Bilingual


@dataclass
class LessonData:
    slug: str
    title: Bilingual
    body: Bilingual
    minutes: int
    lab: str | None = None
    fixes: list[str] = field(default_factory=list)  # labs.diagnosis codes the lesson teaches the fix for
    skills: list[str] = field(default_factory=list)  # skill slugs (skills.Skill)
    exercises: list[dict[str, Any]] = field(default_factory=list)  # the body's exercise blocks, parsed


@dataclass
class ModuleData:
    slug: str
    title: Bilingual
    summary: Bilingual
    lessons: list[LessonData] = field(default_factory=list)


@dataclass
class CourseData:
    slug: str
    title: Bilingual
    summary: Bilingual
    level: str
    tags: list[TagData]
    estimated_hours: Decimal
    prerequisites: list[str]
    published: bool
    modules: list[ModuleData] = field(default_factory=list)


@dataclass
class PathData:
    slug: str
    title: Bilingual
    summary: Bilingual
    courses: list[str]
    published: bool


class _Problems:
    """Collects problems so one import reports all of them, not just the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: list[str] = []

    def where(self, path: Path) -> str:
        """``path`` relative to the folder being read; that folder itself by its full path, not '.'."""
        return str(path.relative_to(self.root) if path != self.root and path.is_relative_to(self.root) else path)

    def add(self, path: Path, message: str) -> None:
        self.items.append(f"{self.where(path)}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise CourseFormatError(self.items)


# --- reading -------------------------------------------------------------------------------------


def _split_document(text: str) -> tuple[str, str]:
    """Front matter and body of a Markdown file that starts with a ``---`` line."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    if not text.startswith("---\n"):
        raise ValueError("must start with a '---' line opening the front matter")
    end = text.find("\n---\n", 3)
    if end == -1:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            raise ValueError("front matter is not closed by a '---' line")
    return text[4 : end + 1], text[end + 5 :]


def _split_languages(body: str) -> Bilingual:
    parts = LANG_MARKER.split(body)
    if parts[0].strip():
        raise ValueError("text before the first '<!-- lang: en -->' or '<!-- lang: zh -->' line")
    texts: dict[str, str] = {}
    for language, text in zip(parts[1::2], parts[2::2], strict=True):
        if language in texts:
            raise ValueError(f"two '<!-- lang: {language} -->' sections")
        texts[language] = text.strip()
    return Bilingual(en=texts.get("en", ""), zh=texts.get("zh", ""))


def _read_document(path: Path, problems: _Problems) -> tuple[dict[str, Any], Bilingual] | None:
    try:
        front, body = _split_document(path.read_text(encoding="utf-8"))
        meta = yaml.safe_load(front) or {}
        if not isinstance(meta, dict):
            raise ValueError("front matter must be a mapping of keys to values")
        return meta, _split_languages(body)
    except UnicodeDecodeError:
        problems.add(path, "is not UTF-8 text")
    except yaml.YAMLError as error:
        problems.add(path, f"front matter is not valid YAML ({error})".replace("\n", " "))
    except ValueError as error:
        problems.add(path, str(error))
    return None


class _Fields:
    """Typed access to one file's front matter; wrong or unknown keys become problems."""

    def __init__(self, meta: dict[str, Any], path: Path, problems: _Problems, allowed: set[str]) -> None:
        self.meta, self.path, self.problems = meta, path, problems
        for key in sorted(set(meta) - allowed, key=str):
            problems.add(path, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")

    def bilingual(self, key: str) -> Bilingual:
        value = self.meta.get(key)
        if isinstance(value, str) and value.strip():
            return Bilingual(en=value.strip())
        if isinstance(value, dict) and set(value) <= {"en", "zh"}:
            en, zh = value.get("en") or "", value.get("zh") or ""
            if isinstance(en, str) and isinstance(zh, str) and (en.strip() or zh.strip()):
                return Bilingual(en=en.strip(), zh=zh.strip())
        self.problems.add(self.path, f"'{key}' must be text or a mapping with 'en' and/or 'zh' text")
        return Bilingual(en="")

    def slug(self, key: str) -> str:
        value = self.meta.get(key)
        if not isinstance(value, str) or not SLUG.match(value) or len(value) > SLUG_MAX:
            self.problems.add(self.path, f"'{key}' must be a slug (lowercase letters, digits, hyphens): {value!r}")
            return ""
        return value

    def slugs(self, key: str) -> list[str]:
        value = self.meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and SLUG.match(v) for v in value):
            self.problems.add(self.path, f"'{key}' must be a list of slugs")
            return []
        if len(set(value)) != len(value):
            self.problems.add(self.path, f"'{key}' lists a slug twice")
        return value

    def codes(self, key: str, known: tuple[str, ...]) -> list[str]:
        """A list of names from ``known`` (each at most once)."""
        value = self.meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.add(self.path, f"'{key}' must be a list of names from: {', '.join(known)}")
            return []
        unknown = [v for v in value if v not in known]
        if unknown:
            self.problems.add(
                self.path, f"'{key}' names unknown {', '.join(map(repr, unknown))} (known: {', '.join(known)})"
            )
        return list(dict.fromkeys(v for v in value if v in known))

    def boolean(self, key: str, default: bool) -> bool:
        value = self.meta.get(key, default)
        if not isinstance(value, bool):
            self.problems.add(self.path, f"'{key}' must be true or false")
            return default
        return value

    def positive_int(self, key: str, default: int) -> int:
        value = self.meta.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32767:
            self.problems.add(self.path, f"'{key}' must be a whole number from 1 to 32767")
            return default
        return value

    def hours(self, key: str) -> Decimal:
        value = self.meta.get(key, 1)
        try:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOperation
            hours = Decimal(str(value))
        except InvalidOperation:
            hours = Decimal(-1)
        if hours < 0 or hours >= 10_000 or hours != hours.quantize(Decimal("0.1")):
            self.problems.add(self.path, f"'{key}' must be a number of hours ≥ 0 with at most one decimal")
            return Decimal(1)
        return hours.quantize(Decimal("0.1"))

    def choice(self, key: str, choices: list[str], default: str) -> str:
        value = self.meta.get(key, default)
        if value not in choices:
            self.problems.add(self.path, f"'{key}' must be one of {', '.join(choices)}: {value!r}")
            return default
        return value

    def tags(self, key: str) -> list[TagData]:
        value = self.meta.get(key, [])
        if not isinstance(value, list):
            self.problems.add(self.path, f"'{key}' must be a list")
            return []
        tags: dict[str, TagData] = {}
        for item in value:
            name = _Fields({"tag": item}, self.path, self.problems, {"tag"}).bilingual("tag")
            slug = slugify(name.en)
            if not slug:
                self.problems.add(self.path, f"tag {item!r} needs an English name to make its slug from")
            elif slug in tags:
                self.problems.add(self.path, f"tag '{slug}' is listed twice")
            else:
                tags[slug] = TagData(slug=slug, name=Bilingual(en=name.en, zh=name.zh or name.en))
        return list(tags.values())


def _numbered_entries(folder: Path, problems: _Problems, *, dirs: bool) -> list[tuple[str, Path]]:
    """(slug, path) of the numbered sub-folders or lesson files of ``folder``, in their order."""
    entries = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name in (COURSE_FILE, MODULE_FILE, PATH_FILE):
            continue
        if path.is_dir() != dirs:
            if not dirs and path.is_dir():
                problems.add(path, "a module folder holds lesson files, not folders")
            continue
        stem = path.name if dirs else path.name.removesuffix(".md")
        match = NUMBERED.match(stem)
        if match is None or (not dirs and not path.name.endswith(".md")):
            kind = (
                "module folders are named like '01-neurons'"
                if dirs
                else "lessons are named like '01-what-is-a-neuron.md'"
            )
            problems.add(path, f"unexpected name: {kind}")
            continue
        entries.append((int(match.group(1)), match.group(2), path))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [(slug, path) for _, slug, path in entries]


def _lesson_read(slug: str, path: Path, problems: _Problems) -> LessonData | None:
    document = _read_document(path, problems)
    if document is None:
        return None
    meta, body = document
    fields = _Fields(meta, path, problems, {"title", "minutes", "lab", "fixes", "skills"})
    lab = meta.get("lab")
    if lab is not None:
        lab = fields.slug("lab") or None
    if not (body.en or body.zh):
        problems.add(path, "the lesson has no text")
    exercises, found = exercises_read(body.en, body.zh)
    for problem in found:
        problems.add(path, problem)
    return LessonData(
        slug=slug,
        title=fields.bilingual("title"),
        body=body,
        minutes=fields.positive_int("minutes", 10),
        lab=lab,
        fixes=fields.codes("fixes", DIAGNOSIS_CODES),
        skills=fields.slugs("skills"),
        exercises=exercises,
    )


def _check_unique(kind: str, slug: str, path: Path, seen: dict[str, Path], problems: _Problems) -> None:
    """Module names and lesson names are unique in a course; name both places that use one."""
    if slug in seen:
        problems.add(
            path, f"two {kind}s named '{slug}' (also {problems.where(seen[slug])}): {kind} names are unique in a course"
        )
    else:
        seen[slug] = path


def _module_read(slug: str, folder: Path, problems: _Problems, seen_lessons: dict[str, Path]) -> ModuleData | None:
    module_file = folder / MODULE_FILE
    if not module_file.is_file():
        problems.add(folder, f"missing {MODULE_FILE} (its front matter holds the module title)")
        return None
    document = _read_document(module_file, problems)
    if document is None:
        return None
    meta, summary = document
    fields = _Fields(meta, module_file, problems, {"title"})
    lessons = []
    for lesson_slug, path in _numbered_entries(folder, problems, dirs=False):
        _check_unique("lesson", lesson_slug, path, seen_lessons, problems)
        lessons.append(_lesson_read(lesson_slug, path, problems))
    return ModuleData(
        slug=slug, title=fields.bilingual("title"), summary=summary, lessons=[lesson for lesson in lessons if lesson]
    )


def course_read(folder: Path, *, root: Path | None = None) -> CourseData:
    """Read one course folder; raise ``CourseFormatError`` listing every problem found."""
    problems = _Problems(root or folder)
    course_file = folder / COURSE_FILE
    if not course_file.is_file():
        problems.add(folder, f"no {COURSE_FILE} here: a course folder starts with one")
        problems.raise_if_any()
    document = _read_document(course_file, problems)
    problems.raise_if_any()
    meta, summary = document  # type: ignore[misc]
    allowed = {"slug", "title", "level", "tags", "estimated_hours", "prerequisites", "published"}
    fields = _Fields(meta, course_file, problems, allowed)
    course = CourseData(
        slug=fields.slug("slug"),
        title=fields.bilingual("title"),
        summary=summary,
        level=fields.choice("level", list(CourseLevel.values), CourseLevel.BEGINNER),
        tags=fields.tags("tags"),
        estimated_hours=fields.hours("estimated_hours"),
        prerequisites=fields.slugs("prerequisites"),
        published=fields.boolean("published", True),
    )
    if course.slug in RESERVED_COURSE_SLUGS:
        problems.add(course_file, f"'{course.slug}' is reserved; choose another slug")
    if course.slug and course.slug in course.prerequisites:
        problems.add(course_file, "a course cannot be its own prerequisite")
    seen_modules: dict[str, Path] = {}
    seen_lessons: dict[str, Path] = {}
    for slug, path in _numbered_entries(folder, problems, dirs=True):
        _check_unique("module", slug, path, seen_modules, problems)
        module = _module_read(slug, path, problems, seen_lessons)
        if module:
            course.modules.append(module)
    problems.raise_if_any()
    return course


def path_read(folder: Path) -> tuple[PathData, list[CourseData]]:
    """Read a path folder: ``path.md`` plus one sub-folder per course it holds."""
    problems = _Problems(folder)
    path_file = folder / PATH_FILE
    if not path_file.is_file():
        problems.add(folder, f"no {PATH_FILE} here: a path folder starts with one")
        problems.raise_if_any()
    document = _read_document(path_file, problems)
    problems.raise_if_any()
    meta, summary = document  # type: ignore[misc]
    fields = _Fields(meta, path_file, problems, {"slug", "title", "courses", "published"})
    path = PathData(
        slug=fields.slug("slug"),
        title=fields.bilingual("title"),
        summary=summary,
        courses=fields.slugs("courses"),
        published=fields.boolean("published", True),
    )
    courses = []
    seen: dict[str, Path] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            course = course_read(sub, root=folder)
        except CourseFormatError as error:
            problems.items.extend(error.problems)
            continue
        if course.slug in seen:
            problems.add(
                sub / COURSE_FILE, f"slug '{course.slug}' is also the slug of {problems.where(seen[course.slug])}"
            )
        else:
            seen[course.slug] = sub / COURSE_FILE
            courses.append(course)
    problems.raise_if_any()
    return path, courses


def is_path_folder(folder: Path) -> bool:
    return (folder / PATH_FILE).is_file() and not (folder / COURSE_FILE).is_file()
