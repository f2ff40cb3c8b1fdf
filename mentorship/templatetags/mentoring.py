"""What the mentorship app adds to pages of the apps below it: the run page shows a run's reviews
and its code with the mentors' line comments (``{% run_reviews run as review %}``), so the labs
app shows reviews without importing this one."""

from __future__ import annotations

from typing import Any

from django import template

from cohorts.permissions import can_mentor, can_see_learner
from labs.models import Run
from mentorship import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def run_reviews(context: template.Context, run: Run) -> dict[str, Any]:
    """The run's reviews, its code lines with their comments, and whether the viewer may review it."""
    user = context["request"].user
    # A mentor's reviews are the learner's side's (the learner, their mentor, administrators): a run
    # shared with others (a teammate's challenge entry) shows its code without them.
    reviews = selectors.reviews_of(run) if can_see_learner(user, run.submission.learner_id) else []
    return {
        "reviews": reviews,
        "code_lines": selectors.code_with_comments(run.submission.code, reviews),
        "can_review": run.is_final and can_mentor(user, run.submission.learner_id),
    }
