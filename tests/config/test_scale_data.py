"""The load-test data generator: the shape it promises, and a clean re-generation."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from cohorts.models import CohortMember
from core.models import Role, User
from core.roles import primary_role
from courses.models import Enrollment
from labs.models import FINAL_STATES, Run
from mentorship.models import Review

pytestmark = pytest.mark.django_db


def generate(**options: object) -> None:
    call_command("generate_scale_data", learners=120, courses=7, runs=600, verbosity=0, **options)


def test_generates_learners_in_cohorts_with_mentors_runs_and_reviews(settings: object, tmp_path: object) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    generate()
    learners = User.objects.filter(username__startswith="scale-learner-")
    assert learners.count() == 120
    assert primary_role(learners.first()) == Role.LEARNER
    assert primary_role(User.objects.get(username="scale-mentor-00000")) == Role.MENTOR
    members = CohortMember.objects.filter(learner__in=learners)
    assert members.count() == 120 and not members.filter(mentor__isnull=True).exists()
    assert Enrollment.objects.filter(user__in=learners).count() == 120 * 5  # the path's five courses
    runs = Run.objects.filter(submission__learner__in=learners)
    assert runs.count() == 600 and not runs.exclude(state__in=FINAL_STATES).exists()
    assert runs.filter(score__isnull=False).count() > 400
    reviews = Review.objects.filter(run__in=runs).select_related("run__submission__learner")
    assert reviews.exists()
    mentor_of = dict(members.values_list("learner_id", "mentor_id"))
    assert all(r.mentor_id == mentor_of[r.run.submission.learner_id] for r in reviews)


def test_refuses_a_second_generation_then_replaces_and_deletes(settings: object, tmp_path: object) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    generate()
    with pytest.raises(CommandError, match="already exists"):
        generate()
    generate(replace=True)
    assert Run.objects.filter(submission__learner__username__startswith="scale-").count() == 600
    call_command("generate_scale_data", delete=True, verbosity=0)
    assert not User.objects.filter(username__startswith="scale-").exists()


def test_bad_sizes_and_production_are_refused(settings: object) -> None:
    with pytest.raises(CommandError, match="--runs must be at least 1"):
        call_command("generate_scale_data", runs=0, verbosity=0)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never in production"):
        generate()
