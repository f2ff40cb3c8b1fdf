"""What the coach's cached figures depend on, bumped from signals: a mentor's choice changes the
learner's generation; the skill catalogue and the skills of lessons and labs change the curriculum's."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from coach.models import Choice
from core.cache import cache_bump
from core.fragments import CURRICULUM, learners_changed
from courses.models import Lesson
from labs.models import Lab
from skills.models import Skill


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(choice_changed, sender=Choice, dispatch_uid=f"coach.choice.{signal}")
        signal.connect(skills_changed, sender=Skill, dispatch_uid=f"coach.skill.{signal}")
    for through in (Lesson.skills.through, Lab.skills.through):
        m2m_changed.connect(skills_changed, sender=through, dispatch_uid=f"coach.tags.{through.__name__}")


def choice_changed(sender: Any, *, instance: Choice, **kwargs: Any) -> None:
    learners_changed([instance.learner_id])


def skills_changed(sender: Any, **kwargs: Any) -> None:
    cache_bump(CURRICULUM)
