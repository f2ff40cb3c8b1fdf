"""Enrolling, prerequisites, completing lessons, progress and "continue where you left off"."""

from __future__ import annotations

import pytest
from django.utils import translation

from core.models import User
from courses import selectors, services
from courses.models import Course, Enrollment, Lesson
from tests.factories import course_with_lessons


@pytest.fixture
def basics(db: None) -> Course:
    return course_with_lessons(slug="basics", title_en="Basics", title_zh="基础", modules=2, lessons_per_module=2)


@pytest.fixture
def advanced(basics: Course) -> Course:
    course = course_with_lessons(slug="advanced", title_en="Advanced", title_zh="进阶")
    course.prerequisites.add(basics)
    return course


def finish(user: User, course: Course) -> None:
    services.enrollment_create(user=user, course=course)
    for lesson in course.lessons.all():
        services.lesson_complete(user=user, lesson=lesson)


def test_enrolling_twice_keeps_one_enrollment(learner: User, basics: Course) -> None:
    first = services.enrollment_create(user=learner, course=basics)
    assert services.enrollment_create(user=learner, course=basics) == first
    assert Enrollment.objects.filter(user=learner).count() == 1


def test_enrollment_is_refused_until_prerequisites_are_finished(
    learner: User, basics: Course, advanced: Course
) -> None:
    with pytest.raises(services.CourseActionRefused) as refused:
        services.enrollment_create(user=learner, course=advanced)
    assert refused.value.missing == [basics]
    assert "Basics" in refused.value.message
    services.enrollment_create(user=learner, course=basics)
    services.lesson_complete(user=learner, lesson=basics.lessons.first())
    with pytest.raises(services.CourseActionRefused):  # started is not finished
        services.enrollment_create(user=learner, course=advanced)
    finish(learner, basics)
    assert services.enrollment_create(user=learner, course=advanced).course == advanced


def test_refusal_names_missing_courses_in_the_learners_language(learner: User, advanced: Course) -> None:
    with translation.override("zh-hans"), pytest.raises(services.CourseActionRefused) as refused:
        services.enrollment_create(user=learner, course=advanced)
    assert "基础" in refused.value.message
    assert "Finish" not in refused.value.message


def test_an_unpublished_prerequisite_does_not_block_enrollment(learner: User, basics: Course, advanced: Course) -> None:
    basics.published = False
    basics.save()
    assert services.enrollment_create(user=learner, course=advanced).course == advanced


def test_unpublished_course_refuses_enrollment(learner: User, basics: Course) -> None:
    basics.published = False
    basics.save()
    with pytest.raises(services.CourseActionRefused):
        services.enrollment_create(user=learner, course=basics)


def test_completing_needs_enrollment(learner: User, basics: Course) -> None:
    with pytest.raises(services.CourseActionRefused):
        services.lesson_complete(user=learner, lesson=basics.lessons.first())


def test_progress_rises_with_each_completed_lesson_and_undo_lowers_it(learner: User, basics: Course) -> None:
    services.enrollment_create(user=learner, course=basics)
    lessons = list(basics.lessons.order_by("position"))
    percents = [services.lesson_complete(user=learner, lesson=lesson).percent for lesson in lessons]
    assert percents == [25, 50, 75, 100]
    assert services.lesson_complete(user=learner, lesson=lessons[0]).done == 4  # idempotent
    progress = services.lesson_uncomplete(user=learner, lesson=lessons[1])
    assert (progress.done, progress.total, progress.complete) == (3, 4, False)


def test_progress_is_per_learner(learner: User, other_learner: User, basics: Course) -> None:
    finish(learner, basics)
    services.enrollment_create(user=other_learner, course=basics)
    assert selectors.course_progress(user=other_learner, course=basics).done == 0


def test_continue_leads_to_the_lesson_last_read_then_to_the_next_not_done(learner: User, basics: Course) -> None:
    services.enrollment_create(user=learner, course=basics)
    lessons = list(basics.lessons.order_by("position"))
    [item] = selectors.learner_continue(learner)
    assert item.lesson == lessons[0]
    services.lesson_visit(user=learner, lesson=lessons[2])
    assert selectors.learner_continue(learner)[0].lesson == lessons[2]
    services.lesson_complete(user=learner, lesson=lessons[2])
    item = selectors.learner_continue(learner)[0]
    assert (item.lesson, item.progress.done) == (lessons[3], 1)
    services.lesson_complete(user=learner, lesson=lessons[3])
    assert selectors.learner_continue(learner)[0].lesson == lessons[0]  # wraps round to what is left
    finish(learner, basics)
    assert selectors.learner_continue(learner)[0].lesson is None


def test_continue_lists_the_most_recently_active_course_first(learner: User, basics: Course) -> None:
    other = course_with_lessons(slug="other")
    services.enrollment_create(user=learner, course=basics)
    services.enrollment_create(user=learner, course=other)
    services.lesson_visit(user=learner, lesson=basics.lessons.first())
    assert [item.course.slug for item in selectors.learner_continue(learner)] == ["basics", "other"]


def test_visiting_a_lesson_of_a_course_not_enrolled_records_nothing(learner: User, basics: Course) -> None:
    services.lesson_visit(user=learner, lesson=basics.lessons.first())
    assert not Enrollment.objects.exists()


def test_lessons_number_through_the_course_and_know_their_course(basics: Course) -> None:
    lessons = Lesson.objects.filter(course=basics).order_by("position")
    assert [lesson.position for lesson in lessons] == [1, 2, 3, 4]
    assert all(lesson.course_id == lesson.module.course_id for lesson in lessons)
    assert lessons[0].get_absolute_url() == f"/courses/basics/{lessons[0].slug}/"
