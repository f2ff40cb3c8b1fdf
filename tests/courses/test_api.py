"""The curriculum API under /api/v1/: browsing paths, courses, modules and lessons; enrolling;
completing lessons; a learner's own progress; and its place in the API root and the OpenAPI schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from core.models import User
from courses.models import Course, CourseLevel, Lesson, PathCourse, Tag
from labs.models import Lab
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, PathFactory, course_with_lessons

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def api(learner: User) -> APIClient:
    return client_for(learner)


def slugs(body: dict) -> list[str]:
    return [item["slug"] for item in body["results"]]


def lessons_of(course: Course) -> list[Lesson]:
    return list(course.lessons.order_by("position"))


def enroll(client: APIClient, course: Course) -> None:
    assert client.post(f"/api/v1/courses/{course.slug}/enroll/").status_code in (200, 201)


def complete_all(client: APIClient, course: Course) -> None:
    for lesson in lessons_of(course):
        assert client.post(f"/api/v1/lessons/{lesson.pk}/complete/").status_code == 200


# --- browsing and visibility ---------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_browse_paths_courses_and_modules_but_not_lessons(anon: APIClient) -> None:
    course = course_with_lessons(slug="intro")
    path = PathFactory(slug="ml")
    PathCourse.objects.create(path=path, course=course, position=1)
    module = course.modules.order_by("position").first()
    lesson = lessons_of(course)[0]

    assert slugs(anon.get("/api/v1/paths/").json()) == ["ml"]
    assert anon.get("/api/v1/paths/ml/").json()["courses"][0]["slug"] == "intro"
    assert slugs(anon.get("/api/v1/courses/").json()) == ["intro"]
    assert anon.get("/api/v1/courses/intro/").status_code == 200
    assert anon.get("/api/v1/modules/").json()["count"] == 2
    assert anon.get(f"/api/v1/modules/{module.pk}/").json()["course"] == "intro"

    assert anon.get("/api/v1/lessons/").status_code in (401, 403)
    assert anon.get(f"/api/v1/lessons/{lesson.pk}/").status_code in (401, 403)
    assert anon.post("/api/v1/courses/intro/enroll/").status_code in (401, 403)
    assert anon.post(f"/api/v1/lessons/{lesson.pk}/complete/").status_code in (401, 403)
    assert anon.get("/api/v1/progress/").status_code in (401, 403)


@pytest.mark.django_db
def test_anonymous_course_list_shows_no_progress_or_enrollment(anon: APIClient) -> None:
    course_with_lessons(slug="intro", modules=1, lessons_per_module=3)
    item = anon.get("/api/v1/courses/").json()["results"][0]
    assert (item["lesson_total"], item["enrolled"]) == (3, False)
    assert item["progress"] == {"done": 0, "total": 3, "percent": 0, "complete": False}


@pytest.mark.django_db
def test_unpublished_courses_are_hidden_except_from_admins(anon: APIClient, api: APIClient, admin_user: User) -> None:
    course_with_lessons(slug="public")
    draft = course_with_lessons(slug="draft", published=False)
    path = PathFactory(slug="ml")
    PathCourse.objects.create(path=path, course=Course.objects.get(slug="public"), position=1)
    PathCourse.objects.create(path=path, course=draft, position=2)
    draft_module = draft.modules.first()
    draft_lesson = lessons_of(draft)[0]
    admin = client_for(admin_user)

    for client in (anon, api):
        assert slugs(client.get("/api/v1/courses/").json()) == ["public"]
        assert client.get("/api/v1/courses/draft/").status_code == 404
        assert {m["course"] for m in client.get("/api/v1/modules/").json()["results"]} == {"public"}
        assert client.get(f"/api/v1/modules/{draft_module.pk}/").status_code == 404
        assert [c["slug"] for c in client.get("/api/v1/paths/ml/").json()["courses"]] == ["public"]
    assert {lesson["course"] for lesson in api.get("/api/v1/lessons/").json()["results"]} == {"public"}
    assert api.get(f"/api/v1/lessons/{draft_lesson.pk}/").status_code == 404
    assert api.post("/api/v1/courses/draft/enroll/").status_code == 404
    assert api.post(f"/api/v1/lessons/{draft_lesson.pk}/complete/").status_code == 404

    assert sorted(slugs(admin.get("/api/v1/courses/").json())) == ["draft", "public"]
    detail = admin.get("/api/v1/courses/draft/").json()
    assert detail["published"] is False
    assert {m["course"] for m in admin.get("/api/v1/modules/").json()["results"]} == {"public", "draft"}
    assert admin.get(f"/api/v1/lessons/{draft_lesson.pk}/").status_code == 200
    assert [c["slug"] for c in admin.get("/api/v1/paths/ml/").json()["courses"]] == ["public", "draft"]


@pytest.mark.django_db
def test_admins_cannot_enroll_in_an_unpublished_course(admin_user: User) -> None:
    course_with_lessons(slug="draft", published=False)
    response = client_for(admin_user).post("/api/v1/courses/draft/enroll/")
    assert response.status_code == 400
    assert response.json()["errors"][0]
    assert response.json()["missing_prerequisites"] == []


@pytest.mark.django_db
def test_unpublished_paths_are_hidden_except_from_admins(anon: APIClient, admin_user: User) -> None:
    PathFactory(slug="live")
    PathFactory(slug="soon", published=False)
    assert slugs(anon.get("/api/v1/paths/").json()) == ["live"]
    assert anon.get("/api/v1/paths/soon/").status_code == 404
    assert slugs(client_for(admin_user).get("/api/v1/paths/").json()) == ["live", "soon"]


# --- catalog filters -----------------------------------------------------------------------------


@pytest.fixture
def catalog() -> None:
    vision = Tag.objects.create(slug="vision", name_en="Computer vision", name_zh="计算机视觉")
    nlp = Tag.objects.create(slug="nlp", name_en="Language", name_zh="自然语言")
    cnn = CourseFactory(
        slug="cnn", title_en="Convolutional networks", title_zh="卷积网络", level=CourseLevel.INTERMEDIATE
    )
    cnn.tags.add(vision)
    rnn = CourseFactory(slug="rnn", title_en="Sequence models", title_zh="序列模型", level=CourseLevel.ADVANCED)
    rnn.tags.add(nlp)
    CourseFactory(slug="basics", title_en="Python basics", title_zh="Python 基础", level=CourseLevel.BEGINNER)


@pytest.mark.django_db
@pytest.mark.usefixtures("catalog")
def test_course_list_is_ordered_by_level(anon: APIClient) -> None:
    assert slugs(anon.get("/api/v1/courses/").json()) == ["basics", "cnn", "rnn"]


@pytest.mark.django_db
@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"level": "advanced"}, ["rnn"]),
        ({"level": "beginner"}, ["basics"]),
        ({"tag": "vision"}, ["cnn"]),
        ({"tag": "nowhere"}, []),
        ({"q": "convolutional"}, ["cnn"]),  # English title, any case
        ({"q": "序列"}, ["rnn"]),  # Chinese title
        ({"q": "computer vision"}, ["cnn"]),  # English tag name
        ({"q": "自然语言"}, ["rnn"]),  # Chinese tag name
        ({"q": "  python "}, ["basics"]),  # trimmed
        ({"q": "python", "level": "advanced"}, []),
        ({"q": "models", "tag": "nlp", "level": "advanced"}, ["rnn"]),
        ({"q": "", "level": ""}, ["basics", "cnn", "rnn"]),  # empty means no filter
    ],
)
def test_course_list_filters(anon: APIClient, query: dict, expected: list[str]) -> None:
    response = anon.get("/api/v1/courses/", query)
    assert response.status_code == 200
    assert slugs(response.json()) == expected


@pytest.mark.django_db
@pytest.mark.usefixtures("catalog")
def test_course_list_rejects_an_invalid_level(anon: APIClient) -> None:
    response = anon.get("/api/v1/courses/", {"level": "expert"})
    assert response.status_code == 400
    assert "level" in response.json()


@pytest.mark.django_db
def test_a_course_with_several_tags_is_listed_once(anon: APIClient) -> None:
    course = CourseFactory(slug="mixed", title_en="Vision and language")
    course.tags.add(
        Tag.objects.create(slug="vision", name_en="Vision", name_zh="视觉"),
        Tag.objects.create(slug="nlp", name_en="Language", name_zh="语言"),
    )
    assert slugs(anon.get("/api/v1/courses/", {"q": "a"}).json()) == ["mixed"]
    assert anon.get("/api/v1/courses/").json()["results"][0]["tags"] == [
        {"slug": "nlp", "name": "Language"},
        {"slug": "vision", "name": "Vision"},
    ]


# --- course detail and language ------------------------------------------------------------------


@pytest.mark.django_db
def test_course_detail_has_ordered_modules_with_lesson_outlines_and_prerequisites(anon: APIClient) -> None:
    basics = CourseFactory(slug="basics")
    maths = CourseFactory(slug="maths")
    course = CourseFactory(slug="deep")
    course.prerequisites.add(maths, basics)
    lab = Lab.objects.create(slug="mnist", title_en="MNIST", starter_code="", metric="accuracy", threshold=0.9)
    # created out of order: the API must order by position, not by id
    second = ModuleFactory(course=course, slug="second", position=2)
    first = ModuleFactory(course=course, slug="first", position=1)
    LessonFactory(module=second, slug="c", position=4)
    LessonFactory(module=second, slug="b", position=3, lab=lab)
    LessonFactory(module=first, slug="a2", position=2)
    LessonFactory(module=first, slug="a1", position=1)

    body = anon.get("/api/v1/courses/deep/").json()

    assert body["prerequisites"] == ["basics", "maths"]
    assert body["lesson_total"] == 4
    assert [m["slug"] for m in body["modules"]] == ["first", "second"]
    assert [[lesson["slug"] for lesson in m["lessons"]] for m in body["modules"]] == [["a1", "a2"], ["b", "c"]]
    outline = body["modules"][1]["lessons"][0]
    assert set(outline) == {"id", "slug", "position", "title", "minutes", "lab"}  # an outline: no body
    assert (outline["position"], outline["lab"]) == (3, "mnist")
    assert body["modules"][0]["lessons"][0]["lab"] is None


@pytest.mark.django_db
def test_content_follows_accept_language_and_falls_back_to_english(anon: APIClient) -> None:
    course = CourseFactory(slug="nn", title_en="Neural networks", title_zh="神经网络", summary_zh="")
    module = ModuleFactory(course=course, slug="m", position=1, title_en="Basics", title_zh="")
    LessonFactory(module=module, slug="l", position=1, title_en="Perceptron", title_zh="感知机")

    english = anon.get("/api/v1/courses/nn/").json()
    assert english["title"] == "Neural networks"
    assert english["modules"][0]["lessons"][0]["title"] == "Perceptron"

    chinese = anon.get("/api/v1/courses/nn/", **ZH).json()
    assert chinese["title"] == "神经网络"
    assert chinese["summary"] == "What this course teaches."  # no Chinese summary: English
    assert chinese["modules"][0]["title"] == "Basics"  # no Chinese title: English
    assert chinese["modules"][0]["lessons"][0]["title"] == "感知机"
    assert anon.get("/api/v1/courses/", **ZH).json()["results"][0]["title"] == "神经网络"
    assert anon.get("/api/v1/modules/", **ZH).json()["results"][0]["lessons"][0]["title"] == "感知机"


@pytest.mark.django_db
def test_path_titles_and_tags_follow_accept_language(anon: APIClient) -> None:
    course = CourseFactory(slug="nn", title_zh="神经网络")
    course.tags.add(Tag.objects.create(slug="dl", name_en="Deep learning", name_zh="深度学习"))
    path = PathFactory(slug="ml", title_en="Machine learning", title_zh="机器学习")
    PathCourse.objects.create(path=path, course=course, position=1)
    body = anon.get("/api/v1/paths/ml/", **ZH).json()
    assert body["title"] == "机器学习"
    assert body["courses"][0]["title"] == "神经网络"
    assert body["courses"][0]["tags"] == [{"slug": "dl", "name": "深度学习"}]


# --- lessons -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lesson_detail_has_markdown_and_sanitised_html_with_math(api: APIClient) -> None:
    lesson = LessonFactory(
        body_en="# Sigmoid\n\nInline $x^2$ and\n\n$$\\sum_i x_i$$\n\n<script>alert('x')</script>\n",
        body_zh="",
    )

    body = api.get(f"/api/v1/lessons/{lesson.pk}/").json()

    assert body["body"] == lesson.body_en
    assert (body["course"], body["module"], body["position"]) == (lesson.course.slug, lesson.module_id, lesson.position)
    html = body["body_html"]
    assert "<h1>Sigmoid</h1>" in html
    assert 'class="math inline"' in html
    assert 'class="math block"' in html
    assert "<script" not in html
    assert body["url"] == lesson.get_absolute_url()
    assert api.get(f"/api/v1/lessons/{lesson.pk}/", **ZH).json()["body"] == lesson.body_en  # fallback


@pytest.mark.django_db
def test_lesson_body_follows_accept_language(api: APIClient) -> None:
    lesson = LessonFactory()
    body = api.get(f"/api/v1/lessons/{lesson.pk}/", **ZH).json()
    assert body["body"] == lesson.body_zh
    assert body["title"] == lesson.title_zh
    assert 'class="math inline"' in body["body_html"]


@pytest.mark.django_db
def test_lessons_filter_by_course_module_and_lab(api: APIClient) -> None:
    first = course_with_lessons(slug="first", modules=2, lessons_per_module=2)
    course_with_lessons(slug="second", modules=1, lessons_per_module=3)
    module = first.modules.get(position=2)
    lab = Lab.objects.create(slug="mnist", title_en="MNIST", starter_code="", metric="accuracy", threshold=0.9)
    Lesson.objects.filter(slug="second-l2").update(lab=lab)

    everything = api.get("/api/v1/lessons/").json()
    assert everything["count"] == 7
    assert [lesson["slug"] for lesson in api.get("/api/v1/lessons/", {"course": "first"}).json()["results"]] == [
        "first-l1",
        "first-l2",
        "first-l3",
        "first-l4",
    ]
    by_module = api.get("/api/v1/lessons/", {"module": module.pk}).json()["results"]
    assert [lesson["slug"] for lesson in by_module] == ["first-l3", "first-l4"]
    assert {lesson["module"] for lesson in by_module} == {module.pk}
    assert slugs(api.get("/api/v1/lessons/", {"has_lab": "true"}).json()) == ["second-l2"]
    assert api.get("/api/v1/lessons/", {"has_lab": "false"}).json()["count"] == 6
    assert api.get("/api/v1/lessons/", {"course": "nope"}).json()["count"] == 0
    assert api.get("/api/v1/lessons/", {"module": "x"}).status_code == 400


@pytest.mark.django_db
def test_modules_filter_by_course(anon: APIClient) -> None:
    course_with_lessons(slug="first", modules=2)
    course_with_lessons(slug="second", modules=3)
    modules = anon.get("/api/v1/modules/", {"course": "second"}).json()["results"]
    assert [m["slug"] for m in modules] == ["second-m1", "second-m2", "second-m3"]
    assert [[lesson["position"] for lesson in m["lessons"]] for m in modules] == [[1, 2], [3, 4], [5, 6]]


# --- enrolling -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enroll_is_201_then_200(api: APIClient, learner: User) -> None:
    course = course_with_lessons(slug="intro")

    first = api.post("/api/v1/courses/intro/enroll/")
    assert first.status_code == 201
    assert first.json()["course"] == "intro"
    assert first.json()["progress"] == {"done": 0, "total": 4, "percent": 0, "complete": False}
    again = api.post("/api/v1/courses/intro/enroll/")
    assert again.status_code == 200
    assert again.json()["enrolled_at"] == first.json()["enrolled_at"]
    assert course.enrollments.filter(user=learner).count() == 1
    assert api.get("/api/v1/courses/intro/").json()["enrolled"] is True


@pytest.mark.django_db
def test_enroll_is_refused_until_every_prerequisite_is_finished(api: APIClient) -> None:
    basics = course_with_lessons(slug="basics", modules=1, lessons_per_module=2)
    maths = course_with_lessons(slug="maths", modules=1, lessons_per_module=1)
    deep = course_with_lessons(slug="deep")
    deep.prerequisites.add(basics, maths)

    refused = api.post("/api/v1/courses/deep/enroll/")
    assert refused.status_code == 400
    assert refused.json()["missing_prerequisites"] == ["basics", "maths"]
    assert basics.title_en in refused.json()["errors"][0]

    enroll(api, maths)
    complete_all(api, maths)
    enroll(api, basics)
    api.post(f"/api/v1/lessons/{lessons_of(basics)[0].pk}/complete/")  # half of basics
    still = api.post("/api/v1/courses/deep/enroll/")
    assert still.status_code == 400
    assert still.json()["missing_prerequisites"] == ["basics"]

    api.post(f"/api/v1/lessons/{lessons_of(basics)[1].pk}/complete/")
    assert api.post("/api/v1/courses/deep/enroll/").status_code == 201


@pytest.mark.django_db
def test_refusal_message_follows_accept_language(api: APIClient) -> None:
    basics = course_with_lessons(slug="basics", modules=1, lessons_per_module=1, title_zh="基础")
    deep = course_with_lessons(slug="deep")
    deep.prerequisites.add(basics)
    response = api.post("/api/v1/courses/deep/enroll/", **ZH)
    assert response.status_code == 400
    assert "基础" in response.json()["errors"][0]


# --- completing lessons and progress -------------------------------------------------------------


@pytest.mark.django_db
def test_completing_a_lesson_needs_enrollment(api: APIClient, learner: User) -> None:
    course = course_with_lessons(slug="intro")
    lesson = lessons_of(course)[0]

    for method in (api.post, api.delete):
        response = method(f"/api/v1/lessons/{lesson.pk}/complete/")
        assert response.status_code == 400
        assert "Enroll" in response.json()["errors"][0]
    assert not learner.completions.exists()


@pytest.mark.django_db
def test_complete_reports_progress_is_idempotent_and_delete_uncompletes(api: APIClient, learner: User) -> None:
    course = course_with_lessons(slug="intro", modules=1, lessons_per_module=3)
    one, two, three = lessons_of(course)
    enroll(api, course)

    done = api.post(f"/api/v1/lessons/{one.pk}/complete/")
    assert done.status_code == 200
    assert done.json() == {"done": 1, "total": 3, "percent": 33, "complete": False}
    assert api.post(f"/api/v1/lessons/{one.pk}/complete/").json() == {
        "done": 1,
        "total": 3,
        "percent": 33,
        "complete": False,
    }
    api.post(f"/api/v1/lessons/{two.pk}/complete/")
    assert api.post(f"/api/v1/lessons/{three.pk}/complete/").json() == {
        "done": 3,
        "total": 3,
        "percent": 100,
        "complete": True,
    }
    assert learner.completions.count() == 3

    undone = api.delete(f"/api/v1/lessons/{two.pk}/complete/")
    assert undone.status_code == 200
    assert undone.json() == {"done": 2, "total": 3, "percent": 67, "complete": False}
    assert api.delete(f"/api/v1/lessons/{two.pk}/complete/").json()["done"] == 2  # idempotent too
    assert api.get("/api/v1/courses/intro/").json()["progress"]["done"] == 2


@pytest.mark.django_db
def test_a_learner_sees_only_their_own_progress(api: APIClient, other_learner: User) -> None:
    mine = course_with_lessons(slug="mine", modules=1, lessons_per_module=2)
    theirs = course_with_lessons(slug="theirs", modules=1, lessons_per_module=2)
    other = client_for(other_learner)
    enroll(other, mine)
    enroll(other, theirs)
    complete_all(other, mine)
    complete_all(other, theirs)
    enroll(api, mine)

    body = api.get("/api/v1/progress/").json()
    assert [c["slug"] for c in body["courses"]] == ["mine"]
    assert body["courses"][0]["progress"] == {"done": 0, "total": 2, "percent": 0, "complete": False}
    listed = {c["slug"]: c for c in api.get("/api/v1/courses/").json()["results"]}
    assert listed["theirs"]["enrolled"] is False
    assert listed["theirs"]["progress"]["done"] == 0
    assert api.get("/api/v1/courses/mine/").json()["progress"]["done"] == 0
    theirs_progress = other.get("/api/v1/progress/").json()["courses"]
    assert [(c["slug"], c["progress"]["complete"]) for c in theirs_progress] == [("mine", True), ("theirs", True)]


@pytest.mark.django_db
def test_progress_lists_enrolled_courses_and_the_paths_holding_them(api: APIClient) -> None:
    first = course_with_lessons(slug="first", modules=1, lessons_per_module=2)
    second = course_with_lessons(slug="second", modules=1, lessons_per_module=2)
    course_with_lessons(slug="unrelated", modules=1, lessons_per_module=2)
    path = PathFactory(slug="track")
    PathCourse.objects.create(path=path, course=second, position=1)
    PathCourse.objects.create(path=path, course=first, position=2)
    elsewhere = PathFactory(slug="elsewhere")
    PathCourse.objects.create(path=elsewhere, course=Course.objects.get(slug="unrelated"), position=1)
    enroll(api, first)
    api.post(f"/api/v1/lessons/{lessons_of(first)[0].pk}/complete/")

    body = api.get("/api/v1/progress/").json()
    assert [(c["slug"], c["enrolled"], c["progress"]["done"]) for c in body["courses"]] == [("first", True, 1)]
    assert [p["slug"] for p in body["paths"]] == ["track"]
    track = body["paths"][0]
    assert [c["slug"] for c in track["courses"]] == ["second", "first"]  # in path order
    assert track["progress"] == {"done": 1, "total": 4, "percent": 25, "complete": False}

    enroll(api, second)
    body = api.get("/api/v1/progress/").json()
    assert [c["slug"] for c in body["courses"]] == ["first", "second"]
    assert [p["slug"] for p in body["paths"]] == ["track"]  # once, though it holds both


@pytest.mark.django_db
def test_progress_is_empty_before_any_enrollment(api: APIClient) -> None:
    course_with_lessons(slug="intro")
    assert api.get("/api/v1/progress/").json() == {"courses": [], "paths": []}


# --- unknown objects -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/paths/nope/"),
        ("get", "/api/v1/courses/nope/"),
        ("post", "/api/v1/courses/nope/enroll/"),
        ("get", "/api/v1/modules/999999/"),
        ("get", "/api/v1/lessons/999999/"),
        ("post", "/api/v1/lessons/999999/complete/"),
        ("delete", "/api/v1/lessons/999999/complete/"),
    ],
)
def test_unknown_slugs_and_ids_are_404(api: APIClient, method: str, url: str) -> None:
    course_with_lessons(slug="intro")
    assert getattr(api, method)(url).status_code == 404


# --- API root and schema -------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_root_lists_the_curriculum_endpoints(anon: APIClient) -> None:
    body = anon.get("/api/v1/").json()
    for name in ("paths", "courses", "modules", "lessons", "progress"):
        assert body[name].endswith(f"/api/v1/{name}/")
        assert anon.get(body[name]).status_code in (200, 401, 403)


@pytest.mark.django_db
def test_openapi_schema_describes_the_curriculum_api(anon: APIClient, tmp_path: Path) -> None:
    paths = anon.get("/api/schema/", {"format": "json"}).json()["paths"]
    for url in (
        "/api/v1/paths/",
        "/api/v1/paths/{slug}/",
        "/api/v1/courses/",
        "/api/v1/courses/{slug}/",
        "/api/v1/courses/{slug}/enroll/",
        "/api/v1/modules/",
        "/api/v1/modules/{id}/",
        "/api/v1/lessons/",
        "/api/v1/lessons/{id}/",
        "/api/v1/lessons/{lesson_id}/complete/",
        "/api/v1/progress/",
    ):
        assert url in paths, url
    assert {"post", "delete"} <= set(paths["/api/v1/lessons/{lesson_id}/complete/"])
    assert {p["name"] for p in paths["/api/v1/courses/"]["get"]["parameters"]} >= {"q", "level", "tag"}
    assert {p["name"] for p in paths["/api/v1/lessons/"]["get"]["parameters"]} >= {"course", "module", "has_lab"}

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/progress/" in (tmp_path / "schema.yml").read_text()
