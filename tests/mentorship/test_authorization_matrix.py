"""Who may open what: every page and API endpoint of cohorts, mentorship and assessment, tried by
six personas. `learner` is mentored by `mentor`; `other_learner` by `other_mentor`; `admin_user`
administers. An endpoint answers 2xx to the personas listed for it and refuses everyone else
(login redirect, 401, 403 or 404 — never the data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import Cohort, Job, JobState, LabDeadline, User
from labs.models import Lab, Run
from mentorship import services as mentorship_services
from tests.mentorship.conftest import finished_run

PERSONAS = ("anonymous", "learner", "other_learner", "mentor", "other_mentor", "admin_user")
EVERYONE_SIGNED_IN = PERSONAS[1:]


@dataclass
class World:
    users: dict[str, User]
    cohort: Cohort
    lab: Lab
    run: Run  # the learner's finished run
    job: Job  # a gradebook export the administrator asked for


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: Callable[[World], str]
    allowed: tuple[str, ...]
    api: bool = False
    method: str = "get"
    data: Callable[[World], dict] | None = None


STAFF = ("mentor", "other_mentor", "admin_user")
ADMIN = ("admin_user",)

ENDPOINTS = [
    # cohorts, jobs, dashboard (administrators)
    Endpoint("cohort list", lambda w: "/cohorts/", ADMIN),
    Endpoint("cohort page", lambda w: "/cohorts/spring/", ADMIN),
    Endpoint("cohort dashboard", lambda w: "/cohorts/spring/dashboard/", ADMIN),
    Endpoint("job page", lambda w: f"/jobs/{w.job.pk}/", ADMIN),
    Endpoint("job download", lambda w: f"/jobs/{w.job.pk}/result.csv", ADMIN),
    Endpoint("API cohorts", lambda w: "/api/v1/cohorts/", EVERYONE_SIGNED_IN, api=True),
    Endpoint("API cohort", lambda w: "/api/v1/cohorts/spring/", EVERYONE_SIGNED_IN, api=True),
    Endpoint("API cohort dashboard", lambda w: "/api/v1/cohorts/spring/dashboard/", ADMIN, api=True),
    Endpoint("API job", lambda w: f"/api/v1/jobs/{w.job.pk}/", ADMIN, api=True),
    Endpoint(
        "API roster import",
        lambda w: "/api/v1/cohorts/spring/roster/",
        ADMIN,
        api=True,
        method="post",
        data=lambda w: {"text": "username,cohort\nlena,spring\n"},
    ),
    # assessment
    Endpoint("gradebook", lambda w: "/cohorts/spring/gradebook/", STAFF),
    Endpoint("my grades", lambda w: "/grades/", EVERYONE_SIGNED_IN),
    Endpoint("cohort leaderboard", lambda w: "/cohorts/spring/leaderboard/", EVERYONE_SIGNED_IN),
    Endpoint("lab leaderboard", lambda w: "/labs/tiny/leaderboard/", EVERYONE_SIGNED_IN),
    Endpoint("API gradebook", lambda w: "/api/v1/cohorts/spring/gradebook/", STAFF, api=True),
    Endpoint("API my grades", lambda w: "/api/v1/grades/", EVERYONE_SIGNED_IN, api=True),
    Endpoint("API lab leaderboard", lambda w: "/api/v1/labs/tiny/leaderboard/", EVERYONE_SIGNED_IN, api=True),
    Endpoint(
        "API override",
        lambda w: "/api/v1/cohorts/spring/overrides/",
        ("mentor", "admin_user"),
        api=True,
        method="post",
        data=lambda w: {"learner": w.users["learner"].pk, "lab": "tiny", "score": "80", "reason": "re-graded"},
    ),
    Endpoint(
        "API gradebook export", lambda w: "/api/v1/cohorts/spring/gradebook/export/", STAFF, api=True, method="post"
    ),
    # notifications
    Endpoint("notifications", lambda w: "/notifications/", EVERYONE_SIGNED_IN),
    Endpoint("API notifications", lambda w: "/api/v1/notifications/", EVERYONE_SIGNED_IN, api=True),
    Endpoint("API read all", lambda w: "/api/v1/notifications/read-all/", EVERYONE_SIGNED_IN, api=True, method="post"),
    # mentorship pages
    Endpoint("mentor dashboard", lambda w: "/mentoring/", ("mentor", "other_mentor", "admin_user")),
    Endpoint("review queue", lambda w: "/mentoring/queue/", ("mentor", "other_mentor", "admin_user")),
    Endpoint("review form", lambda w: f"/mentoring/runs/{w.run.pk}/review/", ("mentor", "admin_user")),
    Endpoint("mentee page", lambda w: "/mentoring/mentees/lena/", ("mentor", "admin_user")),
    Endpoint("my mentoring", lambda w: "/mentoring/me/", EVERYONE_SIGNED_IN),
    Endpoint("run page", lambda w: f"/labs/runs/{w.run.pk}/", ("learner", "mentor", "admin_user")),
    Endpoint("run progress", lambda w: f"/labs/runs/{w.run.pk}/progress.json", ("learner", "mentor", "admin_user")),
    # mentorship API
    Endpoint("API queue", lambda w: "/api/v1/mentoring/queue/", ("mentor", "other_mentor", "admin_user"), api=True),
    Endpoint("API mentees", lambda w: "/api/v1/mentoring/mentees/", ("mentor", "other_mentor", "admin_user"), api=True),
    Endpoint("API run", lambda w: f"/api/v1/runs/{w.run.pk}/", ("learner", "mentor", "admin_user"), api=True),
    Endpoint(
        "API run reviews", lambda w: f"/api/v1/runs/{w.run.pk}/reviews/", ("learner", "mentor", "admin_user"), api=True
    ),
    Endpoint(
        "API post review",
        lambda w: f"/api/v1/runs/{w.run.pk}/reviews/",
        ("mentor", "admin_user"),
        api=True,
        method="post",
        data=lambda w: {"verdict": "approved", "comment": "ok"},
    ),
    Endpoint(
        "API sessions",
        lambda w: "/api/v1/mentoring/mentees/lena/sessions/",
        ("learner", "mentor", "admin_user"),
        api=True,
    ),
    Endpoint(
        "API post session",
        lambda w: "/api/v1/mentoring/mentees/lena/sessions/",
        ("mentor", "admin_user"),
        api=True,
        method="post",
        data=lambda w: {"held_on": "2026-11-20", "notes": "talked", "action_items": ""},
    ),
    Endpoint("API notes", lambda w: "/api/v1/mentoring/mentees/lena/notes/", ("mentor", "admin_user"), api=True),
    Endpoint(
        "API post note",
        lambda w: "/api/v1/mentoring/mentees/lena/notes/",
        ("mentor", "admin_user"),
        api=True,
        method="post",
        data=lambda w: {"text": "a note"},
    ),
]


@pytest.fixture
def world(
    learner: User,
    other_learner: User,
    mentor: User,
    other_mentor: User,
    admin_user: User,
    cohort: Cohort,
    lab: Lab,
) -> World:
    users = {
        "learner": learner,
        "other_learner": other_learner,
        "mentor": mentor,
        "other_mentor": other_mentor,
        "admin_user": admin_user,
    }
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=3))
    job = Job.objects.create(
        kind=Job.Kind.GRADEBOOK_EXPORT,
        requested_by=admin_user,
        cohort=cohort,
        state=JobState.DONE,
        result_name="gradebook.csv",
        result_text="username,final\nlena,80\n",
    )
    return World(users=users, cohort=cohort, lab=lab, run=finished_run(learner, lab), job=job)


def _request(endpoint: Endpoint, world: World, persona: str) -> int:
    user = world.users.get(persona)
    client = APIClient() if endpoint.api else Client()
    if user is not None:
        client.force_login(user)
    data = endpoint.data(world) if endpoint.data else None
    kwargs = {"format": "json"} if endpoint.api and data is not None else {}
    response = getattr(client, endpoint.method)(endpoint.url(world), data, **kwargs)
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_only_the_listed_personas_get_through(endpoint: Endpoint, world: World) -> None:
    outcomes = {persona: _request(endpoint, world, persona) for persona in PERSONAS}
    allowed = {p for p, code in outcomes.items() if 200 <= code < 300}
    assert allowed == set(endpoint.allowed), outcomes
    refused = {code for p, code in outcomes.items() if p not in endpoint.allowed}
    assert refused <= {302, 401, 403, 404}, outcomes


@pytest.mark.django_db
def test_lists_show_a_mentor_only_their_mentees(world: World) -> None:
    other_run = finished_run(world.users["other_learner"], world.lab)
    mentorship_services.mentor_note_create(mentor=world.users["mentor"], learner=world.users["learner"], text="NOTE-1")
    client = APIClient()
    client.force_login(world.users["mentor"])
    queue = [run["id"] for run in client.get("/api/v1/mentoring/queue/").json()]
    assert queue == [world.run.pk]
    runs = [run["id"] for run in client.get("/api/v1/runs/").json()["results"]]
    assert other_run.pk not in runs and world.run.pk in runs
    mentees = [m["username"] for m in client.get("/api/v1/mentoring/mentees/").json()]
    assert mentees == ["lena"]
    gradebook = client.get("/cohorts/spring/gradebook/").content.decode()
    assert 'data-testid="gradebook-row-lena"' in gradebook and "gradebook-row-omar" not in gradebook
    client.force_login(world.users["other_mentor"])
    gradebook = client.get("/cohorts/spring/gradebook/").content.decode()
    assert "gradebook-row-lena" not in gradebook and 'data-testid="gradebook-row-omar"' in gradebook
    assert "NOTE-1" not in client.get("/mentoring/mentees/omar/").content.decode()
    assert world.run.pk not in [run["id"] for run in client.get("/api/v1/mentoring/queue/").json()]
