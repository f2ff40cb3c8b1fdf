"""Submit a lab solution from the command line, optionally wait for the score.

    python manage.py submit_lab digits-mlp solution.py --user learner --wait --json

With ``--wait --json``, progress goes to stderr and the last line of stdout is one JSON
object: run, state, reason, metric, score, threshold, passed. Exit status: 0 when the run
passed, 1 when it ended otherwise (or --wait timed out), 2 when the submission was rejected.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from core.models import User
from labs import selectors, services
from labs.models import Run, Submission
from labs.validation import SubmissionRejected


def _parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(f"--param expects name=value, got {text!r}", returncode=2)
    return name, value


class Command(BaseCommand):
    help = "Submit a .py or .ipynb solution to a lab as a user; --wait follows the run to its score."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("lab")
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True)
        parser.add_argument("--param", action="append", default=[], help="hyper-parameter override, name=value")
        parser.add_argument("--wait", action="store_true", help="follow the run until it ends")
        parser.add_argument("--json", action="store_true", help="print one JSON object last on stdout")
        parser.add_argument("--timeout", type=float, default=None, help="seconds to wait (default: lab limit + 10 min)")

    def handle(self, *args: Any, **options: Any) -> None:
        lab = selectors.labs_published().filter(slug=options["lab"]).first()
        if lab is None:
            raise CommandError(f"no published lab {options['lab']!r}", returncode=2)
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}", returncode=2)
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file", returncode=2)
        params = dict(_parse_param(p) for p in options["param"])
        try:
            run = services.submission_create(
                learner=user,
                lab=lab,
                source=Submission.Source.CLI,
                params=params,
                upload=SimpleUploadedFile(path.name, path.read_bytes()),
            )
        except SubmissionRejected as rejected:
            raise CommandError("submission rejected:\n  " + "\n  ".join(rejected.errors), returncode=2) from None
        self.stderr.write(f"run {run.pk} queued: {run.get_absolute_url()}")
        if options["wait"]:
            run = self._follow(run, options["timeout"] or lab.wall_seconds + 600)
        summary = self._summary(run)
        self.stdout.write(json.dumps(summary) if options["json"] else self._plain(summary))
        if options["wait"] and not summary["passed"]:
            sys.exit(1)

    def _follow(self, run: Run, timeout: float) -> Run:
        deadline = time.monotonic() + timeout
        state, shown = None, 0
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.state != state:
                state = run.state
                self.stderr.write(f"[{state}]" + (f" {run.reason}" if run.reason else ""))
            for point in run.curve[shown:]:
                metrics = " ".join(f"{k}={v:.4g}" for k, v in point["metrics"].items())
                self.stderr.write(f"  step {point['step']}: {metrics}")
            shown = len(run.curve)
            if run.is_final:
                return run
            time.sleep(0.25)
        self.stderr.write(f"gave up waiting after {timeout:.0f}s; the run goes on: {run.get_absolute_url()}")
        return run

    def _summary(self, run: Run) -> dict[str, Any]:
        lab = run.submission.lab
        return {
            "run": run.pk,
            "state": run.state,
            "reason": run.reason or None,
            "metric": lab.metric,
            "score": run.score,
            "threshold": lab.threshold,
            "passed": bool(run.passed),
        }

    def _plain(self, summary: dict[str, Any]) -> str:
        score = "—" if summary["score"] is None else f"{summary['score']:.4f}"
        verdict = "passed" if summary["passed"] else "not passed"
        return f"run {summary['run']}: {summary['state']}, {summary['metric']} {score} ({verdict})"
