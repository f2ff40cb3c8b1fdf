"""The skill profile (levels from evidence, shown with it) and the next steps (why each was chosen,
what a mentor pins or hides) on the pages that show them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from coach.models import Choice
from coach.profile import skill_profile
from coach.recommend import next_steps, parameter_advice
from cohorts.models import Cohort, LabDeadline
from core.models import Role, User
from courses.models import Enrollment, LessonCompletion
from mentorship.models import Review
from tests.coach.conftest import DIVERGING, LEARNING, bare_lab, course, ended_run, lessons_of, skill
from tests.factories import UserFactory


def levels(learner: User) -> dict[str, tuple[str, int]]:
    return {s.slug: (s.level, s.score) for s in skill_profile(learner)}


def complete(learner: User, *lessons: object) -> None:
    for lesson in lessons:
        LessonCompletion.objects.create(user=learner, lesson=lesson)


@pytest.mark.django_db
def test_a_level_comes_from_lessons_labs_and_what_runs_showed(learner: User) -> None:
    descent = skill("gradient-descent", diagnoses=("diverging", "unstable"))
    other = skill("evaluation")
    made = course("basics", 3, skills=(descent,))
    lab = bare_lab("spirals", skills=(descent,))
    assert levels(learner) == {"gradient-descent": ("not-started", 0)}  # evaluation: nothing teaches it
    assert other.slug not in levels(learner)

    complete(learner, *lessons_of(made))
    assert levels(learner)["gradient-descent"] == ("developing", 33)  # lessons 100, the lab (weighs 2) 0

    run = ended_run(learner, lab, DIVERGING)
    assert [f["code"] for f in run.diagnosis] == ["diverging"]
    # tried, not passed: 40 of 100 for the lab; less 15 for the divergence it showed
    assert levels(learner)["gradient-descent"] == ("developing", 45)
    level = skill_profile(learner)[0]
    texts = [(e.text, e.url, e.sign) for e in level.evidence]
    assert ("Completed 3 of 3 lessons", "", 1) in texts
    assert (f"Run #{run.pk} of Lab spirals: the loss grew", run.get_absolute_url(), -1) in texts

    ended_run(learner, lab, LEARNING, score=0.95, passed=True)
    assert levels(learner)["gradient-descent"] == ("strong", 100)  # passed since: the gap is closed
    assert not [e for e in skill_profile(learner)[0].evidence if e.sign < 0]


@pytest.mark.django_db
def test_mentor_reviews_move_the_level(learner: User, mentor: User) -> None:
    descent = skill("gradient-descent")
    lab = bare_lab("spirals", skills=(descent,))
    run = ended_run(learner, lab, LEARNING, score=0.95, passed=True)
    assert levels(learner)["gradient-descent"] == ("strong", 100)
    Review.objects.create(run=run, mentor=mentor, verdict="changes_requested", points=9, max_points=10, comment="Good")
    Review.objects.create(
        run=run, mentor=mentor, verdict="changes_requested", points=2, max_points=10, comment="Tidy it up"
    )
    # labs 100 (weight 2), reviews 20 (weight 1): 73
    assert levels(learner)["gradient-descent"] == ("proficient", 73)
    evidence = [e.text for e in skill_profile(learner)[0].evidence]
    assert "Review of Lab spirals: 2 of 10 points" in evidence  # the newest review of a run counts, alone
    assert "Review of Lab spirals: 9 of 10 points" not in evidence


@pytest.mark.django_db
def test_the_home_shows_the_profile_with_its_evidence_and_follows_a_change(client: Client, learner: User) -> None:
    descent = skill("gradient-descent")
    made = course("basics", 3, skills=(descent,))
    client.force_login(learner)
    page = client.get("/").content.decode()
    assert re.search(r'data-testid="skill-gradient-descent" data-level="not-started" data-score="0"', page)
    complete(learner, lessons_of(made)[0])  # the profile is cached per learner generation: the completion bumps it
    page = client.get("/").content.decode()
    assert re.search(r'data-testid="skill-gradient-descent" data-level="developing" data-score="33"', page)
    assert "Completed 1 of 3 lessons" in page
    assert '<meter class="skill-meter"' in page and "developing" in page


@pytest.mark.django_db
def test_a_diverging_run_leads_to_a_lower_learning_rate_and_the_lesson_that_fixes_it(
    client: Client, learner: User
) -> None:
    descent = skill("gradient-descent", diagnoses=("diverging",))
    made = course("descent", 2, skills=(descent,), fixes=("diverging",))
    lab = bare_lab("spirals", skills=(descent,))
    run = ended_run(learner, lab, DIVERGING, params={"lr": 0.5})
    steps = next_steps(learner)
    assert [s.kind for s in steps][:2] == ["parameter", "fix"]
    parameter, fix = steps[:2]
    assert parameter.title == "Try lr = 0.05 in Lab spirals"
    assert parameter.reason == f"Run #{run.pk}, with lr = 0.5: the loss grew."
    assert parameter.url == "/labs/spirals/?param_lr=0.05#submit"
    assert fix.url == lessons_of(made)[0].get_absolute_url()
    assert fix.reason == f"It teaches the fix for what run #{run.pk} showed: the loss grew."

    client.force_login(learner)
    home = client.get("/").content.decode()
    assert "Try lr = 0.05 in Lab spirals" in home and f"Run #{run.pk}, with lr = 0.5: the loss grew." in home
    form = client.get(parameter.url.split("#")[0]).content.decode()  # the link fills the form in
    assert re.search(r'name="param_lr" value="0.05"', form)
    lab_page = client.get("/labs/spirals/").content.decode()
    assert 'data-testid="next-steps"' in lab_page and "Try lr = 0.05 in Lab spirals" in lab_page
    assert re.search(r'name="param_lr" value="0.1"', lab_page)  # without the link: the default


@pytest.mark.django_db
def test_a_link_cannot_set_a_parameter_out_of_bounds(client: Client, learner: User) -> None:
    bare_lab("spirals")
    client.force_login(learner)
    page = client.get("/labs/spirals/?param_lr=50&param_epochs=nan").content.decode()
    assert re.search(r'name="param_lr" value="0.1"', page) and re.search(r'name="param_epochs" value="10"', page)


def test_parameter_advice_stays_in_bounds_and_moves() -> None:
    spec = {
        "lr": {"type": "float", "default": 0.1, "min": 0.001, "max": 1.0},
        "epochs": {"type": "int", "default": 10, "min": 1, "max": 15},
    }
    assert parameter_advice("diverging", spec, {"lr": 0.5}) == ("lr", 0.5, 0.05)
    assert parameter_advice("diverging", spec, {}) == ("lr", 0.1, 0.01)  # the default was used
    assert parameter_advice("diverging", spec, {"lr": 0.002}) == ("lr", 0.002, 0.001)  # the floor
    assert parameter_advice("diverging", spec, {"lr": 0.001}) is None  # nowhere to go
    assert parameter_advice("underfitting", spec, {"epochs": 10}) == ("epochs", 10, 15)
    assert parameter_advice("underfitting", spec, {"epochs": 15, "lr": 0.1}) == ("lr", 0.1, 0.3)
    assert parameter_advice("unstable", {}, {"lr": 0.5}) is None  # a lab without the parameter


@pytest.mark.django_db
def test_a_deadline_comes_first_until_the_lab_is_passed_or_too_late(learner: User, cohort: Cohort) -> None:
    lab = bare_lab("spirals")
    course("basics", 2)
    now = timezone.now()
    deadline = LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=now + dt.timedelta(days=2))
    steps = next_steps(learner, now=now)
    assert steps[0].kind == "deadline" and steps[0].title == "Lab spirals"
    assert steps[0].reason.startswith("Due ") and "Spring cohort" in steps[0].reason

    LabDeadline.objects.filter(pk=deadline.pk).update(due_at=now + dt.timedelta(days=30))
    assert "deadline" not in [s.kind for s in next_steps(learner, now=now)]  # not soon
    LabDeadline.objects.filter(pk=deadline.pk).update(due_at=now - dt.timedelta(days=2))
    assert next_steps(learner, now=now)[0].reason.startswith("Late: ")
    LabDeadline.objects.filter(pk=deadline.pk).update(due_at=now - dt.timedelta(days=cohort.late_cutoff_days + 1))
    assert "deadline" not in [s.kind for s in next_steps(learner, now=now)]
    LabDeadline.objects.filter(pk=deadline.pk).update(due_at=now + dt.timedelta(days=1))
    ended_run(learner, lab, LEARNING, score=0.95, passed=True)
    assert "deadline" not in [s.kind for s in next_steps(learner, now=now)]


@pytest.mark.django_db
def test_never_what_is_locked_unpublished_or_done(learner: User) -> None:
    descent = skill("gradient-descent")
    first = course("first", 2, skills=(descent,))
    second = course("second", 2, skills=(descent,))
    second.prerequisites.add(first)
    course("hidden", 2, skills=(descent,), published=False)
    bare_lab("draft", skills=(descent,), published=False)
    done = bare_lab("done", skills=(descent,))
    ended_run(learner, done, LEARNING, score=0.95, passed=True)
    a, b = lessons_of(first)
    complete(learner, a)
    urls = {s.url for s in next_steps(learner, limit=20)}
    assert b.get_absolute_url() in urls
    assert not {lesson.get_absolute_url() for lesson in lessons_of(second)} & urls  # behind a prerequisite
    assert a.get_absolute_url() not in urls and "/labs/done/" not in urls and "/labs/draft/" not in urls
    assert not [u for u in urls if "/hidden/" in u]
    complete(learner, b)  # the prerequisite done: the second course opens
    urls = {s.url for s in next_steps(learner, limit=20)}
    assert lessons_of(second)[0].get_absolute_url() in urls


@pytest.mark.django_db
def test_a_mentor_pins_hides_and_takes_back_and_the_learner_sees_it(
    client: Client, learner: User, mentor: User, cohort: Cohort
) -> None:
    descent = skill("gradient-descent")
    made = course("basics", 3, skills=(descent,))
    first, _second, third = lessons_of(made)
    client.force_login(mentor)
    page = client.get(f"/mentoring/mentees/{learner.username}/").content.decode()
    assert 'data-testid="mentee-next-steps"' in page and 'data-testid="skill-profile"' in page
    response = client.post(
        f"/coach/learners/{learner.username}/choices/",
        {"kind": "pin", "target": f"lesson:{third.pk}", "note": "Read this before Thursday's session"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#next-steps")
    steps = next_steps(learner)
    assert (steps[0].kind, steps[0].title, steps[0].reason) == (
        "pinned",
        third.title,
        "Read this before Thursday's session",
    )
    assert steps[0].label == f"Pinned by {mentor}"

    client.post(f"/coach/learners/{learner.username}/choices/", {"kind": "hide", "target": f"lesson:{first.pk}"})
    assert first.get_absolute_url() not in {s.url for s in next_steps(learner, limit=20)}

    client.force_login(learner)
    home = client.get("/").content.decode()
    assert "Read this before Thursday&#x27;s session" in home and 'data-kind="pinned"' in home
    assert (
        client.post(
            f"/coach/learners/{learner.username}/choices/", {"kind": "pin", "target": f"lesson:{first.pk}"}
        ).status_code
        == 404
    )

    client.force_login(mentor)
    for choice in Choice.objects.filter(learner=learner):
        client.post(f"/coach/learners/{learner.username}/choices/{choice.pk}/delete/")
    assert not Choice.objects.filter(learner=learner).exists()
    assert next_steps(learner)[0].kind != "pinned"


@pytest.mark.django_db
def test_a_pin_of_something_done_or_locked_is_refused_with_a_reason(
    client: Client, learner: User, mentor: User, cohort: Cohort
) -> None:
    first = course("first", 1)
    second = course("second", 1)
    second.prerequisites.add(first)
    complete(learner, lessons_of(first)[0])
    client.force_login(mentor)
    url = f"/coach/learners/{learner.username}/choices/"
    for target in (f"lesson:{lessons_of(first)[0].pk}", "lesson:999999", "nonsense"):
        page = client.post(url, {"kind": "pin", "target": target}, follow=True).content.decode()
        assert not Choice.objects.exists()
        assert "cannot take" in page or "Choose a lesson or a lab" in page
    stranger = UserFactory(role=Role.MENTOR)
    client.force_login(stranger)  # not this learner's mentor
    assert client.post(url, {"kind": "pin", "target": f"lesson:{lessons_of(second)[0].pk}"}).status_code == 404
    assert client.get(f"/mentoring/mentees/{learner.username}/").status_code == 404


@pytest.mark.django_db
def test_the_weakest_skill_is_chosen_with_its_reason(learner: User) -> None:
    strong, weak = skill("tensors", position=1), skill("evaluation", position=2)
    a = course("a", 2, skills=(strong,))
    b = course("b", 2, skills=(weak,))
    complete(learner, *lessons_of(a))
    complete(learner, lessons_of(b)[0])
    lab = bare_lab("metrics", skills=(weak,))
    ended_run(learner, lab, LEARNING, score=0.5, passed=False)
    step = next(s for s in next_steps(learner, limit=10) if s.kind == "skill")
    assert step.url == lessons_of(b)[1].get_absolute_url()
    assert step.reason == "Your weakest skill: Evaluation (developing, 43 of 100)."


@pytest.mark.django_db
def test_exercises_count_for_their_lessons_skills_as_they_are_tried(learner: User) -> None:
    from courses import services
    from tests.courses.exercise_lessons import exercise_lesson

    descent = skill("loss-functions")
    lesson = exercise_lesson()
    lesson.skills.set([descent])
    assert levels(learner)["loss-functions"] == ("not-started", 0)
    services.exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["3"])
    # lessons 0 of 1; exercises: one tried, unsolved (20): (0 + 20) / 2
    assert levels(learner)["loss-functions"] == ("beginning", 10)
    services.exercise_check(user=learner, lesson=lesson, exercise_id="mse-by-hand", answer=["2.5"])
    services.exercise_check(user=learner, lesson=lesson, exercise_id="tanh-or-sigmoid", answer=["1"])
    # solved on the second try (70) and on the first (100): (0 + 85) / 2
    assert levels(learner)["loss-functions"] == ("developing", 43)
    assert "Solved 2 of 2 exercises tried" in [e.text for e in skill_profile(learner)[0].evidence]


def _home_queries(client: Client, *, cold: bool) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/")
    if cold:
        cache.clear()
        client.force_login(User.objects.get(pk=int(client.session["_auth_user_id"])))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_home_asks_as_many_queries_however_much_the_learner_did(client: Client, learner: User) -> None:
    descent = skill("gradient-descent", diagnoses=("diverging",))
    made = course("basics", 4, skills=(descent,), fixes=("diverging",))
    labs = [bare_lab(f"lab-{n}", skills=(descent,)) for n in range(4)]
    Enrollment.objects.create(user=learner, course=made)
    ended_run(learner, labs[0], DIVERGING)
    client.force_login(learner)
    few = _home_queries(client, cold=True)
    for lab in labs[1:]:
        for _ in range(3):
            ended_run(learner, lab, DIVERGING)
    complete(learner, *lessons_of(made)[:2])
    for n in range(5):
        course(f"more-{n}", 2, skills=(descent,))
    many = _home_queries(client, cold=True)
    warm = _home_queries(client, cold=False)
    print(f"home queries: cold {few} then {many}, warm {warm}")
    assert many <= few  # no query per run, lesson, lab or course
    assert warm < few / 2  # the profile and the next steps kept until what they read changes


@pytest.mark.django_db
def test_kept_next_steps_follow_every_change_they_read(client: Client, learner: User, cohort: Cohort) -> None:
    made = course("basics", 3)
    first, second, third = lessons_of(made)
    Enrollment.objects.create(user=learner, course=made)
    client.force_login(learner)

    def shown() -> list[tuple[str, str]]:
        page = client.get("/").content.decode()
        return re.findall(r'data-kind="([a-z]+)" data-target="([a-z]+:\d+)"', page)

    assert ("continue", f"lesson:{first.pk}") in shown()
    client.get(second.get_absolute_url())  # reading moves on (an UPDATE, no signal)
    assert ("continue", f"lesson:{second.pk}") in shown()
    complete(learner, second)
    assert ("continue", f"lesson:{third.pk}") in shown()
    lab = bare_lab("spirals")
    LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=timezone.now() + dt.timedelta(days=1))
    assert shown()[0] == ("deadline", f"lab:{lab.pk}")
    Choice.objects.create(learner=learner, mentor=cohort.mentors.get(), kind="pin", lesson=first)
    assert shown()[0] == ("pinned", f"lesson:{first.pk}")


@pytest.mark.django_db
def test_the_api_gives_the_profile_and_the_next_steps_to_the_learner_and_their_mentor(
    learner: User, mentor: User, cohort: Cohort
) -> None:
    from rest_framework.test import APIClient

    descent = skill("gradient-descent", diagnoses=("diverging",))
    course("descent", 2, skills=(descent,), fixes=("diverging",))
    lab = bare_lab("spirals", skills=(descent,))
    run = ended_run(learner, lab, DIVERGING, params={"lr": 0.5})
    api = APIClient()
    api.force_authenticate(learner)
    mine = api.get("/api/v1/me/coach/").json()
    assert mine["skills"][0]["slug"] == "gradient-descent" and mine["skills"][0]["level"] == "beginning"
    assert {"text": f"Run #{run.pk} of Lab spirals: the loss grew", "url": run.get_absolute_url(), "sign": -1} in (
        mine["skills"][0]["evidence"]
    )
    assert mine["next_steps"][0] == {
        "kind": "parameter",
        "label": "Change a parameter",
        "title": "Try lr = 0.05 in Lab spirals",
        "url": "/labs/spirals/?param_lr=0.05#submit",
        "reason": f"Run #{run.pk}, with lr = 0.5: the loss grew.",
        "target": f"lab:{lab.pk}",
    }
    assert api.get(f"/api/v1/mentoring/mentees/{learner.username}/coach/").status_code == 404  # not her mentor
    api.force_authenticate(mentor)
    assert api.get(f"/api/v1/mentoring/mentees/{learner.username}/coach/").json() == mine
    api.force_authenticate(UserFactory(role=Role.MENTOR))
    assert api.get(f"/api/v1/mentoring/mentees/{learner.username}/coach/").status_code == 404
