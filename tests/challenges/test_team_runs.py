"""A team's members see each other's entries in its challenge — the run's page, curve, code and files,
on the pages and over the API — and nothing else of each other: not their runs outside the challenge,
not their mentor's reviews, and they cannot act on them."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from challenges.models import Phase, Team, TeamMember
from challenges.services import team_create, team_leave
from core.models import User
from labs.models import Lab, Run
from labs.permissions import can_act_on_run, can_view_run, runs_visible_to
from mentorship.services import review_create
from tests.challenges.conftest import entry_create
from tests.factories import UserFactory
from tests.mentorship.conftest import finished_run


@pytest.fixture
def team(phase: Phase, learner: User, other_learner: User) -> Team:
    team = team_create(challenge=phase.challenge, user=learner, name="Spirals")
    TeamMember.objects.create(challenge=phase.challenge, team=team, user=other_learner)
    return team


@pytest.mark.django_db
def test_members_see_each_others_entries_and_nothing_else(
    phase: Phase, team: Team, learner: User, other_learner: User, lab: Lab
) -> None:
    mine = entry_create(phase, learner, team=team).run
    practice = finished_run(learner, lab)  # outside the challenge: lena's alone
    outsider = UserFactory(username="nina")

    assert can_view_run(other_learner, mine) and not can_act_on_run(other_learner, mine)
    assert not can_view_run(other_learner, practice)
    assert not can_view_run(outsider, mine)
    assert set(runs_visible_to(other_learner, Run.objects.all())) == {mine}
    # lena's own list counts each of her runs once, however many members her team has
    TeamMember.objects.create(challenge=phase.challenge, team=team, user=outsider)
    assert list(runs_visible_to(learner, Run.objects.order_by("pk"))) == [mine, practice]


@pytest.mark.django_db
def test_a_teammate_reads_the_run_page_without_the_mentors_review(
    phase: Phase, team: Team, learner: User, other_learner: User, admin_user: User
) -> None:
    run = entry_create(phase, learner, team=team).run
    review_create(mentor=admin_user, run=run, verdict="approved", comment="A-PRIVATE-REVIEW")
    client = Client()
    client.force_login(other_learner)
    page = client.get(run.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert run.submission.code.splitlines()[0] in body
    assert "A-PRIVATE-REVIEW" not in body
    assert 'data-testid="rerun-button"' not in body  # acting on it stays the learner's
    client.force_login(learner)
    assert "A-PRIVATE-REVIEW" in client.get(run.get_absolute_url()).content.decode()

    api = APIClient()
    api.force_authenticate(other_learner)
    assert api.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    assert api.get(f"/api/v1/runs/{run.pk}/reviews/").status_code == 404
    assert api.post(f"/api/v1/runs/{run.pk}/cancel/").status_code in (403, 404)


@pytest.mark.django_db
def test_a_member_who_left_before_the_first_entry_sees_none_of_the_teams_entries(
    phase: Phase, team: Team, learner: User, other_learner: User
) -> None:
    team_leave(user=other_learner, challenge=phase.challenge)
    run = entry_create(phase, learner, team=team).run
    assert not can_view_run(other_learner, run)
    assert not runs_visible_to(other_learner, Run.objects.all()).exists()
