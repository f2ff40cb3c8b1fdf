"""Who sees which challenge, and which phase a challenge's page opens on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from challenges.models import Challenge, Phase
from challenges.selectors import challenge_for, challenges_visible, phase_current
from cohorts.models import Cohort, CohortMember
from core.models import User
from labs.models import Lab


def _cohort(slug: str) -> Cohort:
    today = timezone.localdate()
    return Cohort.objects.create(slug=slug, name=slug, starts_on=today, ends_on=today + dt.timedelta(days=30))


@pytest.fixture
def cohort_cup(challenge: Challenge) -> Challenge:
    """A second challenge, published for one cohort only, whose learner is lena's neighbour omar."""
    cup = Challenge.objects.create(slug="cohort-cup", title_en="Cohort cup", rules_en="-", published=True)
    cup.open_to_everyone = False
    cup.save()
    cup.cohorts.add(_cohort("spring"))
    return cup


@pytest.mark.django_db
def test_only_published_challenges_are_seen_but_by_administrators(
    challenge: Challenge, learner: User, admin_user: User
) -> None:
    assert challenge.published is False
    assert list(challenges_visible(viewer=learner)) == []
    assert list(challenges_visible(viewer=AnonymousUser())) == []
    assert list(challenges_visible(viewer=admin_user)) == [challenge]
    challenge.published = True
    challenge.save()
    assert list(challenges_visible(viewer=learner)) == [challenge]
    assert list(challenges_visible(viewer=AnonymousUser())) == [challenge]


@pytest.mark.django_db
def test_a_cohorts_challenge_is_seen_by_its_learners_and_mentors_only(
    cohort_cup: Challenge, learner: User, other_learner: User, mentor: User, admin_user: User
) -> None:
    cohort = cohort_cup.cohorts.get()
    CohortMember.objects.create(cohort=cohort, learner=other_learner)
    cohort.mentors.add(mentor)
    assert challenge_for(viewer=other_learner, slug="cohort-cup") == cohort_cup
    assert challenge_for(viewer=mentor, slug="cohort-cup") == cohort_cup
    assert challenge_for(viewer=admin_user, slug="cohort-cup") == cohort_cup
    assert challenge_for(viewer=learner, slug="cohort-cup") is None
    assert challenge_for(viewer=AnonymousUser(), slug="cohort-cup") is None
    # a second cohort with the same learner does not list the challenge twice
    cohort_cup.cohorts.add(second := _cohort("autumn"))
    CohortMember.objects.create(cohort=second, learner=other_learner)
    assert list(challenges_visible(viewer=other_learner)) == [cohort_cup]


@pytest.mark.django_db
def test_the_page_opens_on_the_open_phase_else_the_next_else_the_last(
    challenge: Challenge, phase: Phase, lab: Lab
) -> None:
    now = timezone.now()
    final = Phase.objects.create(
        challenge=challenge,
        lab=lab,
        position=2,
        title_en="Final",
        starts_at=phase.ends_at,
        ends_at=phase.ends_at + dt.timedelta(days=7),
    )
    assert phase_current(challenge, now=now) == phase
    assert phase_current(challenge, now=phase.starts_at - dt.timedelta(seconds=1)) == phase
    assert phase_current(challenge, now=phase.ends_at) == final
    assert phase_current(challenge, now=final.ends_at + dt.timedelta(days=1)) == final
    Phase.objects.all().delete()
    assert phase_current(challenge, now=now) is None
