from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import scale_data


class Command(BaseCommand):
    help = (
        "Generate the large data set for load tests: learners in cohorts with mentors, courses, "
        "enrollments, lesson progress, runs and reviews (default 10,000 / 200 / 100,000). Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, default=10_000)
        parser.add_argument("--courses", type=int, default=200)
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--replace", action="store_true", help="remove a previously generated data set first")
        parser.add_argument("--delete", action="store_true", help="only remove the generated data set")

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("generate_scale_data creates accounts with a known password; never in production.")
        for name in ("learners", "courses", "runs"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1 (got {options[name]})")
        if options["delete"] or options["replace"]:
            scale_data.scale_data_delete()
            if options["delete"]:
                self.stdout.write("Generated data removed.")
                return
        if scale_data.scale_data_exists():
            raise CommandError("Generated data already exists: add --replace to make it again, or --delete.")
        started = time.perf_counter()
        counts = scale_data.scale_data_generate(
            learners=options["learners"],
            courses=options["courses"],
            runs=options["runs"],
            password=settings.DEMO_PASSWORD,
            seed=options["seed"],
        )
        summary = ", ".join(f"{value} {name}" for name, value in vars(counts).items())
        self.stdout.write(
            self.style.SUCCESS(f"Generated in {time.perf_counter() - started:.1f} s: {summary}.")
            + f"\nAccounts {scale_data.PREFIX}-learner-00000, {scale_data.PREFIX}-mentor-00000 … "
            "(password from DEMO_PASSWORD)."
        )
