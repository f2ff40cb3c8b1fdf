"""Migrate a database made by an earlier commit, with the demo data, to this checkout; prove no row is lost.

    .venv/bin/python scripts/check_migration_from.py [COMMIT] [--postgres URL]

At COMMIT (default: the main before Step 8's re-layout) in a temporary git worktree, it creates a
database, runs ``migrate`` and ``seed_demo``, queues the demo runs and adds a notification, a
background job and a grade override (the models Step 8 moved), then fingerprints every table: its
row count and a hash of its rows in id order. Then this checkout migrates the same database and
fingerprints it again: each table must hold the same rows, the moved ones under their new names.
SQLite always; PostgreSQL too with ``--postgres postgres://user@host:5432/postgres`` (a scratch
database ``migration_check`` is created there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BEFORE_STEP_8 = "04685c9"
RENAMED = {  # table at Step 7 -> table now
    "core_cohort": "cohorts_cohort",
    "core_cohort_courses": "cohorts_cohort_courses",
    "core_cohort_mentors": "cohorts_cohort_mentors",
    "core_cohortmember": "cohorts_cohortmember",
    "core_labdeadline": "cohorts_labdeadline",
    "core_job": "cohorts_job",
    "core_notification": "notifications_notification",
    "labs_gradeoverride": "grading_gradeoverride",
}
# Rows that change by design: Django's record of applied migrations, and the content types of the
# moved models (their app label follows them; their ids do not change).
CHANGE_BY_DESIGN = {"django_migrations", "django_content_type"}

OLD_ACTIVITY = """
from labs.demo_seed import demo_runs_seed
from core.models import Job, Notification, User, Cohort
from labs.models import GradeOverride, Lab
demo_runs_seed()
learner, mentor = User.objects.get(username="learner"), User.objects.get(username="mentor")
cohort = Cohort.objects.order_by("pk").first()
Notification.objects.create(user=learner, kind="deadline", title="A deadline is near", url="/labs/")
Job.objects.create(kind="roster_import", requested_by=mentor, cohort=cohort, summary={"added": 2}, result_text="x\\n")
GradeOverride.objects.create(
    cohort=cohort, learner=learner, lab=Lab.objects.first(), score="90", reason="oral", by=mentor
)
"""

FINGERPRINT = """
import hashlib, json
from django.db import connection
out = {}
with connection.cursor() as cursor:
    for table in connection.introspection.table_names(cursor):
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
        order = "id" if "id" in columns else ", ".join(columns)
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY {order}")
        rows = cursor.fetchall()
        plain = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]  # bytea
        digest = hashlib.sha256(repr(plain).encode()).hexdigest()
        out[table] = [len(rows), digest]
print("FINGERPRINT " + json.dumps(out))
"""


def manage(checkout: Path, env: dict[str, str], *args: str, settings: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=checkout,
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed in {checkout}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def fingerprint(checkout: Path, env: dict[str, str], settings: str) -> dict[str, list]:
    out = manage(checkout, env, "shell", "-c", FINGERPRINT, settings=settings)
    line = next(line for line in out.splitlines() if line.startswith("FINGERPRINT "))
    return json.loads(line.removeprefix("FINGERPRINT "))


def check(database_url: str, old: Path, var: Path) -> list[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(var), "DEMO_PASSWORD": "check-only"}
    env.pop("CELERY_BROKER_URL", None)  # the embedded broker's address; nothing is sent (no broker runs)
    manage(old, env, "migrate", "-v0", settings="core.settings")
    manage(old, env, "seed_demo", settings="core.settings")
    manage(old, env, "shell", "-c", OLD_ACTIVITY, settings="core.settings")
    before = fingerprint(old, env, "core.settings")
    manage(REPO, env, "migrate", "-v0", settings="config.settings.base")
    after = fingerprint(REPO, env, "config.settings.base")
    problems = []
    for table, (count, digest) in sorted(before.items()):
        if table in CHANGE_BY_DESIGN:
            continue
        now = RENAMED.get(table, table)
        if now not in after:
            problems.append(f"{table}: gone (expected as {now})")
        elif after[now] != [count, digest]:
            problems.append(f"{table} -> {now}: {count} rows before, {after[now][0]} after, or different contents")
    moved = sum(before[table][0] for table in RENAMED if table in before)
    print(f"  {len(before)} tables, {sum(c for c, _ in before.values())} rows; {moved} rows in moved tables")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit", nargs="?", default=BEFORE_STEP_8)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may hold a scratch database")
    args = parser.parse_args()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="migration-check-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.commit], cwd=REPO, check=True)
        try:
            print(f"SQLite: a database of {args.commit} with the demo data, migrated by this checkout")
            problems += check(f"sqlite:///{tmp}/db.sqlite3", old, Path(tmp) / "var-sqlite")
            if args.postgres:
                parts = urlsplit(args.postgres)
                scratch = urlunsplit(parts._replace(path="/migration_check"))
                admin = ["psql", args.postgres, "-q", "-c"]
                subprocess.run([*admin, "DROP DATABASE IF EXISTS migration_check"], check=True)
                subprocess.run([*admin, "CREATE DATABASE migration_check"], check=True)
                try:
                    print(f"PostgreSQL: the same on {scratch}")
                    problems += check(scratch, old, Path(tmp) / "var-postgres")
                finally:
                    subprocess.run([*admin, "DROP DATABASE IF EXISTS migration_check"], check=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=REPO, check=True)
    for problem in problems:
        print("  LOST:", problem)
    print("every row kept" if not problems else f"{len(problems)} tables differ")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
