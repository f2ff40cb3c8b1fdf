"""Load the demo curriculum (the "AI foundations for large models" path) from its folder, and give
the demo learner a course in progress so "continue where you left off" has something to show.
Idempotent: a second run changes nothing, and never resets what the demo learner did since."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from core.models import User
from courses.importing import ImportReport, curriculum_import
from courses.models import Course, Enrollment, LessonCompletion

DEMO_CURRICULUM = Path(__file__).resolve().parent / "demo" / "ai-foundations"
DEMO_LEARNER, DEMO_COURSE, DEMO_LESSONS_DONE = "learner", "neural-network-basics", 2


@transaction.atomic
def demo_curriculum_seed() -> ImportReport:
    report = curriculum_import(DEMO_CURRICULUM)
    learner = User.objects.filter(username=DEMO_LEARNER).first()
    course = Course.objects.get(slug=DEMO_COURSE)
    if learner is not None and not Enrollment.objects.filter(user=learner, course=course).exists():
        lessons = list(course.lessons.order_by("position")[: DEMO_LESSONS_DONE + 1])
        LessonCompletion.objects.bulk_create(LessonCompletion(user=learner, lesson=x) for x in lessons[:-1])
        Enrollment.objects.create(user=learner, course=course, last_lesson=lessons[-1])
    return report
