"""The demo curriculum that `seed_demo` loads: complete, bilingual, linked to the demo labs."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from core.markdown import render_markdown
from courses.models import Course, Enrollment, LearningPath, Lesson, LessonCompletion
from courses.services import lesson_complete
from labs.demo import DEMO_LAB_SLUGS

pytestmark = pytest.mark.django_db

COURSES = [
    "neural-network-basics",
    "training-neural-networks",
    "practice-image-classification",
    "large-models-in-practice",
]


@pytest.fixture
def seeded(db: None, settings: object, tmp_path: object) -> None:
    settings.DATASET_STORAGE_DIR = tmp_path
    call_command("seed_demo")


def test_the_path_holds_the_four_courses_in_order(seeded: None) -> None:
    path = LearningPath.objects.get(slug="ai-foundations")
    assert [step.course.slug for step in path.steps.order_by("position")] == COURSES
    assert path.title_zh == "大模型 AI 基础"


def test_every_text_exists_in_both_languages(seeded: None) -> None:
    for course in Course.objects.filter(slug__in=COURSES):
        assert course.title_en and course.title_zh and course.summary_en and course.summary_zh, course.slug
        assert course.lessons.count() >= 6, course.slug
        for module in course.modules.all():
            assert module.title_en and module.title_zh, module
    for lesson in Lesson.objects.all():
        assert lesson.title_en and lesson.title_zh, lesson
        assert len(lesson.body_en) > 1500 and len(lesson.body_zh) > 600, lesson  # real lessons, not stubs


def test_courses_before_the_last_link_the_demo_labs(seeded: None) -> None:
    for slug in COURSES[:3]:
        assert Lesson.objects.filter(course__slug=slug, lab__isnull=False).exists(), slug
    linked = set(Lesson.objects.filter(lab__isnull=False).values_list("lab__slug", flat=True))
    assert linked == set(DEMO_LAB_SLUGS)  # a lesson leads to every demo lab


def test_prerequisites_chain_the_courses(seeded: None) -> None:
    def prerequisites(slug: str) -> list[str]:
        return list(Course.objects.get(slug=slug).prerequisites.values_list("slug", flat=True))

    assert prerequisites("neural-network-basics") == []
    assert prerequisites("training-neural-networks") == ["neural-network-basics"]
    assert prerequisites("practice-image-classification") == ["training-neural-networks"]


def _outside_code(html: str) -> str:
    return re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", html, flags=re.DOTALL)


def test_every_dollar_in_the_lessons_is_parsed_as_math(seeded: None) -> None:
    """A stray or unbalanced ``$`` would show up as a literal dollar sign on the page."""
    for lesson in Lesson.objects.all():
        for language, body in (("en", lesson.body_en), ("zh", lesson.body_zh)):
            html = _outside_code(str(render_markdown(body)))
            text = re.sub(r'<(span|div) class="math (inline|block)">.*?</\1>', "", html, flags=re.DOTALL)
            assert "$" not in text, f"{lesson} ({language}) has a literal $"


def test_the_demo_learner_has_a_course_in_progress_and_reseeding_keeps_it(seeded: None) -> None:
    enrollment = Enrollment.objects.get(user__username="learner")
    assert enrollment.course.slug == "neural-network-basics"
    assert LessonCompletion.objects.filter(user__username="learner").count() == 2
    third = enrollment.course.lessons.order_by("position")[2]
    lesson_complete(user=enrollment.user, lesson=third)
    call_command("seed_demo")
    assert LessonCompletion.objects.filter(user__username="learner").count() == 3
    assert Lesson.objects.filter(course__slug__in=COURSES).count() == Lesson.objects.count()
