"""One submission budget per learner, shared by the API and the web pages: every request for a new
run (a submission or a re-run, accepted or not) counts against the ``submissions`` rate
(``API_THROTTLE_SUBMISSIONS``, e.g. 30/minute). A refused request stores and queues nothing."""

from __future__ import annotations

import math

from django.http import HttpRequest
from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled
from rest_framework.throttling import UserRateThrottle


class SubmissionRateThrottle(UserRateThrottle):
    scope = "submissions"


def submission_wait(request: HttpRequest) -> int | None:
    """Count this request for a new run: None if it may go on, else the seconds to wait."""
    throttle = SubmissionRateThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def submission_throttled_message(wait: int) -> str:
    return ngettext(
        "Too many submissions in a short time. Try again in %(seconds)d second.",
        "Too many submissions in a short time. Try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}


def submission_throttled(wait: float | None) -> Throttled:
    """The API's 429 for a throttled submission, with the web page's message and a Retry-After."""
    seconds = max(1, math.ceil(wait or 1))
    error = Throttled(detail=submission_throttled_message(seconds))
    error.wait = seconds
    return error
