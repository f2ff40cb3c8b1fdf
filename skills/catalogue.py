"""The skill catalogue as a file: a YAML list of skills, imported with ``manage.py import_skills
<file>``, and with a curriculum that holds one (``skills.yaml`` in a path folder or a course
folder: the demo's is ``courses/demo/ai-foundations/skills.yaml``). Importing matches by slug
(an edited file updates in place, the same file again changes nothing); a skill missing from the
file is kept (lessons and labs may still name it). Every problem in a file is reported at once,
and nothing is written unless the whole file is valid."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from core.findings import FINDING_CODES as DIAGNOSIS_CODES
from skills.models import Skill

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CATALOGUE_FILE = "skills.yaml"  # a curriculum's own catalogue: in its path folder, or a course folder
DEMO_FILE = Path(__file__).resolve().parent.parent / "courses" / "demo" / "ai-foundations" / CATALOGUE_FILE


class CatalogueError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class SkillData:
    slug: str
    name_en: str
    name_zh: str = ""
    summary_en: str = ""
    summary_zh: str = ""
    diagnoses: list[str] = field(default_factory=list)


def catalogue_read(path: Path) -> list[SkillData]:
    """The skills a catalogue file lists, in order; ``CatalogueError`` lists every problem."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError([f"{path.name}: cannot be read: {exc}"]) from exc
    if not isinstance(entries, list):
        raise CatalogueError([f"{path.name}: must be a list of skills"])
    problems: list[str] = []
    skills: list[SkillData] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name}: skill {number}"
        skill = _entry(entry, where, problems)
        if skill is None:
            continue
        if skill.slug in seen:
            problems.append(f"{where}: '{skill.slug}' is listed twice")
        seen.add(skill.slug)
        skills.append(skill)
    if problems:
        raise CatalogueError(problems)
    return skills


def _entry(entry: Any, where: str, problems: list[str]) -> SkillData | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping with slug, name, summary, diagnoses")
        return None
    unknown = sorted(set(entry) - {"slug", "name", "summary", "diagnoses"}, key=str)
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    slug = entry.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 50:
        problems.append(f"{where}: 'slug' must be a slug (lowercase letters, digits, hyphens): {slug!r}")
        return None
    name_en, name_zh = _bilingual(entry.get("name"), f"{where} ({slug}): 'name'", problems, required=True)
    summary_en, summary_zh = _bilingual(entry.get("summary", ""), f"{where} ({slug}): 'summary'", problems)
    diagnoses = entry.get("diagnoses", [])
    if not isinstance(diagnoses, list) or any(code not in DIAGNOSIS_CODES for code in diagnoses):
        problems.append(f"{where} ({slug}): 'diagnoses' must be a list of: {', '.join(DIAGNOSIS_CODES)}")
        diagnoses = []
    return SkillData(slug, name_en, name_zh, summary_en, summary_zh, list(dict.fromkeys(diagnoses)))


def _bilingual(value: Any, where: str, problems: list[str], *, required: bool = False) -> tuple[str, str]:
    if isinstance(value, str):
        if required and not value.strip():
            problems.append(f"{where} must not be empty")
        return value.strip(), ""
    if isinstance(value, dict) and set(value) <= {"en", "zh"} and all(isinstance(v, str) for v in value.values()):
        en, zh = value.get("en", "").strip(), value.get("zh", "").strip()
        if required and not (en or zh):
            problems.append(f"{where} must not be empty")
        return en, zh
    problems.append(f"{where} must be text or a mapping with 'en' and/or 'zh' text")
    return "", ""


def skills_seed() -> dict[str, int]:
    """The demo's catalogue (the demo labs name its skills; the demo curriculum brings it too)."""
    return catalogue_save(catalogue_read(DEMO_FILE))


def catalogue_of(folder: Path) -> Path | None:
    """The catalogue a curriculum folder brings: its own ``skills.yaml``, or its path folder's."""
    for candidate in (folder / CATALOGUE_FILE, folder.parent / CATALOGUE_FILE):
        if candidate.is_file():
            return candidate
    return None


def unknown_skills(slugs: list[str]) -> list[str]:
    """Those of ``slugs`` no skill has (in their order)."""
    known = set(Skill.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    return [slug for slug in slugs if slug not in known]


@transaction.atomic
def catalogue_save(skills: list[SkillData]) -> dict[str, int]:
    """Create or update these skills (their order becomes their position): how many of each."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = Skill.objects.in_bulk([s.slug for s in skills], field_name="slug")
    for position, data in enumerate(skills, start=1):
        values = {
            "name_en": data.name_en,
            "name_zh": data.name_zh,
            "summary_en": data.summary_en,
            "summary_zh": data.summary_zh,
            "diagnoses": data.diagnoses,
            "position": position,
        }
        skill = existing.get(data.slug)
        if skill is None:
            Skill.objects.create(slug=data.slug, **values)
            counts["created"] += 1
        elif any(getattr(skill, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(skill, name, value)
            skill.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts
