from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from skills.catalogue import CatalogueError, catalogue_read, catalogue_save


class Command(BaseCommand):
    help = "Create or update the skills a catalogue file lists (YAML: slug, name, summary, diagnoses)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            skills = catalogue_read(file)
        except CatalogueError as error:
            for problem in error.problems:
                self.stderr.write(problem)
            raise CommandError(f"{file}: {len(error.problems)} problems; nothing imported", returncode=2) from None
        counts = catalogue_save(skills)
        self.stdout.write(", ".join(f"{what}: {n}" for what, n in counts.items()))
