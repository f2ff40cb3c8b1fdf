"""Guessing ids and slugs (IDOR). Someone who guesses the id of an object they must not see gets the
answer a guess at an object that does not exist gets: the same status (404, or 403 where the whole
page is closed to them) and the same body — no data, and no existence oracle. That holds for runs,
jobs, notifications, mentees (by username), cohorts, draft courses, modules and lessons, and
unpublished labs. Public things (published courses, labs, paths) are not hidden, so guessing them
proves nothing. Sweeps over neighbouring ids answer the same, and no query string widens a list."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.db.models import Q
from django.http import HttpResponse
from django.urls import resolve

from cohorts.models import CohortMember, Job
from labs.models import FINAL_STATES, Run
from notifications.models import Notification
from tests.mentorship.conftest import finished_run
from tests.security import world as fixtures
from tests.security.endpoints import ROWS, Row
from tests.security.world import (
    PERSONAS,
    World,
    client_for,
    db_snapshot,
    snapshot_diff,
    verdict,
    without_csrf_tokens,
)

_world_of_the_module, world = fixtures._world_of_the_module, fixtures.world  # the fixtures used here

MISSING_ID = 987_654_321
MISSING_SLUG = "no-such-thing"


@dataclass(frozen=True)
class Guess:
    name: str
    url: Callable[[object], str]  # the URL for an id or a slug
    victim: Callable[[World], object]  # the id or slug of the object the guessers must not see
    guessers: tuple[str, ...]
    method: str = "get"
    api: bool = False
    missing: object = MISSING_ID


def _slug(
    name: str,
    url: Callable[[object], str],
    victim: Callable[[World], object],
    guessers: tuple[str, ...],
    method: str = "get",
    api: bool = False,
) -> Guess:
    return Guess(name, url, victim, guessers, method, api, missing=MISSING_SLUG)


STRANGERS = ("other_learner", "outsider", "other_mentor")  # to lena and her runs
NOT_LENA = ("other_learner", "mentor", "admin_user")  # her notifications are hers alone
NOT_ADMIN = ("learner", "other_learner", "mentor", "other_mentor")

GUESSES = [
    # runs
    Guess("run page", lambda i: f"/labs/runs/{i}/", lambda w: w.run.pk, STRANGERS),
    Guess("run progress", lambda i: f"/labs/runs/{i}/progress.json", lambda w: w.run.pk, STRANGERS),
    Guess("run cancel", lambda i: f"/labs/runs/{i}/cancel/", lambda w: w.queued_run.pk, (*STRANGERS, "mentor"), "post"),
    Guess("run rerun", lambda i: f"/labs/runs/{i}/rerun/", lambda w: w.run.pk, (*STRANGERS, "mentor"), "post"),
    Guess("review form", lambda i: f"/mentoring/runs/{i}/review/", lambda w: w.run.pk, (*STRANGERS, "learner")),
    Guess("API run", lambda i: f"/api/v1/runs/{i}/", lambda w: w.run.pk, STRANGERS, api=True),
    Guess("API run reviews", lambda i: f"/api/v1/runs/{i}/reviews/", lambda w: w.run.pk, STRANGERS, api=True),
    Guess("API review", lambda i: f"/api/v1/runs/{i}/reviews/", lambda w: w.run.pk, STRANGERS, "post", True),
    Guess("API cancel", lambda i: f"/api/v1/runs/{i}/cancel/", lambda w: w.queued_run.pk, STRANGERS, "post", True),
    Guess("API rerun", lambda i: f"/api/v1/runs/{i}/rerun/", lambda w: w.run.pk, (*STRANGERS, "mentor"), "post", True),
    # jobs
    Guess("job page", lambda i: f"/jobs/{i}/", lambda w: w.job.pk, NOT_ADMIN),
    Guess("job download", lambda i: f"/jobs/{i}/result.csv", lambda w: w.job.pk, NOT_ADMIN),
    Guess("API job", lambda i: f"/api/v1/jobs/{i}/", lambda w: w.job.pk, NOT_ADMIN, api=True),
    Guess("mentor's job", lambda i: f"/jobs/{i}/", lambda w: w.mentor_job.pk, ("learner", "other_mentor")),
    Guess("API mentor's job", lambda i: f"/api/v1/jobs/{i}/", lambda w: w.mentor_job.pk, ("other_mentor",), api=True),
    # notifications: their owner's alone, administrators included
    Guess("open notification", lambda i: f"/notifications/{i}/open", lambda w: w.notification.pk, NOT_LENA),
    Guess(
        "API read", lambda i: f"/api/v1/notifications/{i}/read/", lambda w: w.notification.pk, NOT_LENA, "post", True
    ),
    # mentees by username
    _slug("mentee page", lambda s: f"/mentoring/mentees/{s}/", lambda w: "lena", ("other_mentor", "learner")),
    _slug("record session", lambda s: f"/mentoring/mentees/{s}/", lambda w: "lena", ("other_mentor",), method="post"),
    _slug("API sessions", lambda s: f"/api/v1/mentoring/mentees/{s}/sessions/", lambda w: "lena", STRANGERS, api=True),
    _slug(
        "API notes",
        lambda s: f"/api/v1/mentoring/mentees/{s}/notes/",
        lambda w: "lena",
        ("learner", *STRANGERS),
        api=True,
    ),
    _slug("API note", lambda s: f"/api/v1/mentoring/mentees/{s}/notes/", lambda w: "lena", STRANGERS, "post", True),
    # cohorts by slug
    _slug("cohort page", lambda s: f"/cohorts/{s}/", lambda w: "spring", NOT_ADMIN),
    _slug("cohort dashboard", lambda s: f"/cohorts/{s}/dashboard/", lambda w: "spring", NOT_ADMIN),
    _slug("gradebook", lambda s: f"/cohorts/{s}/gradebook/", lambda w: "spring", ("learner", "outsider")),
    _slug("cohort leaderboard", lambda s: f"/cohorts/{s}/leaderboard/", lambda w: "spring", ("outsider",)),
    _slug("other leaderboard", lambda s: f"/cohorts/{s}/leaderboard/", lambda w: "autumn", ("learner", "mentor")),
    _slug("gradebook export", lambda s: f"/cohorts/{s}/gradebook/export/", lambda w: "spring", ("learner",), "post"),
    _slug("API cohort", lambda s: f"/api/v1/cohorts/{s}/", lambda w: "autumn", ("learner", "mentor"), api=True),
    _slug("API gradebook", lambda s: f"/api/v1/cohorts/{s}/gradebook/", lambda w: "spring", ("learner",), api=True),
    _slug("API dashboard", lambda s: f"/api/v1/cohorts/{s}/dashboard/", lambda w: "spring", ("mentor",), api=True),
    _slug("API roster", lambda s: f"/api/v1/cohorts/{s}/roster/", lambda w: "spring", ("mentor",), "post", True),
    _slug("API override", lambda s: f"/api/v1/cohorts/{s}/overrides/", lambda w: "spring", ("learner",), "post", True),
    _slug(
        "API export", lambda s: f"/api/v1/cohorts/{s}/gradebook/export/", lambda w: "spring", ("learner",), "post", True
    ),
    # the draft course, its module and lesson; the unpublished lab
    _slug("draft course", lambda s: f"/courses/{s}/", lambda w: "draft", ("anonymous", "learner")),
    _slug("draft enroll", lambda s: f"/courses/{s}/enroll/", lambda w: "draft", ("learner",), "post"),
    _slug("draft lesson", lambda s: f"/courses/draft/{s}/", lambda w: w.draft_lesson.slug, ("learner",)),
    _slug("API draft course", lambda s: f"/api/v1/courses/{s}/", lambda w: "draft", ("anonymous", "learner"), api=True),
    Guess(
        "API draft module",
        lambda i: f"/api/v1/modules/{i}/",
        lambda w: w.draft_lesson.module_id,
        ("learner",),
        api=True,
    ),
    Guess("API draft lesson", lambda i: f"/api/v1/lessons/{i}/", lambda w: w.draft_lesson.pk, ("learner",), api=True),
    Guess(
        "API draft complete",
        lambda i: f"/api/v1/lessons/{i}/complete/",
        lambda w: w.draft_lesson.pk,
        ("learner",),
        "post",
        True,
    ),
    _slug("unpublished lab", lambda s: f"/labs/{s}/", lambda w: "draft-lab", ("learner", "mentor")),
    _slug("API unpublished lab", lambda s: f"/api/v1/labs/{s}/", lambda w: "draft-lab", ("learner",), api=True),
    _slug("API submit", lambda s: f"/api/v1/labs/{s}/submissions/", lambda w: "draft-lab", ("learner",), "post", True),
]


def _answer(response: HttpResponse, key: object) -> tuple[int, str, str]:
    """Status, body and redirect target, with the guessed id or slug taken out."""
    alone = re.compile(rf"(?<![\w-]){re.escape(str(key))}(?![\w-])")
    # A page's <main> only: around it, the top bar is the visitor's own (their unread count may be
    # the very number guessed) and the language form carries the address and a per-response token.
    text = response.content.decode(errors="replace")
    main = re.search(r"<main\b.*?</main>", text, re.DOTALL)
    body = alone.sub("<KEY>", without_csrf_tokens(main.group(0) if main else text))
    return response.status_code, body, alone.sub("<KEY>", response.get("Location", ""))


@pytest.mark.django_db
@pytest.mark.parametrize("guess", GUESSES, ids=lambda g: g.name)
def test_a_guessed_id_answers_as_if_the_object_did_not_exist(guess: Guess, world: World) -> None:
    victim = guess.victim(world)
    clients = {p: client_for(world, p, api=guess.api) for p in guess.guessers}
    before = db_snapshot()
    for persona, client in clients.items():
        hit = getattr(client, guess.method)(guess.url(victim))
        miss = getattr(client, guess.method)(guess.url(guess.missing))
        assert verdict(hit) == "refused", (persona, hit.status_code)
        assert _answer(hit, victim) == _answer(miss, guess.missing), f"{persona} can tell that {victim} exists"
    assert snapshot_diff(before, db_snapshot()) == []


# --- sweeps over neighbouring ids ------------------------------------------------------------------


def _visible_runs(world: World, persona: str) -> set[int]:
    """Their own runs, their mentees' runs; every run for administrators."""
    user = world.users[persona]
    runs = Run.objects.all()
    if persona != "admin_user":
        mentees = CohortMember.objects.filter(mentor=user).values_list("learner_id", flat=True)
        runs = runs.filter(Q(submission__learner=user) | Q(submission__learner__in=mentees))
    return set(runs.values_list("pk", flat=True))


def _visible_jobs(world: World, persona: str) -> set[int]:
    """The jobs they asked for; every job for administrators."""
    jobs = Job.objects.all() if persona == "admin_user" else Job.objects.filter(requested_by=world.users[persona])
    return set(jobs.values_list("pk", flat=True))


def _own_notifications(world: World, persona: str) -> set[int]:
    return set(Notification.objects.filter(user=world.users[persona]).values_list("pk", flat=True))


SWEEPS = {
    # kind: (URLs for an id, every id of that kind, the ids a persona may open)
    "runs": (
        ("/labs/runs/{}/", "/api/v1/runs/{}/"),
        lambda w: set(Run.objects.values_list("pk", flat=True)),
        _visible_runs,
    ),
    "jobs": (("/jobs/{}/", "/api/v1/jobs/{}/"), lambda w: set(Job.objects.values_list("pk", flat=True)), _visible_jobs),
    "notifications": (
        ("/api/v1/notifications/{}/read/",),
        lambda w: set(Notification.objects.values_list("pk", flat=True)),
        _own_notifications,
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", SWEEPS)
def test_sweeping_neighbouring_ids_finds_nothing_but_ones_own(kind: str, world: World) -> None:
    urls, every, visible_to = SWEEPS[kind]
    ids = every(world)
    large = random.Random(kind).randrange(10**6, 10**9)
    guesses = [*range(max(1, min(ids) - 2), max(ids) + 3), large]
    for persona in ("learner", "other_learner", "outsider", "mentor", "other_mentor"):
        visible = visible_to(world, persona)
        for url in urls:
            method = "post" if url.endswith("/read/") else "get"
            client = client_for(world, persona, api=url.startswith("/api/"))
            missing = _answer(getattr(client, method)(url.format(MISSING_ID)), MISSING_ID)
            for guess in guesses:
                response = getattr(client, method)(url.format(guess))
                if guess in visible:
                    assert verdict(response) == "granted", (persona, url, guess, response.status_code)
                else:
                    assert _answer(response, guess) == missing, (persona, url, guess, response.status_code)


# --- lists ------------------------------------------------------------------------------------------


def _hostile_queries(world: World) -> list[dict[str, object]]:
    """Filters an attacker may try on a list: one aimed at each learner (and the other's mentor)."""
    queries = []
    for target, their_mentor in (("learner", "other_mentor"), ("other_learner", "mentor")):
        user, mentor = world.users[target], world.users[their_mentor]
        queries.append(
            {
                "learner": user.pk,
                "user": user.pk,
                "user_id": user.pk,
                "owner": user.pk,
                "submission__learner": user.pk,
                "learner__username": user.username,
                "username": user.username,
                "requested_by": user.pk,
                "mentor": mentor.pk,
                "all": "1",
                "published": "false",
                "cohort": "autumn",
                "course": "draft",
                "module": world.draft_lesson.module_id,
                "lab": "draft-lab",
                "page_size": 1000,
            }
        )
    return queries


def _ids(payload: object, key: str) -> set[object]:
    items = payload["results"] if isinstance(payload, dict) and "results" in payload else payload
    return {item[key] for item in items}


LISTS = {
    # URL: (the key of an item, what a persona may see)
    "/api/v1/runs/": ("id", _visible_runs),
    "/api/v1/notifications/": ("id", _own_notifications),
    # finished, unreviewed runs of their mentees (a mentor's own runs are not theirs to review)
    "/api/v1/mentoring/queue/": ("id", lambda w, p: _unreviewed_runs(w) & _visible_runs(w, p) - _own_runs(w, p)),
    "/api/v1/mentoring/mentees/": ("username", lambda w, p: {"lena"} if p == "mentor" else {"omar"}),
    "/api/v1/cohorts/": ("slug", lambda w, p: set() if p == "outsider" else {"spring"}),
}


def _own_runs(world: World, persona: str) -> set[int]:
    return set(Run.objects.filter(submission__learner=world.users[persona]).values_list("pk", flat=True))


def _unreviewed_runs(world: World) -> set[int]:
    runs = Run.objects.filter(state__in=FINAL_STATES, reviews__isnull=True)
    return set(runs.values_list("pk", flat=True))


@pytest.mark.django_db
def test_no_filter_on_a_list_widens_what_a_user_sees(world: World) -> None:
    finished_run(world.users["learner"], world.lab)  # something in each mentor's review queue
    finished_run(world.users["other_learner"], world.lab)
    for url, (key, visible_to) in LISTS.items():
        for persona in ("learner", "other_learner", "outsider", "mentor", "other_mentor"):
            client = client_for(world, persona, api=True)
            plain = client.get(url)
            if plain.status_code == 403:  # a list for another role
                continue
            visible = visible_to(world, persona)
            assert _ids(plain.json(), key) == visible, (url, persona)
            for query in _hostile_queries(world):
                response = client.get(f"{url}?{urlencode(query)}")
                if response.status_code == 200:
                    assert _ids(response.json(), key) <= visible, (url, persona, query)
                else:
                    assert response.status_code == 400, (url, persona, response.status_code)


@pytest.mark.django_db
def test_a_mentor_sees_only_their_mentees_in_the_gradebook(world: World) -> None:
    for persona, mine, theirs in (("mentor", "lena", "omar"), ("other_mentor", "omar", "lena")):
        client = client_for(world, persona)
        page = client.get("/cohorts/spring/gradebook/").content.decode()
        assert f'data-testid="gradebook-row-{mine}"' in page and f"gradebook-row-{theirs}" not in page
        rows = client_for(world, persona, api=True).get("/api/v1/cohorts/spring/gradebook/").json()["rows"]
        assert [row["username"] for row in rows] == [mine]


# --- no answer shows anyone a secret -----------------------------------------------------------------


LIST_ROUTES_SKIPPED = ("accounts/", "admin/")  # sign-in and password forms read no filters


def _list_rows(world: World) -> list[Row]:
    """Readable rows whose URL names no object: the lists, where a filter could widen access."""
    rows = []
    for row in ROWS:
        match = resolve(row.url(world))
        if row.method == "get" and not match.kwargs and not match.route.startswith(LIST_ROUTES_SKIPPED):
            rows.append(row)
    return rows


@pytest.mark.django_db
def test_no_list_shows_a_secret_whatever_the_filters(world: World) -> None:
    """Every list page and endpoint, as every persona, with filters aimed at the other side's people
    (lena's side for omar's, omar's for lena's, lena for the rest). The plain answers are checked by
    the matrix (``test_authorization_matrix``)."""
    lena, omar = _hostile_queries(world)
    aimed = {"other_learner": lena, "other_mentor": lena, "learner": omar, "mentor": omar}
    leaks = []
    for persona in PERSONAS:
        query = urlencode(aimed.get(persona, lena))
        for row in _list_rows(world):
            url = f"{row.url(world)}?{query}"
            body = client_for(world, persona, api=row.api).get(url).content.decode(errors="replace")
            leaks += [(persona, url, secret) for secret in world.forbidden_for(persona) if secret in body]
    assert leaks == []


# Where each secret shows to someone allowed to see it: the leak checks can tell a leak.
SHOWN = {
    "SECRET-lena-code": ("mentor", lambda w: f"/labs/runs/{w.run.pk}/"),
    "SECRET-omar-code": ("other_learner", lambda w: f"/labs/runs/{w.other_run.pk}/"),
    "SECRET-lena-review": ("learner", lambda w: f"/labs/runs/{w.run.pk}/"),
    "SECRET-omar-review": ("other_mentor", lambda w: f"/api/v1/runs/{w.other_run.pk}/reviews/"),
    "SECRET-lena-session": ("learner", lambda w: "/api/v1/mentoring/mentees/lena/sessions/"),
    "SECRET-omar-session": ("other_mentor", lambda w: "/mentoring/mentees/omar/"),
    "SECRET-lena-note": ("mentor", lambda w: "/mentoring/mentees/lena/"),
    "SECRET-omar-note": ("admin_user", lambda w: "/api/v1/mentoring/mentees/omar/notes/"),
    "SECRET-lena-notification": ("learner", lambda w: "/notifications/"),
    "SECRET-omar-notification": ("other_learner", lambda w: "/api/v1/notifications/"),
    "SECRET-lena-token": ("learner", lambda w: "/accounts/tokens/"),
    "SECRET-ada-job": ("admin_user", lambda w: f"/jobs/{w.job.pk}/result.csv"),
    "SECRET-maria-job": ("mentor", lambda w: f"/jobs/{w.mentor_job.pk}/"),
    "SECRET-draft-course": ("admin_user", lambda w: "/api/v1/courses/"),
    "SECRET-draft-lesson": ("admin_user", lambda w: w.draft_lesson.get_absolute_url()),
    "SECRET-draft-lab": ("other_mentor", lambda w: "/mentoring/queue/"),
    "SECRET-autumn-cohort": ("admin_user", lambda w: "/cohorts/"),
    "0.2718": ("admin_user", lambda w: "/api/v1/challenges/world-cup/leaderboard/"),
}
# Secrets no answer of the site shows anyone, as long as the world lasts: a sealed run's score on the whole
# hidden set (its own value is in the database only, until the challenge's reveal unseals it).
NEVER_SHOWN = {"0.314"}


@pytest.mark.django_db
def test_every_secret_shows_to_someone_allowed_to_see_it(world: World) -> None:
    assert set(SHOWN) | NEVER_SHOWN == set(world.secrets)
    assert all(world.secrets[secret] == () for secret in NEVER_SHOWN)
    for secret, (persona, url) in SHOWN.items():
        assert persona in world.secrets[secret]
        response = client_for(world, persona, api=url(world).startswith("/api/")).get(url(world))
        assert secret in response.content.decode(), (secret, persona, response.status_code)
