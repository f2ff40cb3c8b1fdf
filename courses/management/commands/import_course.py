"""Import a course (or a learning path with its courses) from a folder in the course format.

    python manage.py import_course courses/demo/ai-foundations/neural-network-basics
    python manage.py import_course courses/demo/ai-foundations          # path.md + its course folders

Importing the same folder again changes nothing; an edited folder updates the course in place.
Every problem is listed with its file, and nothing is written unless the whole folder is valid.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.course_files import CourseFormatError
from courses.importing import curriculum_import


class Command(BaseCommand):
    help = "Import a course folder (course.md) or a path folder (path.md and course folders)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--prune",
            action="store_true",
            help="also delete lessons missing from the folder that learners have completed",
        )

    def handle(self, *args: object, folder: Path, prune: bool, **options: object) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such folder")
        try:
            report = curriculum_import(folder, prune=prune)
        except CourseFormatError as error:
            listing = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"{folder} was not imported; nothing changed:\n{listing}") from error
        imported = ", ".join(report.paths + report.courses)
        self.stdout.write(self.style.SUCCESS(f"Imported {imported}: {report.summary()}."))
