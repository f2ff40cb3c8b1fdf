from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import selectors, services
from core.forms import ProfileForm
from core.models import Role
from core.roles import primary_role
from courses import selectors as courses_selectors
from labs import selectors as labs_selectors
from mentorship import selectors as mentorship_selectors


def home(request: HttpRequest) -> HttpResponse:
    role = primary_role(request.user)
    if role is None:
        return render(request, "core/landing.html")
    context: dict[str, object] = {}
    if role == Role.LEARNER:
        context["recent_runs"] = labs_selectors.runs_of(learner=request.user).order_by("-queued_at")[:5]
        context["continue_items"] = courses_selectors.learner_continue(request.user)
    if role == Role.MENTOR:
        context["statuses"] = mentorship_selectors.mentor_dashboard(mentor=request.user)
        context["queue_size"] = mentorship_selectors.review_queue(mentor=request.user).count()
    if role == Role.ADMIN:
        context["runs_by_state"] = labs_selectors.run_counts_by_state()
        context["users_per_role"] = selectors.users_per_role()
        _, context["health"] = selectors.health_report()
    return render(request, f"core/home_{role}.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The whole platform's status (database, broker, queues, workers): 503 when a part is down."""
    healthy, report = selectors.health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness of this web process (the load balancer's probe): 503 only without its database.
    A broker outage shows in the report but keeps the web tier serving."""
    ready, report = selectors.readiness_report()
    return JsonResponse(report, status=200 if ready else 503)


@never_cache
@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database or broker (that is /readyz)."""
    return HttpResponse("ok", content_type="text/plain")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        if user.preferred_language:
            translation.activate(user.preferred_language)
        messages.success(request, _("Your profile was saved."))
        return HttpResponseRedirect(request.path)
    return render(request, "core/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the page language; a signed-in user's choice is also saved to their profile."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unknown language."))
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
