"""A mentor's pins and hides, posted from the mentee page (``mentorship:mentee``), which shows them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coach import services
from coach.models import Choice
from cohorts.permissions import can_mentor
from core.models import User


def _learner(request: HttpRequest, username: str) -> User:
    learner = User.objects.filter(username=username).first()
    if learner is None or not can_mentor(request.user, learner.pk):
        raise Http404
    return learner


def _back(learner: User) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("mentorship:mentee", args=[learner.username]) + "#next-steps")


@login_required
@require_POST
def choice_create(request: HttpRequest, username: str) -> HttpResponse:
    learner = _learner(request, username)
    kind = request.POST.get("kind", "")
    try:
        services.choice_create(
            mentor=request.user,
            learner=learner,
            kind=kind,
            target=request.POST.get("target", ""),
            note=request.POST.get("note", ""),
        )
    except services.ChoiceRefused as refused:
        messages.error(request, refused.message)
    else:
        if kind == Choice.Kind.PIN:
            messages.success(request, _("Pinned: it comes first in %(learner)s's next steps.") % {"learner": learner})
        else:
            messages.success(request, _("Hidden: the coach will not suggest it to %(learner)s.") % {"learner": learner})
    return _back(learner)


@login_required
@require_POST
def choice_delete(request: HttpRequest, username: str, choice_id: int) -> HttpResponse:
    learner = _learner(request, username)
    choice = get_object_or_404(Choice, pk=choice_id, learner=learner)
    services.choice_delete(by=request.user, choice=choice)
    messages.success(request, _("Taken back."))
    return _back(learner)
