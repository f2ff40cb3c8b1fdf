from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from core.demo_seed import DEMO_USERS, demo_users_seed

# Each app's demo data, in dependency order. Each seeder is idempotent.
SEEDERS: list[str] = [
    "labs.demo_seed.demo_labs_seed",
    "courses.demo_seed.demo_curriculum_seed",
    "mentorship.demo_seed.demo_cohort_seed",
    "challenges.demo_seed.demo_challenge_seed",
]
# With --with-runs: the demo learners' submissions, queued for the lab worker (make run does this).
RUN_SEEDERS: list[str] = ["labs.demo_seed.demo_runs_seed"]


class Command(BaseCommand):
    help = "Load the demo users and content (idempotent). Refused in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-runs", action="store_true", help="also queue the demo learners' submissions (needs a lab worker)"
        )

    def handle(self, *args: object, with_runs: bool = False, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo loads demo accounts with a known password; it never runs in production.")
        demo_users_seed(password=settings.DEMO_PASSWORD)
        for dotted in SEEDERS + (RUN_SEEDERS if with_runs else []):
            import_string(dotted)()
        names = ", ".join(username for username, *_ in DEMO_USERS)
        if options.get("verbosity", 1):
            self.stdout.write(self.style.SUCCESS(f"Demo data ready: users {names} (password from DEMO_PASSWORD)."))
