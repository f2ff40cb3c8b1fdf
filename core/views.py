from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core import selectors, services
from core.forms import ApiTokenForm, ProfileForm


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


class SignOutView(LogoutView):
    """Django's sign-out, and the browser forgets what the site kept in it: the editor's unsent drafts
    (localStorage), which the next person on a shared computer would see. Browsers honour
    ``Clear-Site-Data`` only over https or on localhost, so static/js/signout.js clears the drafts too."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"storage"'
        return response


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


@never_cache  # the page that shows a new key must not be kept by the browser or a proxy
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a POST makes one and shows its key, this once (it is never stored)."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, key = services.token_create(user=request.user, name=form.cleaned_data["name"])
        created = {"token": token, "key": key}
        form = ApiTokenForm()
    context = {
        "form": form,
        "created": created,
        "tokens": selectors.tokens_of(user=request.user),
        "site": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "core/api_tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Asks first (GET), revokes on POST. Only the user's own tokens: anyone else's is a 404."""
    token = selectors.token_of(user=request.user, token_id=token_id)
    if token is None:
        raise Http404
    if token.is_revoked:
        messages.info(request, _("The token “%(name)s” was already revoked.") % {"name": token.name})
        return redirect("api_tokens")
    if request.method == "POST":
        services.token_revoke(token=token, by=request.user)
        message = _("The token “%(name)s” was revoked: programs using it are now refused.")
        messages.success(request, message % {"name": token.name})
        return redirect("api_tokens")
    return render(request, "core/api_token_revoke.html", {"token": token})
