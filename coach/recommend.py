"""The next step: what a learner should do now — a lesson, a lab, or a parameter to change — each
with the one-line reason it was chosen. In order:

1. what their mentor pinned (``coach.models.Choice``), with the mentor's word;
2. a lab due in a cohort of theirs within ``DUE_SOON`` (or late, while it still counts) and not passed;
3. from their latest run a finding named (``labs.diagnosis``) on a lab not passed since: the
   parameter to change (from the finding and the lab's bounds) and the lesson that teaches the fix;
4. the lesson they were reading (``courses.selectors.learner_continue``);
5. their weakest skill's next lesson or lab (``coach.profile``);
6. a course they may start.

Never something locked (an unpublished course or lab, a course whose prerequisites are not done
and that they have not joined) or done (a lesson completed, a lab passed), never twice the same
thing, never what a mentor hid for them. ``bench coach`` checks these over generated cohorts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from coach.evidence import Gap, LearnerFacts, learner_facts
from coach.models import Choice
from coach.profile import SkillLevel, finding_words, profile_build, weakest
from cohorts.models import CohortMember, LabDeadline
from core.cache import cache_generations
from core.fragments import (
    CURRICULUM,
    cohort_generation,
    fragment,
    fragment_key,
    learner_generation,
    reading_generation,
)
from core.models import User
from courses.models import Course, Enrollment, Lesson
from courses.selectors import learner_continue
from labs.models import Lab

STEP_KINDS = ("pinned", "deadline", "parameter", "fix", "continue", "skill", "start")
DUE_SOON = dt.timedelta(days=7)
LIMIT = 3


@dataclass(frozen=True)
class Step:
    kind: str  # pinned, deadline, parameter, fix, continue, skill, start
    title: str
    url: str
    reason: str
    target: str  # "lesson:<id>" or "lab:<id>": what it points at (a mentor pins or hides by it)
    label: str = ""  # the kind, in words


@dataclass
class Availability:
    """What the learner may open and has not done."""

    completed: set[int]
    passed: set[int]
    labs: set[int]  # published labs
    enrolled: set[int]  # courses
    locked_courses: set[int]
    lesson_course: dict[int, int] = field(default_factory=dict)  # lessons of published courses

    def open_lesson(self, lesson_id: int) -> bool:
        course = self.lesson_course.get(lesson_id)
        return course is not None and course not in self.locked_courses and lesson_id not in self.completed

    def open_lab(self, lab_id: int) -> bool:
        return lab_id in self.labs and lab_id not in self.passed

    def open(self, target: str) -> bool:
        kind, _sep, pk = target.partition(":")
        return self.open_lesson(int(pk)) if kind == "lesson" else self.open_lab(int(pk))


def next_steps(
    learner: User, *, lab: Lab | None = None, limit: int = LIMIT, now: dt.datetime | None = None
) -> list[Step]:
    """The learner's next steps, best first (``lab``: only those about that lab and its skills, for its page)."""
    facts = learner_facts(learner)
    return steps_choose(learner, facts, profile_build(facts), lab=lab, limit=limit, now=now or timezone.now())


def next_steps_cached(learner: User, *, lab: Lab | None = None) -> list[Step]:
    """``next_steps``, kept until something they read changes: the learner's work and choices, where
    they read, the curriculum, their cohorts' deadlines — or the hour (deadlines come near)."""
    cohorts = sorted(CohortMember.objects.filter(learner=learner).values_list("cohort_id", flat=True))
    names = [
        CURRICULUM,
        learner_generation(learner.pk),
        reading_generation(learner.pk),
        *(cohort_generation(pk) for pk in cohorts),
    ]
    generations = cache_generations(*names)
    hour = timezone.now().strftime("%Y%m%d%H")
    key = fragment_key("next-steps", learner.pk, lab.pk if lab else "-", hour, *(generations[n] for n in names))
    return fragment(key, lambda: next_steps(learner, lab=lab))


def steps_choose(
    learner: User,
    facts: LearnerFacts,
    levels: list[SkillLevel],
    *,
    lab: Lab | None = None,
    limit: int = LIMIT,
    now: dt.datetime,
) -> list[Step]:
    able = availability(learner, facts)
    choices = list(Choice.objects.filter(learner=learner).select_related("mentor", "lesson__course", "lab"))
    hidden = {choice.target_key for choice in choices if choice.kind == Choice.Kind.HIDE}
    chosen: list[Step] = []

    def add(step: Step | None) -> bool:
        if step is None or step.target in hidden or not able.open(step.target):
            return False
        if any(s.target == step.target and s.kind == step.kind for s in chosen):
            return False
        if step.kind != "parameter" and any(s.target == step.target for s in chosen):
            return False
        chosen.append(step)
        return len(chosen) >= limit

    if lab is None:
        for choice in choices:
            if choice.kind == Choice.Kind.PIN and add(_pinned(choice)):
                return chosen
        for step in _deadlines(learner, facts, now):
            if add(step):
                return chosen
    for gap in _gaps_about(facts, lab):
        if add(_parameter(gap, facts)):
            return chosen
        for step in _fix_lessons(gap, able):
            if add(step):
                return chosen
    if lab is None:
        for step in _continue(learner):
            if add(step):
                return chosen
    for step in _skill_steps(levels, facts, able, lab):
        if add(step):
            return chosen
    if lab is None:
        for step in _courses_to_start(able):
            if add(step):
                return chosen
    return chosen


def availability(learner: User, facts: LearnerFacts) -> Availability:
    courses = Course.objects.filter(published=True).annotate(
        lesson_total=Count("lessons", distinct=True),
        lessons_done=Count("lessons", filter=Q(lessons__completions__user=learner), distinct=True),
    )
    complete = {c.pk for c in courses if c.lesson_total and c.lessons_done >= c.lesson_total}
    published = {c.pk for c in courses}
    enrolled = set(Enrollment.objects.filter(user=learner).values_list("course_id", flat=True))
    prerequisites = Course.prerequisites.through.objects.filter(
        from_course_id__in=published, to_course_id__in=published
    ).values_list("from_course_id", "to_course_id")
    locked = {course for course, needed in prerequisites if needed not in complete and course not in enrolled}
    return Availability(
        completed=facts.completed,
        passed=facts.passed,
        labs=set(facts.labs),
        enrolled=enrolled,
        locked_courses=locked,
        lesson_course=dict(Lesson.objects.filter(course_id__in=published).values_list("pk", "course_id")),
    )


def _lesson_step(lesson: Lesson, kind: str, reason: str, label: str) -> Step:
    return Step(kind, lesson.title, lesson.get_absolute_url(), reason, f"lesson:{lesson.pk}", label)


def _lab_step(lab_id: int, facts: LearnerFacts, kind: str, reason: str, label: str) -> Step:
    lab = facts.labs[lab_id]
    return Step(kind, lab.title, lab.url, reason, f"lab:{lab_id}", label)


def _pinned(choice: Choice) -> Step:
    name = str(choice.mentor)  # the name people see (display name, else username)
    reason = choice.note or _("Your mentor chose it for you.")
    label = _("Pinned by %(mentor)s") % {"mentor": name}
    if choice.lesson_id:
        return _lesson_step(choice.lesson, "pinned", reason, label)
    return Step("pinned", choice.lab.title, choice.lab.get_absolute_url(), reason, f"lab:{choice.lab_id}", label)


def _deadlines(learner: User, facts: LearnerFacts, now: dt.datetime) -> list[Step]:
    deadlines = (
        LabDeadline.objects.filter(cohort__members__learner=learner, lab__published=True, due_at__lte=now + DUE_SOON)
        .exclude(lab_id__in=facts.passed)
        .select_related("cohort", "lab")
        .order_by("due_at")
    )
    steps = []
    for deadline in deadlines:
        if deadline.due_at < now - dt.timedelta(days=deadline.cohort.late_cutoff_days):
            continue  # too late to count
        when = date_format(timezone.localtime(deadline.due_at), "DATETIME_FORMAT")
        if deadline.due_at < now:
            reason = _("Late: it was due %(when)s in %(cohort)s, and still counts for a few days.")
        else:
            reason = _("Due %(when)s in %(cohort)s, and not passed yet.")
        reason = reason % {"when": when, "cohort": deadline.cohort.name}
        steps.append(_lab_step(deadline.lab_id, facts, "deadline", reason, _("Deadline")))
    return steps


def _gaps_about(facts: LearnerFacts, lab: Lab | None) -> list[Gap]:
    """The findings to act on: the latest run's (newest first), or those on ``lab``."""
    if lab is not None:
        return [gap for gap in facts.gaps if gap.lab_id == lab.pk]
    newest = facts.gaps[0].run_id if facts.gaps else None
    return [gap for gap in facts.gaps if gap.run_id == newest]


# finding -> (parameter, factor) tried in order: the first the lab has and can still move wins
ADVICE: dict[str, tuple[tuple[str, float], ...]] = {
    "nan_loss": (("lr", 0.1),),
    "diverging": (("lr", 0.1),),
    "unstable": (("lr", 1 / 3),),
    "not_learning": (("lr", 10.0),),
    "underfitting": (("epochs", 2.0), ("lr", 3.0)),
    "time_limit_while_improving": (("lr", 2.0), ("batch_size", 2.0)),
    "overfitting": (("weight_decay", 10.0), ("dropout", None), ("epochs", 0.5)),  # dropout: + 0.2
    "below_threshold_close": (("epochs", 1.5),),
}


def parameter_advice(code: str, spec: dict[str, Any], used: dict[str, Any]) -> tuple[str, Any, Any] | None:
    """(parameter, value used, value to try) for a finding on a run of a lab with hyper-parameters
    ``spec``: within the lab's bounds, and only a change that moves the value."""
    for name, factor in ADVICE.get(code, ()):
        bounds = spec.get(name)
        if not isinstance(bounds, dict):
            continue
        current = used.get(name, bounds.get("default"))
        if not isinstance(current, int | float) or isinstance(current, bool):
            continue
        low, high = bounds.get("min", -math.inf), bounds.get("max", math.inf)
        if factor is None:
            proposed: float = current + 0.2
        elif current == 0 and factor > 1:
            proposed = bounds.get("default") or 0
        else:
            proposed = current * factor
        proposed = min(max(proposed, low), high)
        proposed = round(proposed) if bounds.get("type") == "int" else float(f"{proposed:.3g}")
        if proposed != current:
            return name, current, proposed
    return None


def _parameter(gap: Gap, facts: LearnerFacts) -> Step | None:
    lab = Lab.objects.filter(pk=gap.lab_id).only("params", "slug").first()
    advice = parameter_advice(gap.code, lab.params if lab else {}, gap.params)
    if advice is None:
        return None
    name, used, proposed = advice
    lab_fact = facts.labs[gap.lab_id]
    url = f"{lab_fact.url}?{urlencode({f'param_{name}': proposed})}#submit"
    title = _("Try %(name)s = %(value)s in %(lab)s") % {"name": name, "value": f"{proposed:g}", "lab": lab_fact.title}
    reason = _("Run #%(run)d, with %(name)s = %(used)s: %(finding)s.") % {
        "run": gap.run_id,
        "finding": finding_words(gap.code),
        "name": name,
        "used": f"{used:g}",
    }
    return Step("parameter", title, url, reason, f"lab:{gap.lab_id}", _("Change a parameter"))


def _fix_lessons(gap: Gap, able: Availability) -> list[Step]:
    lessons = (
        Lesson.objects.filter(pk__in=able.lesson_course)
        .exclude(fixes=[])
        .select_related("course")
        .order_by("course__slug", "module__position", "position")
    )
    reason = _("It teaches the fix for what run #%(run)d showed: %(finding)s.") % {
        "run": gap.run_id,
        "finding": finding_words(gap.code),
    }
    return [
        _lesson_step(lesson, "fix", reason, _("Fix what went wrong")) for lesson in lessons if gap.code in lesson.fixes
    ]


def _continue(learner: User) -> list[Step]:
    steps = []
    for item in learner_continue(learner, limit=1):
        if item.lesson is not None:
            reason = _("You were reading %(course)s.") % {"course": item.course.title}
            steps.append(_lesson_step(item.lesson, "continue", reason, _("Continue")))
    return steps


def _skill_steps(levels: list[SkillLevel], facts: LearnerFacts, able: Availability, lab: Lab | None) -> list[Step]:
    """For the weakest skills first: its next open lesson, then its next open lab."""
    by_slug = {skill.slug: skill for skill in facts.skills}
    wanted = weakest(levels)
    if lab is not None:
        tagged = set(Lab.skills.through.objects.filter(lab=lab).values_list("skill__slug", flat=True))
        wanted = [level for level in wanted if level.slug in tagged]
    lesson_ids = [pk for level in wanted for pk in facts.skill_lessons.get(by_slug[level.slug].pk, [])]
    lessons = Lesson.objects.filter(pk__in=lesson_ids).select_related("course").in_bulk()
    steps = []
    for level in wanted:
        skill = by_slug[level.slug]
        if level.started:
            reason = _("Your weakest skill: %(skill)s (%(level)s, %(score)d of 100).")
        else:
            reason = _("A skill you have not started: %(skill)s.")
        reason = reason % {"skill": level.name, "level": level.level_label, "score": level.score}
        label = _("Build a skill")
        lesson = next(
            (lessons[pk] for pk in facts.skill_lessons.get(skill.pk, []) if able.open_lesson(pk) and pk in lessons),
            None,
        )
        if lesson is not None:
            steps.append(_lesson_step(lesson, "skill", reason, label))
        lab_id = next(
            (pk for pk in facts.skill_labs.get(skill.pk, []) if able.open_lab(pk) and (lab is None or pk != lab.pk)),
            None,
        )
        if lab_id is not None:
            steps.append(_lab_step(lab_id, facts, "skill", reason, label))
    return steps


def _courses_to_start(able: Availability) -> Iterator[Step]:
    """Courses not joined and open, each by its first lesson (asked one course at a time: the
    caller stops once it has enough)."""
    courses = Course.objects.filter(published=True).exclude(pk__in=able.enrolled | able.locked_courses).order_by("slug")
    for course in courses.iterator():
        lesson = course.lessons.order_by("position").select_related("course").first()
        if lesson is not None and able.open_lesson(lesson.pk):
            reason = _("A course you can start: %(course)s.") % {"course": course.title}
            yield _lesson_step(lesson, "start", reason, _("Start a course"))
