"""Parts of pages kept in the cache (``core.cache``), computed once per change instead of once per request.

A fragment's key holds its kind, what it is of, the language and the *generation* of each thing it
shows; the writes that change one of those things bump its generation (``cache_bump``), so every
fragment keyed on the old number becomes unreachable (it is never deleted; it expires unread).
Read the generations **before** the rows a fragment is built from: a change that commits in
between then leaves the fragment under a number that is already old.

The generations, one name each (each app's ``generations`` module bumps them, from signals):

- ``learner_generation(id)``: what a learner did — their runs that ended (or were unsealed,
  edited, deleted), reviews and dismissals of those runs, lessons completed, enrolments, grade
  overrides — and their cohort memberships (joining, leaving, a new mentor).
- ``reading_generation(id)``: where a learner is reading (each lesson they open): what says
  "continue" (their next steps).
- ``cohort_generation(id)``: a cohort's grading setup — its policy, lab deadlines, courses, path.
- ``course_generation(id)``: a course as its pages show it — its fields, tags, modules, lessons
  and their labs, prerequisites, the paths it is on.
- ``CURRICULUM``: every change to a course above, and to a lab or a path: what grades read across
  courses (a cohort's lesson count, a lab's threshold).
- ``LEARNERS``: every change to any learner's generation: what lists every learner's work (an
  administrator's review queue).
- ``PEOPLE``: every change to a person (a name, a role; not a sign-in): what shows other
  people's names.
- ``mentor_generation(id)``: every change to the generation of any learner that mentor has (and a
  mentee joining or leaving them): what lists their mentees' work (their review queue), read as one
  key however many mentees they have. ``cohorts.generations`` names these mentors
  (``learner_dependents``); ``core`` cannot read who mentors whom.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TypeVar

from django.core.cache import cache
from django.utils import translation

from core.cache import cache_bump

FRAGMENT_SECONDS = 24 * 3600  # kept a day at most: Redis frees what old generations left behind
CURRICULUM = "curriculum"
LEARNERS = "learners"
PEOPLE = "people"

K = TypeVar("K")
V = TypeVar("V")


def learner_generation(learner_id: int) -> str:
    return f"learner:{learner_id}"


def reading_generation(learner_id: int) -> str:
    return f"reading:{learner_id}"


def mentor_generation(mentor_id: int) -> str:
    return f"mentor:{mentor_id}"


LearnerDependents = Callable[[Collection[int]], Iterable[str]]
_learner_dependents: list[LearnerDependents] = []


def learner_dependents(names: LearnerDependents) -> None:
    """Also bump what ``names(learner_ids)`` names whenever those learners change (registered once,
    by an app above ``core`` that knows who depends on a learner)."""
    if names not in _learner_dependents:
        _learner_dependents.append(names)


def cohort_generation(cohort_id: int) -> str:
    return f"cohort:{cohort_id}"


def course_generation(course_id: int) -> str:
    return f"course:{course_id}"


def learners_changed(learner_ids: Iterable[int | None]) -> None:
    ids = {pk for pk in learner_ids if pk is not None}
    if ids:  # no learner (a row already gone): nothing to bump, and Redis refuses an empty MSET
        dependents = {name for names in _learner_dependents for name in names(ids)}
        cache_bump(LEARNERS, *(learner_generation(pk) for pk in ids), *sorted(dependents))


def cohorts_changed(cohort_ids: Iterable[int | None]) -> None:
    names = [cohort_generation(pk) for pk in set(cohort_ids) if pk is not None]
    if names:
        cache_bump(*names)


def courses_changed(course_ids: Iterable[int | None]) -> None:
    """These courses changed, and with them the curriculum (bumped even for no course: a lab that
    no lesson links still counts in grades)."""
    cache_bump(CURRICULUM, *(course_generation(pk) for pk in set(course_ids) if pk is not None))


def fragment_key(kind: str, *parts: object) -> str:
    """The key of a ``kind`` fragment of ``parts`` (what it is of, then the generations it shows),
    in the current language."""
    return ":".join(("fragment", kind, translation.get_language() or "-", *map(str, parts)))


def fragments(keys: Mapping[K, str], build: Callable[[list[K]], Mapping[K, V]]) -> dict[K, V]:
    """Each item's fragment (``keys``: item -> key) from the cache, in one round trip; the missing
    ones are built in one call of ``build`` (missing items -> fragment; an item it leaves out has
    none, and none is kept) and kept."""
    found = cache.get_many(list(keys.values()))
    values = {item: found[key] for item, key in keys.items() if key in found}
    missing = [item for item in keys if item not in values]
    if missing:
        built = {item: value for item, value in build(missing).items() if item in keys}
        cache.set_many({keys[item]: value for item, value in built.items()}, FRAGMENT_SECONDS)
        values.update(built)
    return values


def fragment(key: str, build: Callable[[], V]) -> V:
    """One fragment from the cache, or built by ``build()`` and kept."""
    return fragments({key: key}, lambda _missing: {key: build()})[key]
