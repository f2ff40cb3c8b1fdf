"""The review queue page's costly parts — which runs wait, in what order, how many, and the table
that shows them — kept in the cache (``core.fragments``) until something it shows changes.

The key holds the viewer, their filters and the generations of what the viewer's queue may show:
their mentees' work as one generation (``mentor_generation``; for an administrator, everyone's:
``LEARNERS``), the curriculum (lab titles and thresholds) and people's names (``PEOPLE``). A
review, a dismissal, a run that ends, a mentee who joins or leaves, a renamed lab or person
changes it. The table is rendered without the request: the page puts its CSRF token and its own
address (where the forms return) in place of placeholders."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cohorts.permissions import is_admin
from core.cache import cache_generations
from core.fragments import CURRICULUM, LEARNERS, PEOPLE, fragment, fragment_key, mentor_generation
from core.models import User
from labs.diagnosis import finding_title, run_findings
from labs.models import Run
from mentorship import selectors
from mentorship.forms import DismissForm

ROWS_TEMPLATE = "mentorship/_queue_rows.html"
CSRF_PLACEHOLDER = "csrf-placeholder-5f0c2a"  # letters that escaping leaves as they are
NEXT_PLACEHOLDER = "next-placeholder-5f0c2a"


def review_queue_page(
    request: HttpRequest, *, mentor: User, filters: dict[str, Any], number: str | None, per_page: int
) -> tuple[Page, SafeString]:
    """Page ``number`` of the mentor's review queue (``selectors.review_queue`` with ``filters``)
    and its table, for ``request`` (its query string, CSRF token and address)."""
    base = (mentor.pk, _digest(_generations(mentor)), _digest(sorted(filters.items())))
    runs = selectors.review_queue(mentor=mentor, **filters).prefetch_related(None)
    count = fragment(fragment_key("review-queue-count", *base), runs.count)
    page = Paginator(range(count), per_page).get_page(number)
    start = (page.number - 1) * per_page
    rows = fragment(
        fragment_key("review-queue-page", *base, per_page, page.number),
        lambda: list(runs[start : start + per_page].values_list("pk", "earlier_runs")),
    )
    page.object_list = rows
    query = request.GET.copy()
    query.pop("page", None)  # the table's links keep the rest of the query string

    def render() -> str:
        found = selectors.queue_rows(Run.objects.filter(pk__in=[pk for pk, _earlier in rows])).in_bulk()
        context = {
            "runs": [_row(found[pk], earlier) for pk, earlier in rows if pk in found],
            "query": query,
            "next_path": NEXT_PLACEHOLDER,
            "csrf_token": CSRF_PLACEHOLDER,
            "dismiss_form": DismissForm(),
        }
        return render_to_string(ROWS_TEMPLATE, context)

    key = fragment_key("review-queue-rows", *base, per_page, page.number, _digest(sorted(query.lists())))
    table = fragment(key, render).replace(CSRF_PLACEHOLDER, get_token(request))
    table = table.replace(NEXT_PLACEHOLDER, escape(request.get_full_path()))
    return page, mark_safe(table)  # noqa: S308 -- the template escaped the rows; the token and path are escaped here


def _generations(mentor: User) -> list[tuple[str, int]]:
    """What the mentor's queue shows, with their generations (read before the queue is)."""
    admin = is_admin(mentor)
    names = [LEARNERS if admin else mentor_generation(mentor.pk), CURRICULUM, PEOPLE]
    generations = cache_generations(*names)
    return [("admin" if admin else "mentor", 0), *((name, generations[name]) for name in names)]


def _digest(parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _row(run: Run, earlier_runs: int) -> Run:
    run.earlier_runs = earlier_runs
    run.finding_titles = [finding_title(finding["code"]) for finding in run_findings(run)]
    return run
