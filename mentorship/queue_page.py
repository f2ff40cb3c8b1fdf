"""The review queue page's costly reads — which runs wait, in what order, how many — kept in the
cache (``core.fragments``) until a learner it lists changes.

The key holds the viewer, their filters and the generation of every learner the viewer's queue
may list (their mentees, read on every request; for an administrator, everyone's): a review, a
dismissal, a run that ends or a new mentee changes it. What is kept is run ids and counts only:
the rows (names, labs, dismissals) are read by id on every request."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.paginator import Page, Paginator

from cohorts.permissions import is_admin, mentees_of
from core.cache import cache_generations
from core.fragments import CURRICULUM, LEARNERS, fragment, fragment_key, learner_generation
from core.models import User
from labs.models import Run
from mentorship import selectors


def review_queue_page(*, mentor: User, filters: dict[str, Any], number: str | None, per_page: int) -> Page:
    """Page ``number`` of the mentor's review queue (``selectors.review_queue`` with ``filters``)."""
    base = (mentor.pk, _digest(_generations(mentor)), _digest(sorted(filters.items())))
    runs = selectors.review_queue(mentor=mentor, **filters).prefetch_related(None)
    count = fragment(fragment_key("review-queue-count", *base), runs.count)
    page = Paginator(range(count), per_page).get_page(number)
    start = (page.number - 1) * per_page
    rows = fragment(
        fragment_key("review-queue-page", *base, per_page, page.number),
        lambda: list(runs[start : start + per_page].values_list("pk", "earlier_runs")),
    )
    found = selectors.queue_rows(Run.objects.filter(pk__in=[pk for pk, _earlier in rows])).in_bulk()
    page.object_list = [_row(found[pk], earlier) for pk, earlier in rows if pk in found]
    return page


def _generations(mentor: User) -> list[tuple[str, int]]:
    """What the mentor's queue lists, with their generations (read before the queue is)."""
    if is_admin(mentor):
        names = [LEARNERS, CURRICULUM]
    else:
        mentees = sorted(mentees_of(mentor).values_list("pk", flat=True))
        names = [CURRICULUM, *(learner_generation(pk) for pk in mentees)]
    generations = cache_generations(*names)
    return [("admin" if is_admin(mentor) else "mentor", 0), *((name, generations[name]) for name in names)]


def _digest(parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _row(run: Run, earlier_runs: int) -> Run:
    run.earlier_runs = earlier_runs
    return run
