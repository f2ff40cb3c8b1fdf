"""Catalog, path, course and lesson pages, in both languages."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User
from courses import services
from courses.models import Course, LessonCompletion, PathCourse, Tag
from tests.factories import LessonFactory, PathFactory, course_with_lessons


@pytest.fixture
def basics(db: None) -> Course:
    course = course_with_lessons(slug="basics", title_en="Neural basics", title_zh="神经网络入门", level="beginner")
    course.tags.add(Tag.objects.create(slug="cnn", name_en="CNN", name_zh="卷积网络"))
    return course


@pytest.fixture
def advanced(basics: Course) -> Course:
    course = course_with_lessons(slug="advanced", title_en="Deep training", title_zh="深度训练", level="advanced")
    course.prerequisites.add(basics)
    return course


def zh(client: Client) -> Client:
    client.cookies["django_language"] = "zh-hans"
    return client


def test_catalog_is_public_and_lists_published_courses(client: Client, basics: Course, advanced: Course) -> None:
    Course.objects.create(slug="draft", title_en="Secret draft", published=False)
    html = client.get("/courses/").content.decode()
    assert "Neural basics" in html and "Deep training" in html
    assert "Secret draft" not in html


def test_administrators_preview_drafts(client: Client, admin_user: User, basics: Course) -> None:
    Course.objects.create(slug="draft", title_en="Secret draft", published=False)
    client.force_login(admin_user)
    assert "Secret draft" in client.get("/courses/").content.decode()
    assert client.get("/courses/draft/").status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=basics", {"basics"}),
        ("q=深度", {"advanced"}),  # Chinese title
        ("q=卷积", {"basics"}),  # Chinese tag name
        ("level=advanced", {"advanced"}),
        ("tag=cnn", {"basics"}),
        ("q=nothing-like-this", set()),
    ],
)
def test_catalog_search_and_filters(
    client: Client, basics: Course, advanced: Course, query: str, expected: set
) -> None:
    html = client.get(f"/courses/?{query}").content.decode()
    shown = {slug for slug in ("basics", "advanced") if f'data-testid="course-{slug}"' in html}
    assert shown == expected
    if not expected:
        assert 'data-testid="catalog-empty"' in html


def test_catalog_ignores_a_bad_filter_with_a_note(client: Client, basics: Course) -> None:
    response = client.get("/courses/?level=wizard")
    assert response.status_code == 200
    assert "Neural basics" in response.content.decode()
    assert "not understood" in response.content.decode()


def test_course_page_shows_syllabus_in_chinese(client: Client, basics: Course) -> None:
    html = zh(client).get("/courses/basics/").content.decode()
    assert "神经网络入门" in html and "教学大纲" in html
    for lesson in basics.lessons.all():
        assert lesson.title_zh in html


def test_english_is_the_fallback_for_missing_chinese(client: Client, basics: Course) -> None:
    basics.title_zh = ""
    basics.save()
    assert "Neural basics" in zh(client).get("/courses/basics/").content.decode()


def test_prerequisites_are_shown_and_enforced(client: Client, learner: User, basics: Course, advanced: Course) -> None:
    client.force_login(learner)
    html = client.get("/courses/advanced/").content.decode()
    assert 'data-testid="prerequisites-unmet"' in html and "Neural basics" in html
    response = client.post("/courses/advanced/enroll/", follow=True)
    assert "Finish these courses before you enroll: Neural basics." in response.content.decode()
    assert not advanced.enrollments.exists()


def test_enrolling_then_completing_a_lesson_raises_progress(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    client.post("/courses/basics/enroll/")
    lesson = basics.lessons.order_by("position").first()
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-percent="0"' in html and 'data-testid="complete-button"' in html
    response = client.post(f"{lesson.get_absolute_url()}complete/", follow=True)
    html = response.content.decode()
    assert 'data-percent="25"' in html  # on the next lesson, whose outline shows the course's progress
    assert LessonCompletion.objects.filter(user=learner, lesson=lesson).exists()
    client.post(f"{lesson.get_absolute_url()}complete/", {"undo": "1"})
    assert not LessonCompletion.objects.filter(user=learner, lesson=lesson).exists()


def _complete(client: Client, lesson: object, **data: str) -> object:
    return client.post(f"{lesson.get_absolute_url()}complete/", data, follow=True)


def test_marking_a_lesson_complete_opens_the_next_one_and_names_the_done_one(
    client: Client, learner: User, basics: Course
) -> None:
    client.force_login(learner)
    client.post("/courses/basics/enroll/")
    _, second, third, _ = basics.lessons.order_by("position")
    response = _complete(client, second)  # the last lesson of the first module: the next is in the second
    assert response.redirect_chain == [(third.get_absolute_url(), 302)]
    html = response.content.decode()
    assert f"“{second.title_en}” is complete." in html
    assert 'data-testid="complete-button"' in html  # the next lesson, not yet done
    assert f'data-testid="lesson-title">{third.title_en}<' in html


def test_completing_the_last_lesson_before_the_others_leads_to_the_course_page(
    client: Client, learner: User, basics: Course
) -> None:
    client.force_login(learner)
    client.post("/courses/basics/enroll/")
    last = basics.lessons.order_by("position").last()
    response = _complete(client, last)
    assert response.redirect_chain == [("/courses/basics/", 302)]
    html = response.content.decode()
    assert f"“{last.title_en}” is complete." in html and "Course complete" not in html


def test_completing_the_course_leads_to_the_course_page_saying_so(
    client: Client, learner: User, basics: Course
) -> None:
    client.force_login(learner)
    client.post("/courses/basics/enroll/")
    first, *others = basics.lessons.order_by("position")
    for lesson in others:
        services.lesson_complete(user=learner, lesson=lesson)
    response = _complete(client, first)  # the last one not done, though not the last in order
    assert response.redirect_chain == [("/courses/basics/", 302)]
    assert "Course complete — well done!" in response.content.decode()


def test_marking_a_lesson_not_done_stays_on_it(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    client.post("/courses/basics/enroll/")
    lesson = basics.lessons.order_by("position").first()
    services.lesson_complete(user=learner, lesson=lesson)
    response = _complete(client, lesson, undo="1")
    assert response.redirect_chain == [(lesson.get_absolute_url(), 302)]
    assert 'data-testid="complete-button"' in response.content.decode()


def test_lesson_page_offers_the_previous_and_next_lessons_by_title(
    client: Client, learner: User, basics: Course
) -> None:
    client.force_login(learner)
    first, second, third, fourth = basics.lessons.order_by("position")
    html = client.get(second.get_absolute_url()).content.decode()
    assert f"Next: {third.title_en} →" in html and f"← Previous: {first.title_en}" in html
    html = client.get(fourth.get_absolute_url()).content.decode()
    assert 'data-testid="lesson-next"' not in html and 'data-testid="lesson-course-end"' in html


def test_completing_without_enrollment_explains_what_to_do(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    lesson = basics.lessons.first()
    response = client.post(f"{lesson.get_absolute_url()}complete/", follow=True)
    assert "Enroll in the course to track your progress." in response.content.decode()
    assert not LessonCompletion.objects.exists()


def test_lesson_page_renders_math_and_links_previous_and_next(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    first, second, third, _ = basics.lessons.order_by("position")
    html = client.get(second.get_absolute_url()).content.decode()
    assert '<span class="math inline">' in html and "katex.min.js" in html
    assert f'href="{first.get_absolute_url()}" rel="prev"' in html
    assert f'href="{third.get_absolute_url()}" rel="next"' in html


def test_lesson_shows_its_lab(client: Client, learner: User, basics: Course) -> None:
    from labs.models import Lab

    lab = Lab.objects.create(
        slug="spirals", title_en="Two spirals", description_en="x", starter_code="x", metric="accuracy", threshold=0.9
    )
    lesson = LessonFactory(module=basics.modules.first(), position=9, slug="practice", lab=lab)
    client.force_login(learner)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert 'data-testid="lesson-lab"' in html and 'href="/labs/spirals/"' in html


def test_author_script_in_a_lesson_is_not_executed(client: Client, learner: User, basics: Course) -> None:
    lesson = basics.lessons.first()
    lesson.body_en = 'Hi <script>alert("x")</script> <img src=x onerror=alert(1)> [a](javascript:alert(1))'
    lesson.save()
    client.force_login(learner)
    html = client.get(lesson.get_absolute_url()).content.decode()
    assert '<script>alert("x")' not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;" in html  # shown as text, harmless
    assert 'href="javascript:' not in html


def test_lessons_need_sign_in(client: Client, basics: Course) -> None:
    lesson = basics.lessons.first()
    response = client.get(lesson.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_unknown_course_and_lesson_are_404(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    assert client.get("/courses/nope/").status_code == 404
    assert client.get("/courses/basics/nope/").status_code == 404
    assert client.post("/courses/nope/enroll/").status_code == 404


def test_path_page_shows_courses_in_order_and_progress(
    client: Client, learner: User, basics: Course, advanced: Course
) -> None:
    path = PathFactory(slug="foundations", title_en="Foundations", title_zh="基础路径")
    PathCourse.objects.create(path=path, course=advanced, position=2)
    PathCourse.objects.create(path=path, course=basics, position=1)
    client.force_login(learner)
    services.enrollment_create(user=learner, course=basics)
    for lesson in basics.lessons.all():
        services.lesson_complete(user=learner, lesson=lesson)
    html = client.get("/courses/paths/foundations/").content.decode()
    assert html.index("Neural basics") < html.index("Deep training")
    assert 'data-testid="path-progress" data-percent="50"' in html
    assert "基础路径" in zh(client).get("/courses/").content.decode()


def test_learner_home_offers_to_continue(client: Client, learner: User, basics: Course) -> None:
    client.force_login(learner)
    assert "You have not enrolled in a course yet." in client.get("/").content.decode()
    services.enrollment_create(user=learner, course=basics)
    second = basics.lessons.order_by("position")[1]
    client.get(second.get_absolute_url())
    html = client.get("/").content.decode()
    assert f'href="{second.get_absolute_url()}" data-testid="continue-lesson"' in html
