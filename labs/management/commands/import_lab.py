"""Import a lab from its folder (lab.toml, starter.py, solution.py, data/: see labs.lab_folder).

    python manage.py import_lab path/to/my-lab

The whole folder is checked first; every problem is printed with its file and nothing is written
(exit 2). A valid folder creates the lab, or updates the lab of that slug in place, as a draft that
learners do not see until an administrator publishes it; changed data becomes a new dataset version
(runs keep the version they ran on). Exit 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from labs.authoring import lab_import
from labs.lab_folder import LabFolderInvalid, read_lab_folder


class Command(BaseCommand):
    help = "Import (or update) a lab from its folder; every problem of an invalid folder is listed, nothing written."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder}: not a folder", returncode=2)
        try:
            lab_folder = read_lab_folder(folder)
        except LabFolderInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(f"{folder.name}/{problem}")
            raise CommandError(f"{folder}: {len(invalid.problems)} problems; nothing imported", returncode=2) from None
        lab = lab_import(lab_folder)
        data = lab_folder.data
        self.stdout.write(
            f"{lab.slug}: imported as a draft, dataset v{lab.dataset.version} "
            f"({len(data.x_train)} train, {len(data.x_val)} validation, {len(data.x_test)} test rows)"
        )
