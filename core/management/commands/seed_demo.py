from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from core.demo import DEMO_USERS, demo_users_seed

# Each app's demo data, in dependency order. Each seeder is idempotent.
SEEDERS: list[str] = ["labs.demo_seed.demo_labs_seed", "courses.demo_seed.demo_curriculum_seed"]


class Command(BaseCommand):
    help = "Load the demo users and content (idempotent). Refused in production."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo loads demo accounts with a known password; it never runs in production.")
        demo_users_seed(password=settings.DEMO_PASSWORD)
        for dotted in SEEDERS:
            import_string(dotted)()
        names = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: users {names} (password from DEMO_PASSWORD)."))
