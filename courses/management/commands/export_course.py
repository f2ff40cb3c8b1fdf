"""Write a course (or, with --path, a learning path and its courses) to a folder in the course format.

    python manage.py export_course neural-network-basics /tmp/nnb
    python manage.py export_course --path ai-foundations /tmp/curriculum

The folder must be empty or hold an earlier export (which is replaced). Importing the export
gives back the same course.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.course_files import CourseFormatError
from courses.course_writer import course_write, path_write
from courses.importing import course_data, path_data
from courses.models import Course, LearningPath


class Command(BaseCommand):
    help = "Export a course (or a path with --path) to a folder of Markdown files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("folder", type=Path)
        parser.add_argument("--path", action="store_true", help="SLUG names a learning path")

    def handle(self, *args: object, slug: str, folder: Path, path: bool, **options: object) -> None:
        model = LearningPath if path else Course
        item = model.objects.filter(slug=slug).first()
        if item is None:
            known = ", ".join(model.objects.values_list("slug", flat=True)) or "none"
            kind = "learning path" if path else "course"
            raise CommandError(f"no {kind} '{slug}' (known: {known})")
        try:
            if path:
                path_write(*path_data(item), folder)
            else:
                course_write(course_data(item), folder)
        except CourseFormatError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Exported {slug} to {folder}."))
