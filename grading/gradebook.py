"""The gradebook page: each learner's grade cells rendered once per change, not once per request.

A row's cells show the learner's runs, reviews, lessons and overrides graded by the cohort's setup,
so the fragment (``core.fragments``) is keyed on the learner's, the cohort's and the curriculum's
generations and the language. Which rows a viewer sees (``selectors.gradebook_members``) and the
learner's name beside the cells are read on every request: a fragment holds nothing that depends
on who looks at it. Numbers are formatted once, in Python, as the CSV export writes them."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from cohorts.models import Cohort, CohortMember
from core.cache import cache_generations
from core.fragments import CURRICULUM, cohort_generation, fragment, fragment_key, fragments, learner_generation
from courses.selectors import cohort_lesson_total
from grading import rules, selectors
from grading.rules import two_decimals

NONE = "—"


@dataclass(frozen=True)
class Setup:
    """What every row of a cohort's gradebook shares."""

    policy: rules.Policy
    labs: tuple[rules.LabSpec, ...]
    error: str | None  # why no grade can be computed (a GradingPolicyError's message)


@dataclass(frozen=True)
class RowFragment:
    """A learner's cells as HTML, and their overrides: (lab, or None for the final grade; the
    override; whether it is in force)."""

    cells: SafeString
    overrides: tuple[tuple[rules.LabSpec | None, rules.Override, bool], ...]


@dataclass(frozen=True)
class Row:
    member: CohortMember  # with learner and mentor loaded
    cells: SafeString


@dataclass(frozen=True)
class OverrideLine:
    member: CohortMember
    lab: rules.LabSpec | None  # None: the final grade
    override: rules.Override
    in_force: bool  # the newest for its (learner, lab); the others are history


@dataclass(frozen=True)
class GradebookPage:
    policy: rules.Policy
    labs: tuple[rules.LabSpec, ...]
    error: str | None
    rows: tuple[Row, ...]
    overrides: list[OverrideLine]  # every override of the rows, newest first


def gradebook_page(*, cohort: Cohort, members: list[CohortMember]) -> GradebookPage:
    """The gradebook of these members (a page of them, as their viewer may see them)."""
    shared = (cohort_generation(cohort.pk), CURRICULUM)
    generations = cache_generations(*shared, *(learner_generation(m.learner_id) for m in members))
    setup_generations = [generations[name] for name in shared]
    setup = fragment(fragment_key("gradebook-setup", cohort.pk, *setup_generations), lambda: _setup(cohort.pk))
    if setup.error:
        return GradebookPage(setup.policy, setup.labs, setup.error, tuple(Row(m, SafeString()) for m in members), [])
    keys = {
        m.learner_id: fragment_key(
            "gradebook-row",
            cohort.pk,
            m.learner_id,
            m.learner.username,  # the cells' test ids name the learner
            generations[learner_generation(m.learner_id)],
            *setup_generations,
        )
        for m in members
    }
    built = fragments(keys, lambda learner_ids: _rows_build(cohort.pk, learner_ids))
    empty = RowFragment(SafeString(), ())
    rows = tuple(Row(m, built.get(m.learner_id, empty).cells) for m in members)
    return GradebookPage(setup.policy, setup.labs, None, rows, _override_lines(members, built))


def _setup(cohort_id: int) -> Setup:
    """Built from the cohort read again: the page's copy was read before the generations were."""
    cohort = Cohort.objects.get(pk=cohort_id)
    policy, labs = selectors.cohort_policy(cohort), selectors.cohort_labs(cohort)
    try:
        rules.policy_check(policy, labs=labs, lesson_total=cohort_lesson_total(cohort))
    except rules.GradingPolicyError as error:
        return Setup(policy, labs, str(error))
    return Setup(policy, labs, None)


def _rows_build(cohort_id: int, learner_ids: list[int]) -> dict[int, RowFragment]:
    """Built from the cohort read again (see ``_setup``)."""
    cohort = Cohort.objects.get(pk=cohort_id)
    members = CohortMember.objects.filter(cohort=cohort, learner_id__in=learner_ids).select_related("learner")
    book = selectors.gradebook_build(cohort=cohort, members=members)
    if book.error:  # the setup changed since it was read: nothing is kept under the old numbers
        return {}
    return {row.member.learner_id: _row_fragment(row) for row in book.rows}


def _row_fragment(row: selectors.GradebookRow) -> RowFragment:
    grade = row.grade
    assert grade is not None  # gradebook_build grades every row when it has no error
    context = {
        "username": row.member.learner.username,
        "labs": [_lab_cell(lab) for lab in grade.labs],
        "lab_part": two_decimals(grade.lab_part) or NONE,
        "review_part": two_decimals(grade.review_part) or NONE,
        "course_part": two_decimals(grade.course_part),
        "final": two_decimals(grade.final),
        "override": grade.override,
        "passed": grade.passed,
    }
    overrides = [(lab.lab, o, o == lab.override) for lab in grade.labs for o in lab.history]
    overrides += [(None, o, o == grade.override) for o in grade.history]
    return RowFragment(render_to_string("grading/_gradebook_cells.html", context), tuple(overrides))


def _lab_cell(lab: rules.LabGrade) -> dict[str, object]:
    counted = lab.counted
    return {
        "slug": lab.lab.slug,
        "points": two_decimals(lab.points),
        "override": lab.override,
        "run_id": counted.run.run_id if counted else None,
        "run_url": reverse("labs:run", args=[counted.run.run_id]) if counted else "",
        "days_late": counted.days_late if counted else 0,
        "penalty": f"{counted.penalty:.0f}" if counted else "",
        "review": two_decimals(lab.review_points),
    }


def _override_lines(members: list[CohortMember], built: dict[int, RowFragment]) -> list[OverrideLine]:
    lines = [
        OverrideLine(member, lab, override, in_force)
        for member in members
        if member.learner_id in built
        for lab, override, in_force in built[member.learner_id].overrides
    ]
    return sorted(lines, key=lambda line: (line.override.created_at, line.override.override_id), reverse=True)
