"""Step 8 moved models between apps (cohorts and jobs out of core, notifications out of core, grade
overrides out of labs). A database made by the previous layout migrates to this one with every row:
same ids, same links, same many-to-many rows, and the content types (so permissions and admin history)
follow the models. Runs on the test database's engine: SQLite by default, PostgreSQL in CI.

``scripts/check_migration_from.sh`` does the same with the demo data of a checkout of the previous main.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.apps import apps as current_apps
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The leaf migrations of each app at the previous main (04685c9); the apps made by Step 8 did not exist.
PREVIOUS_LAYOUT = [
    ("core", "0003_cohort_gpu_run_limit"),
    ("labs", "0002_grade_overrides"),
    ("courses", "0001_initial"),
    ("mentorship", "0001_initial"),
    ("grading", None),
    ("cohorts", None),
    ("notifications", None),
]
MOVED = {  # model -> (previous app, previous table, app now, table now)
    "cohort": ("core", "core_cohort", "cohorts", "cohorts_cohort"),
    "cohortmember": ("core", "core_cohortmember", "cohorts", "cohorts_cohortmember"),
    "labdeadline": ("core", "core_labdeadline", "cohorts", "cohorts_labdeadline"),
    "job": ("core", "core_job", "cohorts", "cohorts_job"),
    "notification": ("core", "core_notification", "notifications", "notifications_notification"),
    "gradeoverride": ("labs", "labs_gradeoverride", "grading", "grading_gradeoverride"),
}

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets: list[tuple[str, str | None]]) -> Apps:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


def latest() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def previous_layout() -> Iterator[Apps]:
    """The test database taken back to the previous layout; brought forward again afterwards."""
    old_apps = migrate(PREVIOUS_LAYOUT)
    yield old_apps
    migrate(latest())


def tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def old_data(old: Apps) -> dict[str, int]:
    """One of every moved model, linked as the site links them, through the previous layout's models."""
    user = old.get_model("core", "User")
    learner = user.objects.create(username="lena", email="lena@example.com")
    mentor = user.objects.create(username="wang")
    course = old.get_model("courses", "Course").objects.create(slug="basics", title_en="Basics")
    path = old.get_model("courses", "LearningPath").objects.create(slug="ai", title_en="AI")
    lab = old.get_model("labs", "Lab").objects.create(
        slug="digits", title_en="Digits", description_en="", starter_code="", metric="accuracy", threshold=0.9
    )
    cohort = old.get_model("core", "Cohort").objects.create(
        slug="spring", name="Spring", path=path, starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2026, 6, 30)
    )
    cohort.mentors.add(mentor)
    cohort.courses.add(course)
    member = old.get_model("core", "CohortMember").objects.create(cohort=cohort, learner=learner, mentor=mentor)
    deadline = old.get_model("core", "LabDeadline").objects.create(
        cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=7), weight=2
    )
    job = old.get_model("core", "Job").objects.create(
        kind="roster_import", requested_by=mentor, cohort=cohort, summary={"added": 3}, result_text="a,b\n"
    )
    notification = old.get_model("core", "Notification").objects.create(
        user=learner, kind="deadline", title="Digits is due", url="/labs/digits/"
    )
    override = old.get_model("labs", "GradeOverride").objects.create(
        cohort=cohort, learner=learner, lab=lab, score="87.50", reason="oral exam", by=mentor
    )
    return {
        "learner": learner.pk,
        "mentor": mentor.pk,
        "course": course.pk,
        "path": path.pk,
        "lab": lab.pk,
        "cohort": cohort.pk,
        "member": member.pk,
        "deadline": deadline.pk,
        "job": job.pk,
        "notification": notification.pk,
        "override": override.pk,
    }


def test_the_previous_layout_has_the_old_tables(previous_layout: Apps) -> None:
    present = tables()
    assert {old_table for _, old_table, _, _ in MOVED.values()} <= present
    assert not {new_table for _, _, _, new_table in MOVED.values()} & present


def test_a_database_of_the_previous_layout_migrates_with_every_row(previous_layout: Apps) -> None:
    ids = old_data(previous_layout)
    content_type = previous_layout.get_model("contenttypes", "ContentType")
    old_types = {
        model: content_type.objects.get_or_create(app_label=app, model=model)[0].pk
        for model, (app, _, _, _) in MOVED.items()
    }

    migrate(latest())

    present = tables()
    for _, old_table, _, new_table in MOVED.values():
        assert new_table in present
        assert old_table not in present
    assert {"cohorts_cohort_mentors", "cohorts_cohort_courses"} <= present
    assert not {"core_cohort_mentors", "core_cohort_courses"} & present

    cohort = current_apps.get_model("cohorts", "Cohort").objects.get(pk=ids["cohort"])
    assert (cohort.slug, cohort.path_id) == ("spring", ids["path"])
    assert list(cohort.mentors.values_list("pk", flat=True)) == [ids["mentor"]]
    assert list(cohort.courses.values_list("pk", flat=True)) == [ids["course"]]
    member = current_apps.get_model("cohorts", "CohortMember").objects.get(pk=ids["member"])
    assert (member.cohort_id, member.learner_id, member.mentor_id) == (ids["cohort"], ids["learner"], ids["mentor"])
    deadline = current_apps.get_model("cohorts", "LabDeadline").objects.get(pk=ids["deadline"])
    assert (deadline.cohort_id, deadline.lab_id, deadline.weight) == (ids["cohort"], ids["lab"], 2)
    job = current_apps.get_model("cohorts", "Job").objects.get(pk=ids["job"])
    with job.result_file.open("rb") as result:  # the result moved from a text column to the storage
        assert (job.cohort_id, job.requested_by_id, job.summary, result.read()) == (
            ids["cohort"],
            ids["mentor"],
            {"added": 3},
            b"a,b\n",
        )
    notification = current_apps.get_model("notifications", "Notification").objects.get(pk=ids["notification"])
    assert (notification.user_id, notification.title, notification.read_at) == (ids["learner"], "Digits is due", None)
    override = current_apps.get_model("grading", "GradeOverride").objects.get(pk=ids["override"])
    assert (override.cohort_id, override.learner_id, override.lab_id, str(override.score)) == (
        ids["cohort"],
        ids["learner"],
        ids["lab"],
        "87.50",
    )
    # The related names still reach them from the models that stayed.
    learner = current_apps.get_model("core", "User").objects.get(pk=ids["learner"])
    assert learner.memberships.get().pk == ids["member"]
    assert learner.notifications.get().pk == ids["notification"]

    # The content types moved with the models: same rows, so permissions and admin history keep pointing at them.
    new_content_type = current_apps.get_model("contenttypes", "ContentType")
    for model, (_, _, new_app, _) in MOVED.items():
        assert new_content_type.objects.get(app_label=new_app, model=model).pk == old_types[model]


def test_new_rows_after_the_move_get_fresh_ids_and_foreign_keys_hold(previous_layout: Apps) -> None:
    """The sequences (PostgreSQL) and foreign keys survive the table renames."""
    ids = old_data(previous_layout)
    migrate(latest())
    cohort_model = current_apps.get_model("cohorts", "Cohort")
    second = cohort_model.objects.create(
        slug="autumn", name="Autumn", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2026, 12, 20)
    )
    assert second.pk > ids["cohort"]
    notification = current_apps.get_model("notifications", "Notification").objects.create(
        user_id=ids["mentor"], kind="deadline", title="t"
    )
    assert notification.pk > ids["notification"]
    # Deleting a cohort still cascades to its members, deadlines, jobs and overrides.
    cohort_model.objects.filter(pk=ids["cohort"]).delete()
    for app, model in (
        ("cohorts", "CohortMember"),
        ("cohorts", "LabDeadline"),
        ("cohorts", "Job"),
        ("grading", "GradeOverride"),
    ):
        assert not current_apps.get_model(app, model).objects.exists()
