"""Write a lab as a folder that ``import_lab`` reads back (the same bytes on every export).

    python manage.py export_lab digits-mlp path/to/digits-mlp

The data goes into ``data/data.npz`` with the hidden test labels: the folder is for the lab's
authors. Exit 2 when the lab is unknown, has no dataset, or the folder exists and is not empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from labs import selectors
from labs.authoring import ExportRefused, lab_export


class Command(BaseCommand):
    help = "Write a lab (definition, starter, reference solution, data with the test labels) as a lab folder."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("folder", type=Path)

    def handle(self, *args: Any, slug: str, folder: Path, **options: Any) -> None:
        lab = selectors.lab_by_slug(slug)
        if lab is None:
            raise CommandError(f"no lab {slug!r}", returncode=2)
        try:
            written = lab_export(lab, folder)
        except ExportRefused as refused:
            raise CommandError(str(refused), returncode=2) from None
        self.stdout.write(f"{slug}: {len(written)} files written to {folder}")
