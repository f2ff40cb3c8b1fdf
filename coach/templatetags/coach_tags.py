"""The coach's panels, for pages of apps below it (a lab's page, a mentor's mentee page) and the home."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from coach.evidence import learner_facts
from coach.models import Choice
from coach.profile import profile_build, skill_profile
from coach.recommend import availability, next_steps_cached, steps_choose
from core.models import User
from courses.models import Lesson
from labs.models import Lab

register = template.Library()


@register.inclusion_tag("coach/_profile.html")
def skill_profile_panel(learner: User, mine: bool = True) -> dict[str, Any]:
    return {"levels": skill_profile(learner), "learner": learner, "mine": mine}


@register.inclusion_tag("coach/_next_steps.html", takes_context=True)
def next_steps_panel(context: template.Context, learner: User, lab: Lab | None = None) -> dict[str, Any]:
    return {
        "steps": next_steps_cached(learner, lab=lab),
        "lab": lab,
        "learner": learner,
        "request": context.get("request"),
    }


@register.inclusion_tag("coach/_mentor_steps.html", takes_context=True)
def mentor_steps_panel(context: template.Context, learner: User) -> dict[str, Any]:
    """A mentee's next steps as the mentor sees them: each can be hidden; their pins and hides, each
    can be taken back; and a form to pin what the learner can open and has not done."""
    facts = learner_facts(learner)
    able = availability(learner, facts)
    lessons = (
        Lesson.objects.filter(pk__in=[pk for pk in able.lesson_course if able.open_lesson(pk)])
        .select_related("course")
        .order_by("course__slug", "position")
    )
    groups: dict[str, list[tuple[str, str]]] = {}
    for lesson in lessons:
        groups.setdefault(lesson.course.title, []).append((f"lesson:{lesson.pk}", lesson.title))
    labs = [
        (f"lab:{pk}", lab.title)
        for pk, lab in sorted(facts.labs.items(), key=lambda i: i[1].title)
        if able.open_lab(pk)
    ]
    return {
        "learner": learner,
        "steps": steps_choose(learner, facts, profile_build(facts), now=timezone.now()),  # the facts read above
        "choices": Choice.objects.filter(learner=learner).select_related("lesson", "lab", "mentor"),
        "lesson_groups": sorted(groups.items()),
        "lab_options": labs,
        "csrf_token": context.get("csrf_token"),
    }
