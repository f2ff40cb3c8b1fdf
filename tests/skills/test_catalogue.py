"""The skill catalogue (skills/catalogue.py) and the tags that name its skills: lessons' front
matter, labs' lab.toml, the Django admin; the demo curriculum and labs carry them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courses.course_files import CourseFormatError
from courses.demo_seed import demo_curriculum_seed
from courses.models import Lesson
from labs import demo as labs_demo
from labs.authoring import lab_export, skills_problems
from labs.demo_seed import demo_labs_seed
from labs.lab_folder import definition_problems
from labs.models import Lab
from skills.catalogue import DEMO_FILE, CatalogueError, catalogue_read, catalogue_save, skills_seed
from skills.models import Skill

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skills.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_catalogue_reads_and_imports_idempotently() -> None:
    skills = catalogue_read(DEMO_FILE)
    assert len(skills) >= 10 and all(s.name_en and s.name_zh for s in skills)
    assert catalogue_save(skills)["created"] == len(skills)
    assert catalogue_save(skills) == {"created": 0, "updated": 0, "unchanged": len(skills)}
    gradient = Skill.objects.get(slug="gradient-descent")
    assert "diverging" in gradient.diagnoses and gradient.position == 4


def test_an_edited_catalogue_updates_in_place(tmp_path: Path) -> None:
    catalogue_save(catalogue_read(write(tmp_path, "- slug: loss\n  name: Loss\n")))
    counts = catalogue_save(catalogue_read(write(tmp_path, "- slug: loss\n  name: {en: Losses, zh: 损失函数}\n")))
    assert counts["updated"] == 1
    skill = Skill.objects.get(slug="loss")
    assert (skill.name_en, skill.name_zh) == ("Losses", "损失函数")


def test_every_problem_in_a_catalogue_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "- slug: Bad Slug\n  name: x\n"
        "- slug: ok\n  name: ''\n"
        "- slug: ok\n  name: Twice\n  diagnoses: [divergent]\n"
        "- slug: extra\n  name: E\n  colour: red\n"
    )
    with pytest.raises(CatalogueError) as error:
        catalogue_read(write(tmp_path, text))
    problems = "\n".join(error.value.problems)
    assert "'slug' must be a slug" in problems and "must not be empty" in problems
    assert "'ok' is listed twice" in problems and "'diagnoses' must be a list of" in problems
    assert "unknown key(s) colour" in problems
    assert not Skill.objects.exists()


def test_import_skills_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_skills", str(write(tmp_path, "- slug: loss\n  name: Loss\n")))
    assert Skill.objects.filter(slug="loss").exists()
    with pytest.raises(CommandError):
        call_command("import_skills", str(write(tmp_path, "not: a list\n")))


def test_the_demo_lessons_and_labs_are_tagged() -> None:
    demo_labs_seed()
    demo_curriculum_seed()
    assert set(Lab.objects.get(slug="linear-regression").skills.values_list("slug", flat=True)) == {
        "gradient-descent",
        "loss-functions",
    }
    lesson = Lesson.objects.get(course__slug="training-neural-networks", slug="gradient-descent")
    assert list(lesson.skills.values_list("slug", flat=True)) == ["gradient-descent"]
    untagged = Skill.objects.filter(lessons=None, labs=None)
    assert not untagged.exists(), f"skills nothing teaches: {list(untagged)}"


def test_a_lab_names_only_known_skills() -> None:
    skills_seed()
    assert definition_problems({"skills": "gradient-descent"})[-1].startswith("skills must be a list")
    assert skills_problems({"skills": ["gradient-descent"]}) == []
    (problem,) = skills_problems({"skills": ["gradient-decent"]})
    assert "unknown skill 'gradient-decent'" in str(problem)


def test_a_lesson_naming_an_unknown_skill_is_refused(tmp_path: Path) -> None:
    from courses.importing import curriculum_import
    from tests.courses.test_course_files import LESSON_MD, tiny_course
    from tests.courses.test_course_files import write as write_file

    tiny_course(tmp_path)
    write_file(tmp_path, "01-basics/01-intro.md", LESSON_MD.replace("minutes: 5", "minutes: 5\nskills: [nope]"))
    with pytest.raises(CourseFormatError) as error:
        curriculum_import(tmp_path)
    assert any("skill 'nope' is not in the skill catalogue" in p for p in error.value.problems)


def test_import_lab_refuses_an_unknown_skill_and_keeps_the_known_ones(tmp_path: Path) -> None:
    skills_seed()
    folder = Path(
        shutil.copytree(Path(labs_demo.__file__).parent / "linear-regression", tmp_path / "linear-regression")
    )
    toml = folder / "lab.toml"
    toml.write_text(toml.read_text().replace('"loss-functions"]', '"loss-functoins"]'), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_lab", str(folder))
    assert not Lab.objects.filter(slug="linear-regression").exists()
    toml.write_text(toml.read_text().replace('"loss-functoins"]', '"loss-functions"]'), encoding="utf-8")
    call_command("import_lab", str(folder))
    lab = Lab.objects.get(slug="linear-regression")
    assert sorted(lab.skills.values_list("slug", flat=True)) == ["gradient-descent", "loss-functions"]
    written = lab_export(lab, tmp_path / "exported")
    toml_text = next(p for p in written if p.name == "lab.toml").read_text(encoding="utf-8")
    assert 'skills = ["gradient-descent", "loss-functions"]' in toml_text
