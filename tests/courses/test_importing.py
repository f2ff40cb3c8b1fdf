"""Moving courses between folders and the database: import creates, re-import changes nothing, an
edited folder updates in place without losing learners' progress, and a bad folder changes nothing."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from core.models import User
from courses.course_files import Bilingual, CourseData, CourseFormatError, LessonData, ModuleData, PathData, TagData
from courses.course_writer import course_write, path_write
from courses.importing import course_data, curriculum_import, path_data
from courses.models import Course, Enrollment, LearningPath, Lesson, LessonCompletion, Module, PathCourse, Tag
from labs.models import Lab

DEMO_COURSE = Path(__file__).resolve().parents[2] / "courses" / "demo" / "ai-foundations" / "neural-network-basics"
DEMO_LABS = ["linear-regression", "two-spirals", "digits-mlp"]


def lab_create(slug: str) -> Lab:
    return Lab.objects.create(
        slug=slug, title_en=slug, description_en="x", starter_code="x", metric="accuracy", threshold=0.9
    )


@pytest.fixture
def demo_labs(db: None) -> list[Lab]:
    return [lab_create(slug) for slug in DEMO_LABS]


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo course folder, copied so a test can edit it (with its path's skill catalogue beside it)."""
    shutil.copy(DEMO_COURSE.parent / "skills.yaml", tmp_path / "skills.yaml")
    return Path(shutil.copytree(DEMO_COURSE, tmp_path / "neural-network-basics"))


def snapshot() -> dict[str, Any]:
    """Every row the importer writes, with primary keys and timestamps: equal snapshots mean nothing was touched."""
    return {
        "courses": list(Course.objects.order_by("pk").values()),
        "modules": list(Module.objects.order_by("pk").values()),
        "lessons": list(Lesson.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values()),
        "course_tags": list(Course.tags.through.objects.order_by("pk").values()),
        "prerequisites": list(Course.prerequisites.through.objects.order_by("pk").values()),
        "paths": list(LearningPath.objects.order_by("pk").values()),
        "steps": list(PathCourse.objects.order_by("pk").values()),
        "completions": list(LessonCompletion.objects.order_by("pk").values()),
    }


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def small_course(slug: str, *, prerequisites: list[str] | None = None, lessons: int = 2) -> CourseData:
    return CourseData(
        slug=slug,
        title=Bilingual(f"Course {slug}", f"课程 {slug}"),
        summary=Bilingual("About it.", "关于它。"),
        level="beginner",
        tags=[],
        estimated_hours=Decimal("1.5"),
        prerequisites=prerequisites or [],
        published=True,
        modules=[
            ModuleData(
                slug="only",
                title=Bilingual("Only module", "唯一模块"),
                summary=Bilingual(""),
                lessons=[
                    LessonData(
                        slug=f"{slug}-l{n}",
                        title=Bilingual(f"Lesson {n}", f"第 {n} 课"),
                        body=Bilingual(f"Text {n}.", f"正文 {n}。"),
                        minutes=5,
                    )
                    for n in range(1, lessons + 1)
                ],
            )
        ],
    )


def course_folder(tmp_path: Path, course: CourseData) -> Path:
    folder = tmp_path / course.slug
    if folder.exists():
        shutil.rmtree(folder)
    course_write(course, folder)
    return folder


def import_fails(folder: Path, **options: bool) -> str:
    """Import ``folder`` expecting refusal; check the database is untouched and return the problems."""
    before = snapshot()
    with pytest.raises(CourseFormatError) as caught:
        curriculum_import(folder, **options)
    assert snapshot() == before
    return "\n".join(caught.value.problems)


def lesson_of(slug: str) -> Lesson:
    return Lesson.objects.get(course__slug="neural-network-basics", slug=slug)


# --- the demo course -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_course_import_creates_course_modules_lessons_and_tags_in_both_languages(demo_labs: list[Lab]) -> None:
    report = curriculum_import(DEMO_COURSE)

    course = Course.objects.get(slug="neural-network-basics")
    assert (course.title_en, course.title_zh) == ("Neural network basics", "神经网络基础")
    assert course.summary_en.startswith("Every large model") and course.summary_zh.startswith("无论是图像分类器")
    assert (course.level, course.estimated_hours, course.published) == ("beginner", Decimal("4"), True)
    assert sorted(course.tags.values_list("slug", "name_zh")) == [
        ("activation-functions", "激活函数"),
        ("fundamentals", "基础"),
        ("neural-networks", "神经网络"),
        ("pytorch", "PyTorch"),
    ]
    assert list(course.modules.order_by("position").values_list("slug", "position", "title_zh")) == [
        ("neurons", 1, "人工神经元"),
        ("activation-functions", 2, "激活函数"),
        ("forward-pass", 3, "前向传播"),
    ]
    lessons = list(course.lessons.order_by("position").select_related("module", "lab"))
    assert [lesson.position for lesson in lessons] == list(range(1, 10))
    assert [lesson.module.slug for lesson in lessons] == ["neurons"] * 3 + ["activation-functions"] * 3 + [
        "forward-pass"
    ] * 3
    assert all(lesson.title_en and lesson.title_zh and lesson.body_en and lesson.body_zh for lesson in lessons)
    assert "$$" in lessons[0].body_en and "$$" in lessons[0].body_zh
    assert "<!-- lang" not in lessons[0].body_en + lessons[0].body_zh
    assert {lesson.slug: lesson.lab.slug for lesson in lessons if lesson.lab} == {
        "one-neuron-regression": "linear-regression",
        "relu-and-choosing": "two-spirals",
        "forward-pass-in-pytorch": "digits-mlp",
    }
    assert lesson_of("neuron-geometry").minutes == 10
    assert report.counts == {
        "skills created": 11,  # the path's catalogue (skills.yaml), imported with the course
        "courses created": 1,
        "tags created": 4,
        "modules created": 3,
        "lessons created": 9,
    }
    assert sorted(lesson_of("relu-and-choosing").skills.values_list("slug", flat=True)) == ["activation-functions"]
    assert report.courses == ["neural-network-basics"]


@pytest.mark.django_db
def test_importing_the_same_folder_again_changes_nothing(demo_labs: list[Lab]) -> None:
    curriculum_import(DEMO_COURSE)
    before = snapshot()

    report = curriculum_import(DEMO_COURSE)

    assert report.summary() == "nothing changed"
    assert report.counts == {
        "courses unchanged": 1,
        "tags unchanged": 4,
        "modules unchanged": 3,
        "lessons unchanged": 9,
    }
    assert snapshot() == before


@pytest.mark.django_db
def test_import_export_import_changes_nothing_and_export_import_export_is_byte_identical(
    demo_labs: list[Lab], tmp_path: Path
) -> None:
    curriculum_import(DEMO_COURSE)
    before = snapshot()

    course_write(course_data(Course.objects.get(slug="neural-network-basics")), tmp_path / "first")
    report = curriculum_import(tmp_path / "first")
    course_write(course_data(Course.objects.get(slug="neural-network-basics")), tmp_path / "second")

    assert report.summary() == "nothing changed"
    assert snapshot() == before
    assert folder_bytes(tmp_path / "first") == folder_bytes(tmp_path / "second")
    assert len(folder_bytes(tmp_path / "first")) == 1 + 3 + 9


# --- an edited folder ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_edited_folder_updates_lessons_in_place_keeping_progress(
    demo_labs: list[Lab], demo_copy: Path, learner: User
) -> None:
    curriculum_import(demo_copy)
    pks = dict(Lesson.objects.values_list("slug", "pk"))
    moved = lesson_of("what-a-neuron-computes")
    completion = LessonCompletion.objects.create(user=learner, lesson=moved)
    enrollment = Enrollment.objects.create(user=learner, course=moved.course, last_lesson=moved)
    (demo_copy / "01-neurons/01-what-a-neuron-computes.md").rename(
        demo_copy / "03-forward-pass/04-what-a-neuron-computes.md"
    )
    sigmoid = demo_copy / "02-activation-functions/02-sigmoid-and-tanh.md"
    sigmoid.write_text(sigmoid.read_text(encoding="utf-8").replace("en: Sigmoid and tanh", "en: S-curves"))
    (demo_copy / "02-activation-functions/04-leaky-relu.md").write_text(
        "---\ntitle: {en: Leaky ReLU, zh: 带泄漏的 ReLU}\nminutes: 6\n---\n<!-- lang: en -->\nA small slope.\n"
        "<!-- lang: zh -->\n一个小斜率。\n",
        encoding="utf-8",
    )

    report = curriculum_import(demo_copy)

    assert report.counts["lessons created"] == 1
    assert report.counts["lessons deleted"] == 0
    moved.refresh_from_db()
    assert moved.module.slug == "forward-pass"
    assert LessonCompletion.objects.filter(pk=completion.pk, lesson=moved).exists()
    enrollment.refresh_from_db()
    assert enrollment.last_lesson == moved
    assert (lesson_of("sigmoid-and-tanh").title_en, lesson_of("sigmoid-and-tanh").title_zh) == (
        "S-curves",
        "Sigmoid 与 tanh",
    )
    new = lesson_of("leaky-relu")
    assert (new.title_zh, new.body_zh, new.minutes, new.module.slug) == (
        "带泄漏的 ReLU",
        "一个小斜率。",
        6,
        "activation-functions",
    )
    assert {slug: pk for slug, pk in Lesson.objects.values_list("slug", "pk") if slug != "leaky-relu"} == pks
    order = list(Lesson.objects.order_by("position").values_list("position", "module__slug", "slug"))
    assert [position for position, _, _ in order] == list(range(1, 11))
    assert [(module, slug) for _, module, slug in order] == [
        ("neurons", "neuron-geometry"),
        ("neurons", "one-neuron-regression"),
        ("activation-functions", "why-nonlinearity"),
        ("activation-functions", "sigmoid-and-tanh"),
        ("activation-functions", "relu-and-choosing"),
        ("activation-functions", "leaky-relu"),
        ("forward-pass", "layers-as-matrices"),
        ("forward-pass", "worked-forward-pass"),
        ("forward-pass", "forward-pass-in-pytorch"),
        ("forward-pass", "what-a-neuron-computes"),
    ]


@pytest.mark.django_db
def test_reordered_and_renamed_modules_keep_lessons_and_drop_the_old_module(
    demo_labs: list[Lab], demo_copy: Path, learner: User
) -> None:
    curriculum_import(demo_copy)
    pks = dict(Lesson.objects.values_list("slug", "pk"))
    LessonCompletion.objects.create(user=learner, lesson=lesson_of("neuron-geometry"))
    (demo_copy / "01-neurons").rename(demo_copy / "04-single-neurons")

    report = curriculum_import(demo_copy)

    assert report.counts["modules created"] == 1 and report.counts["modules deleted"] == 1
    assert list(Module.objects.order_by("position").values_list("slug", "position")) == [
        ("activation-functions", 1),
        ("forward-pass", 2),
        ("single-neurons", 3),
    ]
    assert dict(Lesson.objects.values_list("slug", "pk")) == pks
    assert lesson_of("neuron-geometry").module.slug == "single-neurons"
    assert lesson_of("neuron-geometry").position == 8
    assert LessonCompletion.objects.filter(lesson__slug="neuron-geometry").count() == 1


@pytest.mark.django_db
def test_removing_a_completed_lesson_fails_naming_it_and_prune_deletes_it(
    demo_labs: list[Lab], demo_copy: Path, learner: User, other_learner: User
) -> None:
    curriculum_import(demo_copy)
    for user in (learner, other_learner):
        LessonCompletion.objects.create(user=user, lesson=lesson_of("neuron-geometry"))
    (demo_copy / "01-neurons/02-neuron-geometry.md").unlink()

    problems = import_fails(demo_copy)

    assert "neural-network-basics/neuron-geometry" in problems
    assert "2 learner(s)" in problems
    assert "--prune" in problems

    report = curriculum_import(demo_copy, prune=True)

    assert report.counts["lessons deleted"] == 1
    assert not Lesson.objects.filter(slug="neuron-geometry").exists()
    assert not LessonCompletion.objects.exists()
    assert list(Lesson.objects.order_by("position").values_list("position", flat=True)) == list(range(1, 9))


@pytest.mark.django_db
def test_removed_lesson_nobody_completed_is_deleted_without_prune(
    demo_labs: list[Lab], demo_copy: Path, learner: User
) -> None:
    curriculum_import(demo_copy)
    LessonCompletion.objects.create(user=learner, lesson=lesson_of("what-a-neuron-computes"))
    (demo_copy / "01-neurons/02-neuron-geometry.md").unlink()

    report = curriculum_import(demo_copy)

    assert report.summary() == "lessons deleted: 1, lessons updated: 7"
    assert not Lesson.objects.filter(slug="neuron-geometry").exists()
    assert LessonCompletion.objects.filter(lesson=lesson_of("what-a-neuron-computes")).count() == 1


# --- references that do not resolve --------------------------------------------------------------


@pytest.mark.django_db
def test_link_to_a_missing_lab_fails_and_changes_nothing(demo_labs: list[Lab], demo_copy: Path) -> None:
    curriculum_import(demo_copy)
    lesson_file = demo_copy / "01-neurons/01-what-a-neuron-computes.md"
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(text.replace("minutes: 10", "minutes: 11\nlab: no-such-lab"), encoding="utf-8")

    problems = import_fails(demo_copy)

    assert problems == "neural-network-basics/what-a-neuron-computes: lab 'no-such-lab' does not exist"


@pytest.mark.django_db
def test_first_import_with_a_missing_lab_creates_nothing(db: None) -> None:
    problems = import_fails(DEMO_COURSE)

    assert "lab 'linear-regression' does not exist" in problems
    assert "lab 'two-spirals' does not exist" in problems
    assert not Course.objects.exists()


@pytest.mark.django_db
def test_missing_prerequisite_course_fails_and_changes_nothing(tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("alpha")))
    folder = course_folder(tmp_path, small_course("alpha", prerequisites=["no-such-course"], lessons=3))

    problems = import_fails(folder)

    assert problems == "alpha: prerequisite 'no-such-course' is not a course here"


@pytest.mark.django_db
def test_prerequisite_on_an_existing_course_is_linked(tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("alpha")))

    curriculum_import(course_folder(tmp_path, small_course("beta", prerequisites=["alpha"])))

    assert list(Course.objects.get(slug="beta").prerequisites.values_list("slug", flat=True)) == ["alpha"]


@pytest.mark.django_db
def test_prerequisite_cycle_across_two_imports_fails_and_changes_nothing(tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("alpha")))
    curriculum_import(course_folder(tmp_path, small_course("beta", prerequisites=["alpha"])))
    folder = course_folder(tmp_path, small_course("alpha", prerequisites=["beta"]))

    problems = import_fails(folder)

    assert problems == "alpha: prerequisites loop back to this course"
    assert not Course.objects.get(slug="alpha").prerequisites.exists()


# --- path folders --------------------------------------------------------------------------------


def path_folder(tmp_path: Path, courses: list[str]) -> Path:
    folder = tmp_path / "path"
    if folder.exists():
        shutil.rmtree(folder)
    path = PathData(
        slug="starter-path",
        title=Bilingual("Starter path", "入门路径"),
        summary=Bilingual("Three courses in a row.", "连续三门课。"),
        courses=courses,
        published=True,
    )
    data = [
        small_course("alpha"),
        small_course("beta", prerequisites=["alpha"]),
        small_course("gamma", prerequisites=["alpha", "beta"]),
    ]
    path_write(path, data, folder)
    return folder


def steps() -> list[tuple[int, str]]:
    return list(PathCourse.objects.order_by("position").values_list("position", "course__slug"))


@pytest.mark.django_db
def test_path_folder_imports_its_courses_prerequisites_and_ordered_steps(tmp_path: Path) -> None:
    report = curriculum_import(path_folder(tmp_path, ["alpha", "beta", "gamma"]))

    assert report.paths == ["starter-path"]
    assert report.summary() == "courses created: 3, lessons created: 6, modules created: 3, paths created: 1"
    assert sorted(report.courses) == ["alpha", "beta", "gamma"]
    path = LearningPath.objects.get(slug="starter-path")
    assert (path.title_zh, path.summary_en) == ("入门路径", "Three courses in a row.")
    assert steps() == [(1, "alpha"), (2, "beta"), (3, "gamma")]
    prerequisites = {c.slug: sorted(c.prerequisites.values_list("slug", flat=True)) for c in Course.objects.all()}
    assert prerequisites == {"alpha": [], "beta": ["alpha"], "gamma": ["alpha", "beta"]}
    assert Lesson.objects.filter(course__slug="gamma").count() == 2


@pytest.mark.django_db
def test_reimporting_a_path_folder_changes_nothing(tmp_path: Path) -> None:
    folder = path_folder(tmp_path, ["alpha", "beta", "gamma"])
    curriculum_import(folder)
    before = snapshot()

    report = curriculum_import(folder)

    assert report.summary() == "nothing changed"
    assert snapshot() == before


@pytest.mark.django_db
def test_reordering_the_paths_courses_updates_its_steps(tmp_path: Path) -> None:
    curriculum_import(path_folder(tmp_path, ["alpha", "beta", "gamma"]))

    curriculum_import(path_folder(tmp_path, ["gamma", "alpha"]))

    assert steps() == [(1, "gamma"), (2, "alpha")]
    assert Course.objects.filter(slug="beta").exists()


@pytest.mark.django_db
def test_path_listing_an_unknown_course_fails_and_creates_nothing(tmp_path: Path) -> None:
    problems = import_fails(path_folder(tmp_path, ["alpha", "delta"]))

    assert problems == "path starter-path: course 'delta' is not a course here"


@pytest.mark.django_db
def test_path_export_then_import_changes_nothing(tmp_path: Path) -> None:
    curriculum_import(path_folder(tmp_path, ["gamma", "alpha", "beta"]))
    before = snapshot()

    path_write(*path_data(LearningPath.objects.get(slug="starter-path")), tmp_path / "exported")
    report = curriculum_import(tmp_path / "exported")

    assert report.summary() == "nothing changed"
    assert snapshot() == before


# --- management commands -------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_course_command_imports_and_reports(demo_labs: list[Lab], capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_course", str(DEMO_COURSE))
    call_command("import_course", str(DEMO_COURSE))

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Imported neural-network-basics: ") and "lessons created: 9" in out[0]
    assert out[1] == "Imported neural-network-basics: nothing changed."


@pytest.mark.django_db
def test_import_course_command_on_a_bad_folder_lists_every_problem(tmp_path: Path, demo_copy: Path) -> None:
    (demo_copy / "01-neurons/module.md").unlink()
    lesson_file = demo_copy / "02-activation-functions/01-why-nonlinearity.md"
    lesson_file.write_text(lesson_file.read_text(encoding="utf-8").replace("minutes: 10", "minute: 10"))

    with pytest.raises(CommandError) as caught:
        call_command("import_course", str(demo_copy))

    message = str(caught.value)
    assert message.startswith(f"{demo_copy} was not imported; nothing changed:")
    assert "  - 01-neurons: missing module.md" in message
    assert "  - 02-activation-functions/01-why-nonlinearity.md: unknown key 'minute'" in message
    assert not Course.objects.exists()


@pytest.mark.django_db
def test_import_course_command_with_prune_deletes_completed_lessons(
    demo_labs: list[Lab], demo_copy: Path, learner: User
) -> None:
    call_command("import_course", str(demo_copy))
    LessonCompletion.objects.create(user=learner, lesson=lesson_of("neuron-geometry"))
    (demo_copy / "01-neurons/02-neuron-geometry.md").unlink()

    with pytest.raises(CommandError, match="neuron-geometry"):
        call_command("import_course", str(demo_copy))
    call_command("import_course", str(demo_copy), "--prune")

    assert not Lesson.objects.filter(slug="neuron-geometry").exists()


@pytest.mark.django_db
def test_import_course_command_on_a_missing_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such folder"):
        call_command("import_course", str(tmp_path / "nowhere"))


@pytest.mark.django_db
def test_export_course_command_of_an_unknown_slug_names_the_known_courses(tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("alpha")))
    curriculum_import(course_folder(tmp_path, small_course("beta")))

    with pytest.raises(CommandError) as caught:
        call_command("export_course", "gamma", str(tmp_path / "out"))

    assert str(caught.value) == "no course 'gamma' (known: alpha, beta)"
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_export_course_command_writes_a_folder_that_imports_back_unchanged(
    demo_labs: list[Lab], tmp_path: Path
) -> None:
    curriculum_import(DEMO_COURSE)
    before = snapshot()

    call_command("export_course", "neural-network-basics", str(tmp_path / "out"))

    assert (tmp_path / "out/course.md").is_file()
    assert curriculum_import(tmp_path / "out").summary() == "nothing changed"
    assert snapshot() == before


@pytest.mark.django_db
def test_export_course_command_refuses_a_folder_with_other_files(demo_labs: list[Lab], tmp_path: Path) -> None:
    curriculum_import(DEMO_COURSE)
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(CommandError, match="not empty"):
        call_command("export_course", "neural-network-basics", str(tmp_path))

    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.django_db
def test_export_course_command_with_path_writes_path_md_and_one_folder_per_course(tmp_path: Path) -> None:
    curriculum_import(path_folder(tmp_path, ["beta", "alpha", "gamma"]))
    out = tmp_path / "out"

    call_command("export_course", "--path", "starter-path", str(out))

    assert sorted(p.name for p in out.iterdir()) == ["alpha", "beta", "gamma", "path.md"]
    assert "courses:\n- beta\n- alpha\n- gamma\n" in (out / "path.md").read_text(encoding="utf-8")
    assert all((out / slug / "course.md").is_file() for slug in ("alpha", "beta", "gamma"))


@pytest.mark.django_db
def test_export_course_command_of_an_unknown_path_names_the_known_paths(tmp_path: Path) -> None:
    curriculum_import(path_folder(tmp_path, ["alpha"]))

    with pytest.raises(CommandError) as caught:
        call_command("export_course", "--path", "nope", str(tmp_path / "out"))

    assert str(caught.value) == "no learning path 'nope' (known: starter-path)"


# --- what the report says ------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_counts_a_change_of_prerequisites_only(tmp_path: Path) -> None:
    curriculum_import(course_folder(tmp_path, small_course("alpha")))
    curriculum_import(course_folder(tmp_path, small_course("beta")))

    report = curriculum_import(course_folder(tmp_path, small_course("beta", prerequisites=["alpha"])))

    assert report.summary() == "course prerequisites updated: 1"


@pytest.mark.django_db
def test_report_counts_a_change_of_tags_only(tmp_path: Path) -> None:
    course = small_course("alpha")
    curriculum_import(course_folder(tmp_path, course))
    course.tags = [TagData(slug="pytorch", name=Bilingual("PyTorch", "PyTorch"))]

    report = curriculum_import(course_folder(tmp_path, course))

    assert report.summary() == "course tags updated: 1, tags created: 1"
    assert list(Course.objects.get(slug="alpha").tags.values_list("slug", flat=True)) == ["pytorch"]


@pytest.mark.django_db
def test_report_counts_a_reordering_of_path_steps(tmp_path: Path) -> None:
    curriculum_import(path_folder(tmp_path, ["alpha", "beta", "gamma"]))

    report = curriculum_import(path_folder(tmp_path, ["gamma", "beta", "alpha"]))

    assert report.summary() == "path steps updated: 1"
