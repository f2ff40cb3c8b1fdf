"""The site's own pages: the signed-in home of each role (it reads from every app, so it lives at
the top) and the health probes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coach.profile import skill_profile
from coach.recommend import next_steps_cached
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
        return render(request, "home/landing.html", _landing(request))
    context: dict[str, object] = {}
    if role == Role.LEARNER:
        context["recent_runs"] = labs_selectors.runs_of(learner=request.user).order_by("-queued_at")[:5]
        context["continue_items"] = courses_selectors.learner_continue(request.user)
        context["next_steps"] = next_steps_cached(request.user)
        context["skill_levels"] = skill_profile(request.user)
    if role == Role.MENTOR:
        context["statuses"] = mentorship_selectors.mentor_dashboard(mentor=request.user)
        context["queue_size"] = mentorship_selectors.review_queue(mentor=request.user).count()
    if role == Role.ADMIN:
        context["runs_by_state"] = labs_selectors.run_counts_by_state()
        context["users_per_role"] = core_selectors.users_per_role()
        _, context["health"] = health.health_report()
    return render(request, f"home/home_{role}.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links: send them to the site's SVG icon (under
    its hashed name in production, so the redirect is cached a day, not for ever)."""
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response


def _landing(request: HttpRequest) -> dict[str, object]:
    """What a visitor can see before signing in: a few courses and labs, and how much there is."""
    courses = courses_selectors.catalog_courses(request.user)
    labs = labs_selectors.labs_published().order_by("device_class", "threshold", "slug")
    return {
        "featured_courses": courses[:3],
        "featured_labs": labs[:4],
        "course_count": courses.count(),
        "lab_count": labs.count(),
        "runs_scored": labs_selectors.runs_scored_count(),
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The whole platform's status (database, broker, queues, workers per queue): 503 when a part is
    down or no lab worker is registered (``config.health``). Not a probe: /readyz and /livez are."""
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
