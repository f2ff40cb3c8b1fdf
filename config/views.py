"""The site's own pages: the signed-in home of each role (it reads from every app, so it lives at
the top) and the health probes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import health
from core import selectors as core_selectors
from core.models import Role
from core.roles import primary_role
from courses import selectors as courses_selectors
from labs import selectors as labs_selectors
from mentorship import selectors as mentorship_selectors


def home(request: HttpRequest) -> HttpResponse:
    role = primary_role(request.user)
    if role is None:
        return render(request, "home/landing.html")
    context: dict[str, object] = {}
    if role == Role.LEARNER:
        context["recent_runs"] = labs_selectors.runs_of(learner=request.user).order_by("-queued_at")[:5]
        context["continue_items"] = courses_selectors.learner_continue(request.user)
    if role == Role.MENTOR:
        context["statuses"] = mentorship_selectors.mentor_dashboard(mentor=request.user)
        context["queue_size"] = mentorship_selectors.review_queue(mentor=request.user).count()
    if role == Role.ADMIN:
        context["runs_by_state"] = labs_selectors.run_counts_by_state()
        context["users_per_role"] = core_selectors.users_per_role()
        _, context["health"] = health.health_report()
    return render(request, f"home/home_{role}.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The whole platform's status (database, broker, queues, workers): 503 when a part is down."""
    healthy, report = health.health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness of this web process (the load balancer's probe): 503 only without its database.
    A broker outage shows in the report but keeps the web tier serving."""
    ready, report = health.readiness_report()
    return JsonResponse(report, status=200 if ready else 503)


@never_cache
@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database or broker (that is /readyz)."""
    return HttpResponse("ok", content_type="text/plain")
