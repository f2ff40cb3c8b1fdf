"""Write courses back to the folder format that ``courses.course_files`` reads: write → read gives
back what was written, and writing the same data twice gives the same bytes."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from courses.course_files import (
    COURSE_FILE,
    MODULE_FILE,
    PATH_FILE,
    Bilingual,
    CourseData,
    CourseFormatError,
    PathData,
    TagData,
)


def _bilingual_out(text: Bilingual) -> dict[str, str] | str:
    return {"en": text.en, "zh": text.zh} if text.zh else text.en


def _document(meta: dict[str, Any], body: Bilingual) -> str:
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    sections = [f"<!-- lang: {language} -->\n{text}\n" for language, text in (("en", body.en), ("zh", body.zh)) if text]
    return f"---\n{front}---\n" + "\n".join(sections)


def _hours_out(hours: Decimal) -> int | float:
    return int(hours) if hours == hours.to_integral_value() else float(hours)


def _tag_out(tag: TagData) -> dict[str, str] | str:
    return tag.name.en if tag.name.zh in ("", tag.name.en) else {"en": tag.name.en, "zh": tag.name.zh}


def _prepare_folder(folder: Path, marker: str) -> None:
    """An empty folder, or one this format wrote before (its numbered folders are replaced)."""
    if folder.exists() and not folder.is_dir():
        raise CourseFormatError([f"{folder}: is a file, not a folder; export into an empty folder"])
    folder.mkdir(parents=True, exist_ok=True)
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if entries and not (folder / marker).is_file():
        raise CourseFormatError([f"{folder}: not empty and holds no {marker}; export into an empty folder"])
    for entry in entries:
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def course_write(course: CourseData, folder: Path) -> None:
    _prepare_folder(folder, COURSE_FILE)
    meta = {
        "slug": course.slug,
        "title": _bilingual_out(course.title),
        "level": course.level,
        "tags": [_tag_out(tag) for tag in course.tags],
        "estimated_hours": _hours_out(course.estimated_hours),
        "prerequisites": course.prerequisites,
        "published": course.published,
    }
    (folder / COURSE_FILE).write_text(_document(meta, course.summary), encoding="utf-8")
    width = max(2, len(str(len(course.modules))))
    for number, module in enumerate(course.modules, start=1):
        module_folder = folder / f"{number:0{width}d}-{module.slug}"
        module_folder.mkdir()
        (module_folder / MODULE_FILE).write_text(
            _document({"title": _bilingual_out(module.title)}, module.summary), encoding="utf-8"
        )
        lesson_width = max(2, len(str(len(module.lessons))))
        for lesson_number, lesson in enumerate(module.lessons, start=1):
            meta = {"title": _bilingual_out(lesson.title), "minutes": lesson.minutes}
            if lesson.lab:
                meta["lab"] = lesson.lab
            if lesson.fixes:
                meta["fixes"] = lesson.fixes
            if lesson.skills:
                meta["skills"] = lesson.skills
            lesson_file = module_folder / f"{lesson_number:0{lesson_width}d}-{lesson.slug}.md"
            lesson_file.write_text(_document(meta, lesson.body), encoding="utf-8")


def path_write(path: PathData, courses: list[CourseData], folder: Path) -> None:
    _prepare_folder(folder, PATH_FILE)
    meta = {
        "slug": path.slug,
        "title": _bilingual_out(path.title),
        "courses": path.courses,
        "published": path.published,
    }
    (folder / PATH_FILE).write_text(_document(meta, path.summary), encoding="utf-8")
    for course in courses:
        course_write(course, folder / course.slug)
