"""The course folder format on its own: what is written reads back unchanged, and every kind of bad
folder is refused with a problem that names the file at fault. No database is needed here."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from courses.course_files import (
    Bilingual,
    CourseData,
    CourseFormatError,
    LessonData,
    ModuleData,
    PathData,
    TagData,
    course_read,
    is_path_folder,
    path_read,
)
from courses.course_writer import course_write, path_write

MATH_EN = "The sigmoid is $\\sigma(z) = 1/(1+e^{-z})$ and\n\n$$\nz = \\mathbf{w}^\\top \\mathbf{x} + b\n$$"
MATH_ZH = "Sigmoid 函数是 $\\sigma(z) = 1/(1+e^{-z})$：\n\n$$\n\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))\n$$"
CODE = (
    "Run this:\n\n```python\nimport torch\n\n\ndef forward(x):\n    # --- not front matter ---\n"
    "    return torch.relu(x)\n```\n\n---\n\nA horizontal rule above, a table below.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
)


def lesson(slug: str, *, lab: str | None = None, minutes: int = 10) -> LessonData:
    return LessonData(
        slug=slug,
        title=Bilingual(f"Lesson {slug}: an overview", f"课程 {slug}：概览"),
        body=Bilingual(MATH_EN, MATH_ZH),
        minutes=minutes,
        lab=lab,
    )


def sample_course(
    slug: str = "neural-nets", *, hours: str = "2.5", prerequisites: list[str] | None = None
) -> CourseData:
    return CourseData(
        slug=slug,
        title=Bilingual("Neural networks: the basics", "神经网络基础"),
        summary=Bilingual("What a *neuron* computes.\n\nSecond paragraph.", "神经元在计算什么。\n\n第二段。"),
        level="intermediate",
        tags=[
            TagData(slug="pytorch", name=Bilingual("PyTorch", "PyTorch")),
            TagData(slug="neural-networks", name=Bilingual("neural networks", "神经网络")),
        ],
        estimated_hours=Decimal(hours),
        prerequisites=prerequisites if prerequisites is not None else ["python-basics", "linear-algebra"],
        published=False,
        modules=[
            ModuleData(
                slug="neurons",
                title=Bilingual("The artificial neuron", "人工神经元"),
                summary=Bilingual("Weights and a bias.", "权重与偏置。"),
                lessons=[lesson("what-a-neuron-computes", minutes=12), lesson("regression", lab="linear-regression")],
            ),
            ModuleData(
                slug="forward-pass",
                title=Bilingual("The forward pass"),
                summary=Bilingual(""),
                lessons=[
                    LessonData(
                        slug="in-pytorch",
                        title=Bilingual("The forward pass in PyTorch"),
                        body=Bilingual(CODE, "只有中文？不，这里是中文部分。"),
                        minutes=14,
                    ),
                    LessonData(
                        slug="chinese-only",
                        title=Bilingual("", "只有中文标题"),
                        body=Bilingual("", "只有中文正文，含公式 $a^2 + b^2 = c^2$。"),
                        minutes=1,
                    ),
                ],
            ),
        ],
    )


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


COURSE_MD = """---
slug: tiny
title: {en: Tiny course, zh: 小课程}
level: beginner
tags: [PyTorch]
estimated_hours: 1
prerequisites: []
published: true
---
<!-- lang: en -->
A tiny course.
"""
MODULE_MD = "---\ntitle: Basics\n---\n"
LESSON_MD = "---\ntitle: Intro\nminutes: 5\n---\n<!-- lang: en -->\nHello.\n<!-- lang: zh -->\n你好。\n"


def tiny_course(folder: Path) -> Path:
    """A valid one-module, one-lesson course folder that a test then breaks in one place."""
    write(folder, "course.md", COURSE_MD)
    write(folder, "01-basics/module.md", MODULE_MD)
    write(folder, "01-basics/01-intro.md", LESSON_MD)
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CourseFormatError) as caught:
        course_read(folder)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(folder: Path) -> str:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


# --- write → read --------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["2.5", "3"])
def test_course_written_then_read_gives_back_the_same_data(tmp_path: Path, hours: str) -> None:
    course = sample_course(hours=hours)

    course_write(course, tmp_path / "out")

    assert course_read(tmp_path / "out") == course


def test_written_course_uses_numbered_folders_and_files_in_order(tmp_path: Path) -> None:
    course_write(sample_course(), tmp_path)

    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "01-neurons/01-what-a-neuron-computes.md",
        "01-neurons/02-regression.md",
        "01-neurons/module.md",
        "02-forward-pass/01-in-pytorch.md",
        "02-forward-pass/02-chinese-only.md",
        "02-forward-pass/module.md",
        "course.md",
    ]
    course_md = (tmp_path / "course.md").read_text(encoding="utf-8")
    assert "神经网络基础" in course_md  # readable Chinese, not \u escapes
    assert "estimated_hours: 2.5\n" in course_md
    assert "lab: linear-regression" in (tmp_path / "01-neurons/02-regression.md").read_text(encoding="utf-8")
    assert "lab:" not in (tmp_path / "01-neurons/01-what-a-neuron-computes.md").read_text(encoding="utf-8")


def test_whole_hours_are_written_without_a_decimal(tmp_path: Path) -> None:
    course_write(sample_course(hours="3"), tmp_path)

    assert "estimated_hours: 3\n" in (tmp_path / "course.md").read_text(encoding="utf-8")


def test_plain_tag_reads_with_its_english_name_in_both_languages(tmp_path: Path) -> None:
    tiny_course(tmp_path)

    course = course_read(tmp_path)

    assert course.tags == [TagData(slug="pytorch", name=Bilingual("PyTorch", "PyTorch"))]
    assert course.title == Bilingual("Tiny course", "小课程")
    assert course.modules[0].lessons[0].body == Bilingual("Hello.", "你好。")


def test_lessons_are_read_in_number_order_not_name_order(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/10-last.md", LESSON_MD)
    write(tmp_path, "01-basics/2-second.md", LESSON_MD)

    course = course_read(tmp_path)

    assert [lesson.slug for lesson in course.modules[0].lessons] == ["intro", "second", "last"]


def test_path_written_then_read_gives_back_the_path_and_its_courses(tmp_path: Path) -> None:
    first = sample_course("first", prerequisites=[])
    second = sample_course("second", hours="3", prerequisites=["first"])
    path = PathData(
        slug="ai-foundations",
        title=Bilingual("AI foundations", "AI 基础"),
        summary=Bilingual("From one neuron to large models.", "从一个神经元到大模型。"),
        courses=["second", "first"],
        published=True,
    )

    path_write(path, [second, first], tmp_path / "path")

    assert is_path_folder(tmp_path / "path")
    assert not is_path_folder(tmp_path / "path" / "first")
    read_path, read_courses = path_read(tmp_path / "path")
    assert read_path == path
    assert sorted(read_courses, key=lambda c: c.slug) == [first, second]


# --- bad folders ---------------------------------------------------------------------------------


def test_folder_without_course_md_is_refused_naming_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "my-course"
    write(folder, "01-basics/module.md", MODULE_MD)

    problem = only_problem(folder)

    assert "course.md" in problem
    assert "my-course" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slug: tiny\ntitle: Tiny\n", "must start with a '---' line"),
        ("---\nslug: tiny\ntitle: Tiny\n<!-- lang: en -->\nText.\n", "front matter is not closed"),
        ("---\nslug: tiny\ntitle: [Tiny\n---\n", "not valid YAML"),
        ("---\n- slug\n- tiny\n---\n", "front matter must be a mapping"),
    ],
    ids=["missing", "unclosed", "invalid-yaml", "not-a-mapping"],
)
def test_broken_front_matter_is_refused_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "course.md", text)

    problem = only_problem(tmp_path)

    assert problem.startswith("course.md: ")
    assert expected in problem


def test_broken_front_matter_of_a_lesson_names_the_lesson_file(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", "---\ntitle: Intro\nminutes: 5\n<!-- lang: en -->\nHello.\n")

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert "not closed" in problem


def test_unknown_key_is_refused_with_the_allowed_keys(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minute: 5"))

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert "unknown key 'minute'" in problem
    assert "minutes" in problem.split("allowed:")[1]


def test_a_lesson_names_the_run_findings_it_teaches_the_fix_for(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(
        tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 5\nfixes: [diverging, unstable]")
    )
    lesson = course_read(tmp_path).modules[0].lessons[0]
    assert lesson.fixes == ["diverging", "unstable"]


def test_a_lesson_names_its_skills_by_slug(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 5\nskills: [gradient-descent]"))
    assert course_read(tmp_path).modules[0].lessons[0].skills == ["gradient-descent"]
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 5\nskills: [Gradient Descent]"))
    assert "'skills' must be a list of slugs" in only_problem(tmp_path)


def test_an_unknown_finding_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 5\nfixes: [divergent]"))

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert "'fixes' names unknown 'divergent'" in problem and "diverging" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("level: beginner", "level: expert", "'level' must be one of beginner, intermediate, advanced"),
        ("slug: tiny", "slug: Tiny_Course", "'slug' must be a slug"),
        ("slug: tiny", "slug: " + "a" * 51, "'slug' must be a slug"),
        ("estimated_hours: 1", "estimated_hours: -1", "'estimated_hours' must be a number of hours"),
        ("estimated_hours: 1", "estimated_hours: 1.234", "'estimated_hours' must be a number of hours"),
        ("estimated_hours: 1", "estimated_hours: lots", "'estimated_hours' must be a number of hours"),
        ("published: true", "published: maybe", "'published' must be true or false"),
        ("prerequisites: []", "prerequisites: [Not A Slug]", "'prerequisites' must be a list of slugs"),
        ("prerequisites: []", "prerequisites: [a, a]", "'prerequisites' lists a slug twice"),
        ("title: {en: Tiny course, zh: 小课程}", "title: {en: Tiny, fr: Petit}", "'title' must be text or a mapping"),
        ("tags: [PyTorch]", "tags: [PyTorch, pytorch]", "tag 'pytorch' is listed twice"),
        ("tags: [PyTorch]", "tags: [{zh: 神经网络}]", "needs an English name"),
    ],
)
def test_bad_course_field_is_refused_naming_course_md(tmp_path: Path, old: str, new: str, expected: str) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "course.md", COURSE_MD.replace(old, new))

    problem = only_problem(tmp_path)

    assert problem.startswith("course.md: ")
    assert expected in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("minutes: 5", "minutes: 0", "'minutes' must be a whole number from 1 to 32767"),
        ("minutes: 5", "minutes: 7.5", "'minutes' must be a whole number from 1 to 32767"),
        ("minutes: 5", "minutes: 5\nlab: Not A Slug", "'lab' must be a slug"),
        ("title: Intro\n", "", "'title' must be text or a mapping"),
    ],
)
def test_bad_lesson_field_is_refused_naming_the_lesson_file(tmp_path: Path, old: str, new: str, expected: str) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace(old, new))

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert expected in problem


def test_text_before_the_first_language_marker_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", "---\ntitle: Intro\n---\nStray line.\n<!-- lang: en -->\nHello.\n")

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert "text before the first" in problem


def test_two_english_sections_are_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD + "<!-- lang: en -->\nAgain.\n")

    problem = only_problem(tmp_path)

    assert problem.startswith("01-basics/01-intro.md: ")
    assert "two '<!-- lang: en -->' sections" in problem


def test_lesson_without_text_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/01-intro.md", "---\ntitle: Intro\n---\n")

    assert only_problem(tmp_path) == "01-basics/01-intro.md: the lesson has no text"


@pytest.mark.parametrize("name", ["intro.md", "01-intro.txt", "01_intro.md", "01-Intro.md"])
def test_lesson_file_with_a_bad_name_is_refused(tmp_path: Path, name: str) -> None:
    tiny_course(tmp_path)
    write(tmp_path, f"01-basics/{name}", LESSON_MD)

    problem = only_problem(tmp_path)

    assert problem.startswith(f"01-basics/{name}: unexpected name")
    assert "01-what-is-a-neuron.md" in problem


def test_folder_inside_a_module_folder_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "01-basics/02-more/01-x.md", LESSON_MD)

    assert only_problem(tmp_path).startswith("01-basics/02-more: a module folder holds lesson files")


def test_module_folder_with_a_bad_name_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "basics/module.md", MODULE_MD)

    problem = only_problem(tmp_path)

    assert problem.startswith("basics: unexpected name")
    assert "01-neurons" in problem


def test_module_folder_without_module_md_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "02-more/01-lesson.md", LESSON_MD)

    problem = only_problem(tmp_path)

    assert problem.startswith("02-more: missing module.md")


def test_two_lessons_with_the_same_slug_in_different_modules_are_refused_naming_both_files(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "02-more/module.md", MODULE_MD)
    write(tmp_path, "02-more/03-intro.md", LESSON_MD)

    problem = only_problem(tmp_path)

    assert "two lessons named 'intro'" in problem
    assert "01-basics/01-intro.md" in problem
    assert "02-more/03-intro.md" in problem


def test_two_modules_with_the_same_slug_are_refused_naming_both_folders(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "02-basics/module.md", MODULE_MD)
    write(tmp_path, "02-basics/01-other.md", LESSON_MD)

    problem = only_problem(tmp_path)

    assert "two modules named 'basics'" in problem
    assert "01-basics" in problem
    assert "02-basics" in problem


@pytest.mark.parametrize("slug", ["paths", "progress"])
def test_reserved_course_slug_is_refused(tmp_path: Path, slug: str) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "course.md", COURSE_MD.replace("slug: tiny", f"slug: {slug}"))

    assert only_problem(tmp_path) == f"course.md: '{slug}' is reserved; choose another slug"


def test_course_listing_itself_as_prerequisite_is_refused(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "course.md", COURSE_MD.replace("prerequisites: []", "prerequisites: [basics-101, tiny]"))

    assert only_problem(tmp_path) == "course.md: a course cannot be its own prerequisite"


def test_every_problem_in_a_folder_is_reported_at_once(tmp_path: Path) -> None:
    tiny_course(tmp_path)
    write(tmp_path, "course.md", COURSE_MD.replace("level: beginner", "level: expert"))
    write(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minute: 5"))
    write(tmp_path, "01-basics/02-zero.md", LESSON_MD.replace("minutes: 5", "minutes: 0"))
    write(tmp_path, "01-basics/intro.md", LESSON_MD)
    write(tmp_path, "02-no-module-file/01-lesson.md", LESSON_MD)

    problems = problems_of(tmp_path)

    assert len(problems) == 5, problems
    joined = "\n".join(problems)
    for expected in [
        "course.md: 'level' must be one of",
        "01-basics/01-intro.md: unknown key 'minute'",
        "01-basics/02-zero.md: 'minutes' must be a whole number",
        "01-basics/intro.md: unexpected name",
        "02-no-module-file: missing module.md",
    ]:
        assert expected in joined


def test_path_folder_reports_problems_of_all_its_courses_with_their_folders(tmp_path: Path) -> None:
    write(tmp_path, "path.md", "---\nslug: p\ntitle: P\ncourses: [tiny, other]\n---\n")
    tiny_course(tmp_path / "tiny")
    write(tmp_path / "tiny", "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 0"))
    write(tmp_path, "other/01-basics/module.md", MODULE_MD)

    with pytest.raises(CourseFormatError) as caught:
        path_read(tmp_path)

    problems = caught.value.problems
    assert len(problems) == 2, problems
    assert problems[0].startswith("other: no course.md")
    assert problems[1].startswith("tiny/01-basics/01-intro.md: 'minutes' must be")


def test_path_folder_with_a_bad_path_md_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "path.md", "---\nslug: p\ntitle: P\ncourses: [tiny, tiny]\npublish: true\n---\n")
    tiny_course(tmp_path / "tiny")

    with pytest.raises(CourseFormatError) as caught:
        path_read(tmp_path)

    assert caught.value.problems == [
        "path.md: unknown key 'publish' (allowed: courses, published, slug, title)",
        "path.md: 'courses' lists a slug twice",
    ]


def test_folder_without_path_md_is_refused_as_a_path(tmp_path: Path) -> None:
    tiny_course(tmp_path / "tiny")

    with pytest.raises(CourseFormatError) as caught:
        path_read(tmp_path)

    assert caught.value.problems == [f"{tmp_path}: no path.md here: a path folder starts with one"]


def test_two_course_folders_with_the_same_slug_in_a_path_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "path.md", "---\nslug: p\ntitle: P\ncourses: [tiny]\n---\n")
    tiny_course(tmp_path / "tiny")
    tiny_course(tmp_path / "tiny-copy")

    with pytest.raises(CourseFormatError) as caught:
        path_read(tmp_path)

    assert caught.value.problems == ["tiny-copy/course.md: slug 'tiny' is also the slug of tiny/course.md"]


# --- export folders ------------------------------------------------------------------------------


def test_export_refuses_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "my notes")

    with pytest.raises(CourseFormatError) as caught:
        course_write(sample_course(), tmp_path)

    assert str(tmp_path) in caught.value.problems[0]
    assert "not empty" in caught.value.problems[0]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_export_refuses_a_path_export_as_a_course_folder(tmp_path: Path) -> None:
    path = PathData(slug="p", title=Bilingual("P"), summary=Bilingual(""), courses=["first"], published=True)
    path_write(path, [sample_course("first", prerequisites=[])], tmp_path)

    with pytest.raises(CourseFormatError):
        course_write(sample_course(), tmp_path)

    assert (tmp_path / "path.md").is_file()


def test_export_refuses_a_file_in_place_of_the_folder(tmp_path: Path) -> None:
    target = write(tmp_path, "course", "not a folder")

    with pytest.raises(CourseFormatError) as caught:
        course_write(sample_course(), target)

    assert str(target) in caught.value.problems[0]
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_export_replaces_an_earlier_export(tmp_path: Path) -> None:
    course = sample_course()
    course_write(course, tmp_path)
    assert (tmp_path / "01-neurons/02-regression.md").is_file()

    del course.modules[0].lessons[1]
    course.title = Bilingual("Renamed")
    course_write(course, tmp_path)

    assert not (tmp_path / "01-neurons/02-regression.md").exists()
    assert course_read(tmp_path) == course


def test_export_keeps_hidden_files_such_as_git(tmp_path: Path) -> None:
    course_write(sample_course(), tmp_path)
    write(tmp_path, ".git/HEAD", "ref: refs/heads/main\n")

    course_write(sample_course(), tmp_path)

    assert (tmp_path / ".git/HEAD").is_file()
