"""The world the security tests attack: seven personas and real objects of every kind, each private
one carrying a SECRET marker so a test can tell when an answer shows someone data they must not see.

`learner` (lena) is mentored by `mentor` (maria); `other_learner` (omar) by `other_mentor` (otto);
both learners are in cohort "spring", whose mentors are maria and otto. `outsider` (nina) is a
learner in no cohort. `admin_user` (ada) administers. Cohort "autumn", the draft course and the
unpublished lab are seen by administrators (and, for the lab, mentors) only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from challenges import services as challenge_services
from challenges.models import Challenge, Entry, Phase, Team, TeamInvite
from coach.models import Choice
from cohorts.background import text_file
from cohorts.models import Cohort, CohortMember, Job, JobState, LabDeadline
from core.models import ApiToken, NotificationKind, Role, User
from core.services import token_create
from courses.exercises import exercises_read
from courses.models import Course, Enrollment, LearningPath, Lesson, PathCourse
from labs import services as lab_services
from labs.models import Lab, Run, RunState
from mentorship import services as mentorship_services
from mentorship.models import MentorNote, Review, SessionRecord
from notifications.models import Notification
from tests.courses.exercise_lessons import BODY_EN, BODY_ZH
from tests.factories import UserFactory, course_with_lessons
from tests.labs.conftest import VALID_CODE, tiny_lab_create
from tests.mentorship.conftest import finished_run

PERSONAS = ("anonymous", "learner", "other_learner", "outsider", "mentor", "other_mentor", "admin_user")
SIGNED_IN = PERSONAS[1:]
STAFF = ("mentor", "other_mentor", "admin_user")
ADMIN = ("admin_user",)
EVERYONE = PERSONAS

# Answers that refuse: the sign-in page (ours or the admin's), 401, 403, 404.
REFUSED_CODES = {401, 403, 404}


@dataclass
class World:
    users: dict[str, User]
    cohort: Cohort
    other_cohort: Cohort
    lab: Lab
    draft_lab: Lab
    course: Course
    draft_course: Course
    path: LearningPath
    run: Run  # lena's finished run, reviewed by maria
    queued_run: Run  # lena's run still waiting for a worker
    other_run: Run  # omar's finished run
    job: Job  # ada's finished gradebook export
    mentor_job: Job  # maria's finished gradebook export
    notification: Notification  # lena's
    other_notification: Notification  # omar's
    session: SessionRecord  # maria with lena
    note: MentorNote  # maria's private note about lena
    review: Review  # maria's review of lena's run
    token: ApiToken  # lena's personal API token
    challenge: Challenge  # published, open to everyone, with one phase on the lab, open now
    team: Team  # lena's team in the challenge, no entry yet
    invite: TeamInvite  # lena's team invites nina, who has not answered
    coach_choice: Choice  # maria hides the lab from lena's next steps
    # marker -> the personas who may see it; every other persona must never get it in an answer
    secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def lesson(self) -> Lesson:
        return self.course.lessons.order_by("position").first()

    @property
    def draft_lesson(self) -> Lesson:
        return self.draft_course.lessons.order_by("position").first()

    def forbidden_for(self, persona: str) -> set[str]:
        """The secrets ``persona`` must never get in an answer."""
        return {secret for secret, allowed in self.secrets.items() if persona not in allowed}

    def membership(self, persona: str) -> CohortMember:
        return CohortMember.objects.get(cohort=self.cohort, learner=self.users[persona])


CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*')
LIVE_TOKEN = re.compile(r'( data-token=")[^"]*')


def without_csrf_tokens(html: str) -> str:
    """A page with its CSRF tokens blanked: they differ on every response (the sign-out and language
    forms of every page, 404s included), so two answers are compared without them; and the live
    events token, signed with the second it was made in (two answers a second apart differ)."""
    return LIVE_TOKEN.sub(r"\1", CSRF_VALUE.sub(r"\1", html))


def _secret_run(learner: User, lab: Lab, marker: str) -> Run:
    run = finished_run(learner, lab)
    run.submission.__class__.objects.filter(pk=run.submission_id).update(code=f"{VALID_CODE}\n# {marker}\n")
    run.refresh_from_db()
    return run


def _finished_job(requested_by: User, cohort: Cohort, marker: str) -> Job:
    job = Job(
        kind=Job.Kind.GRADEBOOK_EXPORT,
        requested_by=requested_by,
        cohort=cohort,
        state=JobState.DONE,
        result_name="gradebook.csv",
    )
    job.result_file.save("gradebook.csv", text_file(f"username,final\n{marker},80\n"), save=False)
    job.save()
    return job


def _open_challenge(lab: Lab) -> Challenge:
    challenge = Challenge.objects.create(slug="world-cup", title_en="World cup", rules_en="Be fair.", published=True)
    now = timezone.now()
    Phase.objects.create(
        challenge=challenge,
        lab=lab,
        title_en="Main",
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(30),
    )
    return challenge


def _curriculum(users: Iterable[User]) -> tuple[Course, Course, LearningPath]:
    course = course_with_lessons(slug="intro", modules=1, lessons_per_module=2)
    draft = course_with_lessons(slug="draft", modules=1, lessons_per_module=1, published=False)
    draft.title_en = draft.title_zh = "SECRET-draft-course"
    draft.save()
    draft.lessons.update(title_en="SECRET-draft-lesson", title_zh="SECRET-draft-lesson")
    path = LearningPath.objects.create(slug="basics", title_en="Basics", title_zh="基础")
    PathCourse.objects.create(path=path, course=course, position=1)
    for user in users:
        Enrollment.objects.create(user=user, course=course)
    return course, draft, path


@pytest.fixture(scope="module")
def _world_of_the_module(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The world, built once per test module in a transaction rolled back at its end. Each test
    runs in a savepoint inside it (pytest-django's ``db``), so every test starts from this world."""
    datasets = tmp_path_factory.mktemp("datasets")
    with django_db_blocker.unblock(), override_settings(DATASET_STORAGE_DIR=datasets), transaction.atomic():
        yield world_build()
        transaction.set_rollback(True)


@pytest.fixture
def world(_world_of_the_module: World, db: None) -> World:
    return _world_of_the_module


def world_build() -> World:
    learner = UserFactory(role=Role.LEARNER, username="lena")
    other_learner = UserFactory(role=Role.LEARNER, username="omar")
    mentor = UserFactory(role=Role.MENTOR, username="maria")
    admin_user = UserFactory(role=Role.ADMIN, username="ada")
    lab = tiny_lab_create()
    other_mentor = UserFactory(role=Role.MENTOR, username="otto")
    outsider = UserFactory(role=Role.LEARNER, username="nina")
    users = {
        "learner": learner,
        "other_learner": other_learner,
        "outsider": outsider,
        "mentor": mentor,
        "other_mentor": other_mentor,
        "admin_user": admin_user,
    }
    today = timezone.localdate()
    cohort = Cohort.objects.create(slug="spring", name="Spring", starts_on=today, ends_on=today + dt.timedelta(60))
    cohort.mentors.set([mentor, other_mentor])
    CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    CohortMember.objects.create(cohort=cohort, learner=other_learner, mentor=other_mentor)
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=3))
    other_cohort = Cohort.objects.create(
        slug="autumn", name="SECRET-autumn-cohort", starts_on=today, ends_on=today + dt.timedelta(60)
    )
    draft_lab = Lab.objects.create(
        slug="draft-lab",
        title_en="SECRET-draft-lab",
        title_zh="SECRET-draft-lab",
        published=False,
        metric="accuracy",
        threshold=0.5,
    )
    course, draft_course, path = _curriculum(users.values())
    exercises, _problems = exercises_read(BODY_EN, BODY_ZH)  # the exercise tests' three, in the first lesson
    Lesson.objects.filter(pk=course.lessons.order_by("position").first().pk).update(
        body_en=BODY_EN, body_zh=BODY_ZH, exercises=exercises
    )

    run = _secret_run(learner, lab, "SECRET-lena-code")
    Run.objects.filter(pk=run.pk).update(curve=[{"step": 1.0, "t": 0.5, "metrics": {"loss": 0.5}}])  # metrics.csv
    other_run = _secret_run(other_learner, lab, "SECRET-omar-code")
    queued_run = lab_services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    review = mentorship_services.review_create(mentor=mentor, run=run, verdict="approved", comment="SECRET-lena-review")
    mentorship_services.review_create(
        mentor=other_mentor, run=other_run, verdict="approved", comment="SECRET-omar-review"
    )
    session = mentorship_services.session_record_create(
        mentor=mentor, learner=learner, held_on=today, notes="SECRET-lena-session"
    )
    mentorship_services.session_record_create(
        mentor=other_mentor, learner=other_learner, held_on=today, notes="SECRET-omar-session"
    )
    note = mentorship_services.mentor_note_create(mentor=mentor, learner=learner, text="SECRET-lena-note")
    mentorship_services.mentor_note_create(mentor=other_mentor, learner=other_learner, text="SECRET-omar-note")
    kind = NotificationKind.values[0]
    notification = Notification.objects.create(user=learner, kind=kind, title="SECRET-lena-notification")
    other_notification = Notification.objects.create(user=other_learner, kind=kind, title="SECRET-omar-notification")
    token, _key = token_create(user=learner, name="SECRET-lena-token")
    challenge = _open_challenge(lab)
    team = challenge_services.team_create(challenge=challenge, user=learner, name="Lena's team")
    invite = challenge_services.team_invite(team=team, invited_by=learner, invitee=outsider)
    # An entry, scored and sealed, of a contestant outside the personas (a persona's would join a
    # review queue or keep them from joining a team):
    # its private score is shown to nobody but administrators until the reveal, its whole-set score to
    # nobody at all (the markers are the scores' first digits, as every page and
    # the API write them: 0.2718 for 0.27182818, 0.314 for 0.31415926 (rounded to 0.3142 on pages)).
    contestant = UserFactory(role=Role.LEARNER, username="eve")
    entry_run = finished_run(contestant, lab)
    Run.objects.filter(pk=entry_run.pk).update(sealed=True, score=None, passed=None, sealed_score=0.31415926)
    Entry.objects.create(
        phase=challenge.phases.get(),
        run=entry_run,
        learner=contestant,
        public_score=0.4321,
        private_score=0.27182818,
    )

    lena_side, omar_side = ("learner", "mentor", "admin_user"), ("other_learner", "other_mentor", "admin_user")
    secrets = {
        "SECRET-lena-code": lena_side,
        "SECRET-omar-code": omar_side,
        "SECRET-lena-review": lena_side,
        "SECRET-omar-review": omar_side,
        "SECRET-lena-session": lena_side,
        "SECRET-omar-session": omar_side,
        "SECRET-lena-note": ("mentor", "admin_user"),  # private: never the learner
        "SECRET-omar-note": ("other_mentor", "admin_user"),
        "SECRET-lena-notification": ("learner",),  # notifications are their owner's alone
        "SECRET-omar-notification": ("other_learner",),
        "SECRET-lena-token": ("learner",),  # tokens are their owner's alone
        "SECRET-ada-job": ADMIN,
        "SECRET-maria-job": ("mentor", "admin_user"),
        "SECRET-draft-course": ADMIN,
        "SECRET-draft-lesson": ADMIN,
        "SECRET-draft-lab": STAFF,  # the review queue's lab filter lists every lab
        "SECRET-autumn-cohort": ADMIN,
        "0.2718": ADMIN,  # the entry's private score, before the reveal
        "0.314": (),  # the whole hidden set's score of the entry: sealed, shown to no one
    }
    return World(
        users=users,
        cohort=cohort,
        other_cohort=other_cohort,
        lab=lab,
        draft_lab=draft_lab,
        course=course,
        draft_course=draft_course,
        path=path,
        run=run,
        queued_run=queued_run,
        other_run=other_run,
        job=_finished_job(admin_user, cohort, "SECRET-ada-job"),
        mentor_job=_finished_job(mentor, cohort, "SECRET-maria-job"),
        notification=notification,
        other_notification=other_notification,
        session=session,
        note=note,
        review=review,
        token=token,
        challenge=challenge,
        team=team,
        invite=invite,
        coach_choice=Choice.objects.create(learner=learner, mentor=mentor, kind="hide", lab=lab),
        secrets=secrets,
    )


# One request handler per kind of client: loading the middleware is what a new client costs most
# (WhiteNoise indexes every static file), and these tests make thousands of clients.
_HANDLERS: dict[tuple[bool, bool], object] = {}


def client_for(world: World, persona: str, *, api: bool = False, csrf: bool = False) -> Client:
    client = APIClient(enforce_csrf_checks=csrf) if api else Client(enforce_csrf_checks=csrf)
    client.handler = _HANDLERS.setdefault((api, csrf), client.handler)
    user = world.users.get(persona)
    if user is not None:
        client.force_login(user)
    return client


def verdict(response: HttpResponse) -> str:
    """ "granted", "refused" (sign-in redirect, 401, 403, 404) or "error" (anything else)."""
    code = response.status_code
    if 200 <= code < 300:
        return "granted"
    if code in (301, 302, 303):
        target = urlsplit(response["Location"]).path
        return "refused" if target in (reverse("login"), reverse("admin:login")) else "granted"
    return "refused" if code in REFUSED_CODES else "error"


def db_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused request changed nothing."""
    rows = {}
    for model in apps.get_models():
        if model._meta.proxy or model._meta.label in ("auth.Permission", "contenttypes.ContentType"):
            continue
        values = model.objects.order_by("pk").values_list()
        # PostgreSQL answers binary columns as memoryview, whose repr is its address: compare bytes
        rows[model._meta.label] = sorted(
            repr([bytes(v) if isinstance(v, memoryview) else v for v in row]) for row in values
        )
    return rows


def snapshot_diff(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def reset_run(run: Run, state: str = RunState.QUEUED) -> None:
    """Put a run back in ``state`` so each persona acts on the same thing."""
    Run.objects.filter(pk=run.pk).update(state=state, cancel_requested=False, finished_at=None, reason="")
