"""A learner's skill profile: for each skill of the catalogue that some lesson or lab teaches, a
level read from the evidence behind it — and the evidence itself, so a learner and their mentor
see *why* (a level nobody can explain is a level nobody trusts).

The evidence, per skill (its lessons and labs are those tagged with it):

- **lessons**: how many of its lessons the learner completed;
- **labs**: each of its labs passed (full marks), tried and not passed (some), or not tried;
- **reviews**: the points mentors gave runs of its labs;
- **exercises**: the checks in its lessons solved (first try best), or tried and not solved;
- **gaps**: a finding of the run coach (``labs.diagnosis``) the skill lists in its ``diagnoses``,
  on the learner's latest run of a lab they have not passed since: each one lowers the level.

The score (0–100) is the weighted mean of the parts that have something to count (labs weigh
twice), less the gaps; the level is its band. A skill with no evidence at all is "not started".
Built once per change of the learner or the curriculum (``core.fragments``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coach.evidence import LearnerFacts, learner_facts
from core.cache import cache_generations
from core.fragments import CURRICULUM, fragment, fragment_key, learner_generation
from core.models import User
from labs.diagnosis import finding_title
from skills.models import Skill

WEIGHTS = {"lessons": 1.0, "labs": 2.0, "reviews": 1.0, "exercises": 1.0}
LAB_TRIED = 40.0  # a lab tried and not passed, of 100
EXERCISE_SOLVED_LATER = 70.0  # first try: 100; tried, unsolved: EXERCISE_TRIED
EXERCISE_TRIED = 20.0
GAP_PENALTY = 15.0
GAP_PENALTY_MAX = 30.0

# (lowest score, level): the bands, highest first
LEVELS = (
    (80.0, "strong", gettext_lazy("strong")),
    (50.0, "proficient", gettext_lazy("proficient")),
    (25.0, "developing", gettext_lazy("developing")),
    (0.0, "beginning", gettext_lazy("beginning")),
)
NOT_STARTED = ("not-started", gettext_lazy("not started"))
LEVEL_CODES = (NOT_STARTED[0], *(code for _lowest, code, _label in reversed(LEVELS)))


@dataclass
class Evidence:
    text: str
    url: str = ""
    sign: int = 0  # +1 counts for the skill, -1 against, 0 neither (e.g. not tried yet)


@dataclass
class SkillLevel:
    slug: str
    name: str
    summary: str
    score: int  # 0..100
    level: str  # one of LEVELS' codes, or "not-started"
    level_label: str
    evidence: list[Evidence] = field(default_factory=list)
    parts: dict[str, int] = field(default_factory=dict)  # part -> its score of 100

    @property
    def started(self) -> bool:
        return self.level != NOT_STARTED[0]


def skill_profile(learner: User) -> list[SkillLevel]:
    """The learner's level in every skill some published lesson or lab teaches, in the catalogue's order."""
    generations = cache_generations(CURRICULUM, learner_generation(learner.pk))
    key = fragment_key(
        "skill-profile", learner.pk, generations[CURRICULUM], generations[learner_generation(learner.pk)]
    )
    return fragment(key, lambda: profile_build(learner_facts(learner)))


def profile_build(facts: LearnerFacts) -> list[SkillLevel]:
    """The profile from what the learner did (``coach.evidence``): a pure function of the facts."""
    levels = []
    for skill in facts.skills:
        lessons = facts.skill_lessons.get(skill.pk, [])
        labs = facts.skill_labs.get(skill.pk, [])
        if not lessons and not labs:
            continue
        levels.append(_level(skill, lessons, labs, facts))
    return levels


def _level(skill: Skill, lessons: list[int], labs: list[int], facts: LearnerFacts) -> SkillLevel:
    evidence: list[Evidence] = []
    parts: dict[str, float] = {}
    if lessons:
        done = [pk for pk in lessons if pk in facts.completed]
        parts["lessons"] = 100.0 * len(done) / len(lessons)
        if done:
            evidence.append(
                Evidence(
                    _("Completed %(done)d of %(total)d lessons") % {"done": len(done), "total": len(lessons)},
                    sign=1,
                )
            )
    if labs:
        parts["labs"] = sum(_lab_points(pk, facts) for pk in labs) / len(labs)
        evidence.extend(_lab_evidence(pk, facts) for pk in labs)
    reviews = [review for pk in labs for review in facts.reviews.get(pk, [])]
    if reviews:
        parts["reviews"] = 100.0 * sum(r.points for r in reviews) / sum(r.max_points for r in reviews)
        evidence.extend(
            Evidence(
                _("Review of %(lab)s: %(points)d of %(max)d points")
                % {"lab": r.lab_title, "points": r.points, "max": r.max_points},
                url=r.run_url,
                sign=1 if r.points * 2 >= r.max_points else -1,
            )
            for r in reviews
        )
    exercises = [e for pk in lessons for e in facts.exercises.get(pk, [])]
    if exercises:
        parts["exercises"] = sum(_exercise_points(e.solved, e.tries) for e in exercises) / len(exercises)
        solved = sum(1 for e in exercises if e.solved)
        evidence.append(
            Evidence(
                _("Solved %(solved)d of %(tried)d exercises tried") % {"solved": solved, "tried": len(exercises)},
                sign=1 if solved * 2 >= len(exercises) else -1,
            )
        )
    gaps = [gap for gap in facts.gaps if gap.code in skill.diagnoses]
    evidence.extend(
        Evidence(
            _("Run #%(run)d of %(lab)s: %(finding)s")
            % {"finding": finding_words(g.code), "run": g.run_id, "lab": g.lab_title},
            url=g.run_url,
            sign=-1,
        )
        for g in gaps
    )
    started = bool(gaps) or any(e.sign for e in evidence) or any(pk in facts.tried for pk in labs)
    weight = sum(WEIGHTS[name] for name in parts)
    mean = sum(WEIGHTS[name] * value for name, value in parts.items()) / weight if weight else 0.0
    score = max(0.0, mean - min(GAP_PENALTY_MAX, GAP_PENALTY * len(gaps)))
    code, label = (NOT_STARTED[0], str(NOT_STARTED[1])) if not started else _band(score)
    return SkillLevel(
        slug=skill.slug,
        name=skill.name,
        summary=skill.summary,
        score=int(score + 0.5),  # half up (round() would make 42.5 into 42)
        level=code,
        level_label=label,
        evidence=evidence,
        parts={name: round(value) for name, value in parts.items()},
    )


def finding_words(code: str) -> str:
    """A finding's name to use inside a sentence ("the loss grew")."""
    title = finding_title(code)
    return title[:1].lower() + title[1:]


def _band(score: float) -> tuple[str, str]:
    for lowest, code, label in LEVELS:
        if score >= lowest:
            return code, str(label)
    return LEVELS[-1][1], str(LEVELS[-1][2])


def _lab_points(lab_id: int, facts: LearnerFacts) -> float:
    if lab_id in facts.passed:
        return 100.0
    return LAB_TRIED if lab_id in facts.tried else 0.0


def _lab_evidence(lab_id: int, facts: LearnerFacts) -> Evidence:
    lab = facts.labs[lab_id]
    if lab_id in facts.passed:
        return Evidence(_("Passed %(lab)s") % {"lab": lab.title}, url=lab.url, sign=1)
    if lab_id in facts.tried:
        return Evidence(_("Tried %(lab)s, not passed yet") % {"lab": lab.title}, url=lab.url, sign=-1)
    return Evidence(_("Not tried yet: %(lab)s") % {"lab": lab.title}, url=lab.url)


def _exercise_points(solved: bool, tries: int) -> float:
    if solved:
        return 100.0 if tries <= 1 else EXERCISE_SOLVED_LATER
    return EXERCISE_TRIED


def weakest(levels: list[SkillLevel]) -> list[SkillLevel]:
    """Skills weakest first (started ones before those not started: a gap shown is worth more than
    a skill never tried), strong ones left out."""
    candidates = [level for level in levels if level.level != "strong"]
    return sorted(candidates, key=lambda level: (not level.started, level.score))
