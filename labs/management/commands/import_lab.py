"""Import a lab from its folder (lab.toml, starter.py, solution.py, data/: see labs.lab_folder).

    python manage.py import_lab path/to/my-lab [--publish] [--wait SECONDS]

The whole folder is checked first; every problem is printed with its file and nothing is written
(exit 2). A valid folder creates the lab, or updates the lab of that slug in place, as a draft that
learners do not see; changed data becomes a new dataset version (runs keep the version they ran on).
Without ``--publish``: exit 0.

``--publish`` queues the reference solution on the platform (a real lab worker and sandbox: the
platform must be running, e.g. ``make run``) and waits for it: exit 0 when it passed and the lab is
published, 1 when it did not (its run, score and reason printed) or did not finish in time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from labs.authoring import hidden_seed_for, lab_import, skills_problems
from labs.lab_folder import LabFolderInvalid, read_lab_folder
from labs.models import Lab, Run
from labs.publishing import reference_run_start

POLL_S = 1.0


class Command(BaseCommand):
    help = "Import (or update) a lab from its folder; every problem of an invalid folder is listed, nothing written."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--publish", action="store_true", help="run the reference solution on the platform; publish if it passes"
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            help="seconds to wait for the reference run (default: its limit + 10 min)",
        )

    def handle(self, *args: Any, folder: Path, publish: bool, wait: float | None, **options: Any) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder}: not a folder", returncode=2)
        try:
            lab_folder = read_lab_folder(folder, hidden_seed=hidden_seed_for)
            problems = skills_problems(lab_folder.definition)
        except LabFolderInvalid as invalid:
            problems = invalid.problems
        for problem in problems:
            self.stderr.write(f"{folder.name}/{problem}")
        if problems:
            raise CommandError(f"{folder}: {len(problems)} problems; nothing imported", returncode=2)
        lab = lab_import(lab_folder)
        data = lab_folder.data
        self.stdout.write(
            f"{lab.slug}: imported as a draft, dataset v{lab.dataset.version} "
            f"({len(data.x_train)} train, {len(data.x_val)} validation, {len(data.x_test)} test rows)"
        )
        self.stdout.write(f"{lab.slug}: {lab.get_hidden_data_display()} ([data] hidden)")
        if publish:
            self._publish(lab, lab.wall_seconds + 600 if wait is None else wait)

    def _publish(self, lab: Lab, wait: float) -> None:
        run = reference_run_start(lab=lab, publish=True)
        self.stdout.write(f"{lab.slug}: reference run {run.pk} queued; waiting for it (at most {wait:g} s)…")
        deadline, last_state = time.monotonic() + wait, ""
        while True:
            run = Run.objects.get(pk=run.pk)
            if run.state != last_state:
                self.stdout.write(f"  {run.state}")
                last_state = run.state
            if run.is_final or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
        lab.refresh_from_db()
        if lab.published:
            self.stdout.write(self.style.SUCCESS(f"{lab.slug}: published (reference {lab.metric} = {run.score:.4g})"))
            return
        if not run.is_final:
            raise CommandError(
                f"{lab.slug}: reference run {run.pk} still {run.state} after {wait:g} s (is a lab worker running? "
                "`make run` starts them); the lab stays a draft and is published if that run passes",
                returncode=1,
            )
        score = "no score" if run.score is None else f"{lab.metric} = {run.score:.4g} (threshold {lab.threshold:g})"
        raise CommandError(
            f"{lab.slug}: the reference solution did not pass: run {run.pk} {run.state}, {score}"
            + (f", {run.reason}" if run.reason else "")
            + "; the lab stays a draft",
            returncode=1,
        )
