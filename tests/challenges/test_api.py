"""The challenges API (challenges.api): who sees which challenge, creating one (administrators
only, all or nothing), the leaderboard's hidden scores, entering a phase and the final picks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Challenge, Entry, Phase
from challenges.services import invite_accept, phase_reveal, team_create, team_invite
from cohorts.models import CohortMember
from core.models import User
from labs.models import Lab, Run, Submission
from tests.challenges.conftest import entry_create
from tests.factories import CohortFactory, UserFactory
from tests.labs.conftest import VALID_CODE


def client_of(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def cup(phase: Phase) -> Phase:
    """The conftest's phase, open now, of its challenge published and open to everyone."""
    Challenge.objects.filter(pk=phase.challenge_id).update(published=True)
    phase.challenge.refresh_from_db()
    return phase


def scored(phase: Phase, learner: User, public: float, private: float) -> Entry:
    entry = entry_create(phase, learner, public_score=public)
    Entry.objects.filter(pk=entry.pk).update(private_score=private)
    return entry


def slugs(client: APIClient) -> list[str]:
    response = client.get("/api/v1/challenges/")
    assert response.status_code == 200
    return sorted(item["slug"] for item in response.json()["results"])


# --- Who sees what ----------------------------------------------------------------------------------


def test_the_list_hides_drafts_and_other_cohorts_challenges_but_from_administrators(
    cup: Phase, learner: User, other_learner: User, admin_user: User
) -> None:
    Challenge.objects.create(slug="draft-cup", title_en="Draft", rules_en="-")
    cohort_cup = Challenge.objects.create(
        slug="cohort-cup", title_en="Cohort cup", rules_en="-", published=True, open_to_everyone=False
    )
    cohort = CohortFactory()
    cohort_cup.cohorts.add(cohort)
    CohortMember.objects.create(cohort=cohort, learner=other_learner)
    assert slugs(client_of()) == ["tiny-cup"]  # anonymous: the published ones open to everyone
    assert slugs(client_of(learner)) == ["tiny-cup"]
    assert slugs(client_of(other_learner)) == ["cohort-cup", "tiny-cup"]
    assert slugs(client_of(admin_user)) == ["cohort-cup", "draft-cup", "tiny-cup"]
    assert client_of(learner).get("/api/v1/challenges/cohort-cup/").status_code == 404
    assert client_of(learner).get("/api/v1/challenges/draft-cup/leaderboard/").status_code == 404
    assert client_of(admin_user).get("/api/v1/challenges/draft-cup/").status_code == 200


def test_a_challenge_is_listed_with_its_phases_in_the_requests_language(cup: Phase) -> None:
    item = client_of().get("/api/v1/challenges/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]
    assert (item["title"], item["title_en"], item["url"]) == ("小杯赛", "Tiny cup", "/challenges/tiny-cup/")
    phase = item["phases"][0]
    assert (phase["position"], phase["lab"], phase["state"], phase["submissions_per_day"]) == (1, "tiny", "open", 5)
    assert phase["lab_fit_for_ranking"] is False  # the tiny lab's hidden rows are public data
    Lab.objects.filter(pk=cup.lab_id).update(hidden_data=Lab.HiddenData.SECRET)
    item = client_of().get("/api/v1/challenges/").json()["results"][0]
    assert (item["title"], item["phases"][0]["lab_fit_for_ranking"]) == ("Tiny cup", True)


@pytest.mark.parametrize(
    ("starts", "ends", "revealed", "state"),
    [(1, 2, False, "upcoming"), (-1, 1, False, "open"), (-2, -1, False, "ended"), (-2, -1, True, "revealed")],
)
def test_a_phases_state(cup: Phase, starts: int, ends: int, revealed: bool, state: str) -> None:
    now = timezone.now()
    Phase.objects.filter(pk=cup.pk).update(
        starts_at=now + dt.timedelta(days=starts),
        ends_at=now + dt.timedelta(days=ends),
        revealed_at=now if revealed else None,
    )
    assert client_of().get("/api/v1/challenges/tiny-cup/").json()["phases"][0]["state"] == state


def test_the_detail_tells_a_participant_their_team_and_quota(cup: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=cup.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    entry_create(cup, other_learner, team=team)
    body = client_of(learner).get("/api/v1/challenges/tiny-cup/").json()
    assert (body["rules"], body["can_take_part"]) == ("Be fair.", True)
    assert body["team"] == {"id": team.pk, "name": "Pair", "members": [str(learner), str(other_learner)]}
    assert body["phases"][0]["quota"] == {"used_today": 1, "used_total": 1, "left": 4}  # the team's one quota


def test_the_detail_for_someone_signed_out_has_no_quota(cup: Phase) -> None:
    body = client_of().get("/api/v1/challenges/tiny-cup/").json()
    assert (body["can_take_part"], body["team"], body["phases"][0]["quota"]) == (False, None, None)


# --- Creating a challenge ---------------------------------------------------------------------------


def challenge_data(lab: Lab, **changes: Any) -> dict[str, Any]:
    now = timezone.now()
    phase = {
        "lab": lab.slug,
        "title_en": "Warm-up",
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=7)).isoformat(),
        "blind": True,
        "public_fraction": 0.3,
    }
    data = {
        "slug": "new-cup",
        "title_en": "New cup",
        "title_zh": "新杯",
        "rules_en": "Be *fair*.",
        "prize_en": "A mug.",
        "published": True,
        "phases": [phase, {**phase, "title_en": "Final", "submissions_per_day": 2, "final_picks": 1}],
    }
    return {**data, **changes}


def test_an_administrator_creates_a_challenge_with_its_phases(lab: Lab, admin_user: User) -> None:
    cohort = CohortFactory(slug="spring")
    data = challenge_data(lab, open_to_everyone=False, cohorts=["spring"])
    response = client_of(admin_user).post("/api/v1/challenges/", data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["prize"], body["open_to_everyone"]) == ("new-cup", "A mug.", False)
    assert [(p["position"], p["title"], p["blind"]) for p in body["phases"]] == [
        (1, "Warm-up", True),
        (2, "Final", True),
    ]
    challenge = Challenge.objects.get(slug="new-cup")
    assert (challenge.created_by, list(challenge.cohorts.all())) == (admin_user, [cohort])
    phases = list(challenge.phases.order_by("position"))
    assert [(p.submissions_per_day, p.final_picks, p.public_fraction) for p in phases] == [(5, 2, 0.3), (2, 1, 0.3)]


def _phase_changed(lab: Lab, /, **changes: Any) -> dict[str, Any]:
    data = challenge_data(lab)
    data["phases"][1] = {**data["phases"][1], **changes}
    return data


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        (lambda lab: _phase_changed(lab, lab="nope"), "phases", "No published lab has the slug “nope”."),
        (lambda lab: challenge_data(lab, cohorts=["nope"]), "cohorts", "does not exist"),
        (lambda lab: _phase_changed(lab, ends_at=timezone.now().isoformat()), "phases", "Phase 2: A phase must end"),
        (lambda lab: _phase_changed(lab, public_fraction=0), "phases", "Phase 2: The public fraction must lie"),
        (lambda lab: _phase_changed(lab, public_fraction=1), "phases", "Phase 2: The public fraction must lie"),
        (lambda lab: challenge_data(lab, phases=[]), "phases", "A challenge needs at least one phase."),
        (lambda lab: challenge_data(lab, slug="tiny-cup"), "slug", "already exists"),
        (lambda lab: challenge_data(lab, rules_en=""), "rules_en", "blank"),
    ],
    ids=[
        "unknown lab",
        "unknown cohort",
        "ends before it starts",
        "fraction 0",
        "fraction 1",
        "no phase",
        "slug",
        "rules",
    ],
)
def test_a_challenge_that_breaks_a_rule_is_refused_whole(
    challenge: Challenge, lab: Lab, admin_user: User, case: Any, field: str, message: str
) -> None:
    response = client_of(admin_user).post("/api/v1/challenges/", case(lab), format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert list(Challenge.objects.all()) == [challenge]  # nothing stored: not the challenge, not phase 1
    assert not Phase.objects.exists()


def test_only_administrators_create_challenges(lab: Lab, learner: User, mentor: User) -> None:
    assert client_of().post("/api/v1/challenges/", challenge_data(lab), format="json").status_code == 401
    for user in (learner, mentor):
        assert client_of(user).post("/api/v1/challenges/", challenge_data(lab), format="json").status_code == 403
    assert not Challenge.objects.exists()


# --- The leaderboard --------------------------------------------------------------------------------


def board(user: User | None, query: str = "") -> dict[str, Any]:
    response = client_of(user).get(f"/api/v1/challenges/tiny-cup/leaderboard/{query}")
    assert response.status_code == 200
    return response.json()


def contestants(body: dict[str, Any]) -> list[tuple]:
    return [(r["rank"], r["name"], r["public_score"], r["private_score"]) for r in body["rows"] if not r["baseline"]]


def test_private_scores_are_null_before_the_reveal_but_for_administrators(
    cup: Phase, learner: User, other_learner: User, admin_user: User
) -> None:
    scored(cup, learner, 0.7, 0.4)
    scored(cup, other_learner, 0.6, 0.9)
    for viewer in (None, learner):
        assert contestants(board(viewer)) == [(1, str(learner), 0.7, None), (2, str(other_learner), 0.6, None)]
        assert board(viewer)["final"] == []
    assert contestants(board(admin_user)) == [(1, str(learner), 0.7, 0.4), (2, str(other_learner), 0.6, 0.9)]
    baselines = [r for r in board(learner)["rows"] if r["baseline"]]
    assert baselines and all(r["rank"] is None and r["private_score"] is None for r in baselines)


def test_after_the_reveal_everyone_sees_private_scores_and_the_final_ranking(
    cup: Phase, learner: User, other_learner: User
) -> None:
    scored(cup, learner, 0.7, 0.4)
    scored(cup, other_learner, 0.6, 0.9)
    now = timezone.now()
    Phase.objects.filter(pk=cup.pk).update(starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1))
    assert contestants(board(None))[0][3] is None  # ended is not revealed
    assert phase_reveal(phase_id=cup.pk, now=now) is True
    body = board(None)
    assert contestants(body) == [(1, str(learner), 0.7, 0.4), (2, str(other_learner), 0.6, 0.9)]
    final = [(r["rank"], r["name"], r["final_score"], r["public_rank"], r["move"]) for r in body["final"]]
    assert final == [(1, str(other_learner), 0.9, 2, 1), (2, str(learner), 0.4, 1, -1)]
    assert body["phase"]["state"] == "revealed"


def test_a_blind_phase_hides_public_scores_until_its_end(cup: Phase, learner: User, admin_user: User) -> None:
    Phase.objects.filter(pk=cup.pk).update(blind=True)
    entry = scored(cup, learner, 0.7, 0.4)
    assert contestants(board(learner)) == [(None, str(learner), None, None)]
    assert contestants(board(admin_user)) == [(1, str(learner), 0.7, 0.4)]
    mine = client_of(learner).get("/api/v1/challenges/tiny-cup/entries/").json()
    assert [(e["id"], e["public_score"]) for e in mine] == [(entry.pk, None)]
    Phase.objects.filter(pk=cup.pk).update(ends_at=timezone.now())
    assert contestants(board(learner)) == [(1, str(learner), 0.7, None)]
    mine = client_of(learner).get("/api/v1/challenges/tiny-cup/entries/").json()
    assert [e["public_score"] for e in mine] == [0.7]


def test_a_phase_is_chosen_by_its_position(cup: Phase, lab: Lab) -> None:
    now = timezone.now()
    Phase.objects.create(
        challenge=cup.challenge, lab=lab, position=2, title_en="Finals", starts_at=now, ends_at=now + dt.timedelta(1)
    )
    Phase.objects.filter(pk=cup.pk).update(ends_at=now - dt.timedelta(hours=1))
    assert board(None)["phase"]["title"] == "Finals"  # the current one
    assert board(None, "?phase=1")["phase"]["title"] == "Main phase"
    assert client_of().get("/api/v1/challenges/tiny-cup/leaderboard/?phase=3").status_code == 404
    assert client_of().get("/api/v1/challenges/tiny-cup/leaderboard/?phase=x").status_code == 400


# --- Entries and final picks ------------------------------------------------------------------------


def enter(user: User, **data: Any) -> Any:
    body = {"phase": 1, "code": VALID_CODE, **data}
    return client_of(user).post("/api/v1/challenges/tiny-cup/entries/", body, format="json")


def test_an_entry_through_the_api_is_a_run(cup: Phase, learner: User) -> None:
    response = enter(learner, params={"epochs": 2})
    assert response.status_code == 201, response.json()
    body = response.json()
    run = Run.objects.select_related("submission").get(pk=body["run"])
    assert (run.submission.lab, run.submission.source, run.submission.params["epochs"]) == (
        cup.lab,
        Submission.Source.API,
        2,
    )
    assert body == {
        "entry": Entry.objects.get(run=run).pk,
        "run": run.pk,
        "url": f"/labs/runs/{run.pk}/",
        "api_url": f"/api/v1/runs/{run.pk}/",
    }
    mine = client_of(learner).get("/api/v1/challenges/tiny-cup/entries/?phase=1").json()
    assert [(e["run"], e["final"], e["learner"]) for e in mine] == [(run.pk, False, str(learner))]


def test_an_entry_past_the_phases_quota_is_a_400_saying_why(cup: Phase, learner: User) -> None:
    Phase.objects.filter(pk=cup.pk).update(submissions_per_day=1)
    assert enter(learner).status_code == 201
    response = enter(learner)
    assert response.status_code == 400
    assert response.json() == {"detail": "You have used all the entries this phase allows for now."}
    assert Entry.objects.count() == 1


def test_an_entry_the_lab_refuses_or_for_no_phase_is_a_400(cup: Phase, learner: User) -> None:
    response = enter(learner, code="def train(data, run):\n  return (\n")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("Line ")
    response = enter(learner, phase=2)
    assert (response.status_code, response.json()) == (400, {"phase": ["This challenge has no phase 2."]})
    assert not Entry.objects.exists()


def test_entering_needs_a_signed_in_participant(cup: Phase, learner: User) -> None:
    assert client_of().post("/api/v1/challenges/tiny-cup/entries/", {}, format="json").status_code == 401
    Challenge.objects.filter(pk=cup.challenge_id).update(open_to_everyone=False)
    response = enter(learner)  # seen (a cohort challenge of no cohort of hers is not), not entered
    assert response.status_code == 404
    cup.challenge.cohorts.add(CohortFactory())
    CohortMember.objects.create(cohort=cup.challenge.cohorts.get(), learner=UserFactory(username="member"))
    mentor_of_it = UserFactory(username="coach")
    cup.challenge.cohorts.get().mentors.add(mentor_of_it)
    response = enter(mentor_of_it)  # mentors see a cohort's challenge, and do not take part
    assert (response.status_code, response.json()) == (400, {"detail": "You may not take part in this challenge."})


def test_final_picks_are_ones_own_entries(cup: Phase, learner: User, other_learner: User) -> None:
    mine = [entry_create(cup, learner, public_score=s) for s in (0.9, 0.5)]
    theirs = entry_create(cup, other_learner)
    url = "/api/v1/challenges/tiny-cup/final-picks/"
    response = client_of(learner).put(url, {"phase": 1, "entries": [mine[1].pk]}, format="json")
    assert response.status_code == 200
    assert {e["id"]: e["final"] for e in response.json()} == {mine[0].pk: False, mine[1].pk: True}
    response = client_of(learner).put(url, {"phase": 1, "entries": [theirs.pk]}, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "Pick only your own entries in this phase."})
    response = client_of(learner).put(url, {"phase": 1, "entries": [e.pk for e in mine] + [theirs.pk]}, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "Pick at most 2 entries."})
    assert set(Entry.objects.filter(final=True)) == {mine[1]}
