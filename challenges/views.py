"""The challenge pages: the list, a challenge (rules, phases, the viewer's team, quota, entries and
final picks, the live leaderboard and the entry form), a phase's leaderboards (public, and the final
ranking with its shake-up after the reveal), the leaderboard fragment the page polls, the team page,
and the administrators' form for a new challenge.

A challenge the viewer may not see answers 404, as one that does not exist. Writes go through
``challenges.services``; their refusals (``ChallengeError``) are shown on the page, nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from challenges import selectors, services
from challenges.forms import ChallengeCreateForm, EntryForm, FinalPicksForm, TeamCreateForm, TeamInviteForm
from challenges.models import Challenge, Entry, Phase, Team, TeamInvite
from challenges.selectors import FinalPick, FinalRow, Row
from cohorts import selectors as cohort_selectors
from cohorts.permissions import is_admin
from core import selectors as core_selectors
from core.live import board_topic
from labs import selectors as lab_selectors
from labs.permissions import can_view_run
from labs.throttling import submission_throttled_message, submission_wait
from labs.validation import SubmissionRejected

BOARD_POLL_SECONDS = 10  # how often an open phase's leaderboard asks for news (static/js/board.js)


# --- What the pages show ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseView:
    """A phase with its state now (``selectors.phase_state``)."""

    phase: Phase
    state: str

    @property
    def fit_for_ranking(self) -> bool:
        return self.phase.lab.fit_for_ranking


def _phase_view(phase: Phase, now: datetime) -> PhaseView:
    return PhaseView(phase=phase, state=selectors.phase_state(phase, now))


def _visible_challenge(request: HttpRequest, slug: str) -> Challenge:
    challenge = selectors.challenge_for(viewer=request.user, slug=slug)
    if challenge is None:
        raise Http404
    return challenge


def _phase_of(challenge: Challenge, position: int) -> Phase:
    phase = selectors.phases_of(challenge).filter(position=position).first()
    if phase is None:
        raise Http404
    phase.challenge = challenge  # the one already read
    return phase


def _team_of(request: HttpRequest, challenge: Challenge) -> Team | None:
    if not request.user.is_authenticated:
        return None
    return selectors.team_of(challenge=challenge, user=request.user)


def _board_context(request: HttpRequest, phase: Phase, team: Team | None) -> dict[str, Any]:
    """The public leaderboard of ``phase`` and its baselines, as ``viewer`` may see them."""
    rows: list[Row] = selectors.public_leaderboard(phase=phase, viewer=request.user)
    baselines: list[Row] = selectors.baseline_rows(phase=phase, viewer=request.user)
    return {
        "phase": phase,
        "rows": rows,
        "baselines": baselines,
        "show_private": any(row.private_score is not None for row in rows + baselines),
        "show_public": selectors.scores_visible(phase=phase, viewer=request.user)[0],
        "my_team_id": team.pk if team else None,
        "my_id": request.user.pk if request.user.is_authenticated else None,
        "board_open": phase.is_open(),
        # The pages follow the board while it is open (static/js/board.js), as the viewer may see it.
        "live_topics": [board_topic(phase.challenge.slug, phase.position)] if phase.is_open() else [],
    }


@dataclass(frozen=True)
class FinalView:
    """A row of the final ranking with the pick that gave its score, and its move in places."""

    row: FinalRow
    best: FinalPick | None

    @property
    def up(self) -> int:
        return max(self.row.move or 0, 0)

    @property
    def down(self) -> int:
        return max(-(self.row.move or 0), 0)


def _final_rows(phase: Phase) -> list[FinalView]:
    """The final ranking, each row with the pick that gave its final score."""
    return [
        FinalView(row=row, best=next((p for p in row.picks if p.private_score == row.final_score), None))
        for row in selectors.final_leaderboard(phase=phase)
    ]


@dataclass(frozen=True)
class EntryView:
    entry: Entry
    run_link: bool
    default_pick: bool


# --- The list -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeCard:
    challenge: Challenge
    current: PhaseView | None
    labs: list[PhaseView]  # one phase per lab, for the lab's "fit for ranking" line


_STATE_ORDER = {"open": 0, "upcoming": 1, "ended": 2, "revealed": 3}  # the list: open ones first, newest first


@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    """The challenges the viewer may see (public, like the lab list)."""
    now = timezone.now()
    cards = []
    challenges = selectors.challenges_visible(viewer=request.user).prefetch_related(
        Prefetch("phases", queryset=Phase.objects.select_related("lab").order_by("position", "starts_at", "pk")),
        "cohorts",
    )
    for challenge in challenges:
        phases = list(challenge.phases.all())
        current = selectors.phase_current(challenge, now=now)
        by_lab = {phase.lab_id: _phase_view(phase, now) for phase in reversed(phases)}
        cards.append(
            ChallengeCard(
                challenge=challenge,
                current=_phase_view(current, now) if current else None,
                labs=sorted(by_lab.values(), key=lambda view: view.phase.position),
            )
        )
    cards.sort(key=lambda card: _STATE_ORDER[card.current.state] if card.current else len(_STATE_ORDER))  # stable
    return render(request, "challenges/challenge_list.html", {"cards": cards, "is_admin": is_admin(request.user)})


# --- A challenge --------------------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    challenge: Challenge,
    *,
    phase: Phase | None = None,
    form: EntryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    phases = [_phase_view(p, now) for p in selectors.phases_of(challenge)]
    current = phase or selectors.phase_current(challenge, now=now)
    if current is not None:
        current.challenge = challenge
    user = request.user
    team = _team_of(request, challenge)
    labs = list({view.phase.lab_id: view for view in reversed(phases)}.values())[::-1]
    context: dict[str, Any] = {
        "challenge": challenge,
        "phases": phases,
        "labs": labs,
        "current": _phase_view(current, now) if current else None,
        "team": team,
        "team_members": list(team.members.select_related("user")) if team else [],
        "is_admin": is_admin(user),
        "may_take_part": user.is_authenticated and selectors.can_take_part(challenge=challenge, user=user),
        "poll_seconds": BOARD_POLL_SECONDS,
    }
    if current is None:
        return render(request, "challenges/challenge_detail.html", context, status=status)
    context.update(_board_context(request, current, team))
    if user.is_authenticated:
        entries = list(selectors.entries_of(phase=current, contestant=user).select_related("run", "learner"))
        chosen = any(entry.final for entry in entries)
        show_public = selectors.scores_visible(phase=current, viewer=user)[0]
        defaults = (
            {e.pk for e in selectors.final_picks_default(phase=current, contestant=user)}
            if not chosen and show_public
            else set()
        )
        context.update(
            {
                "quota": selectors.entry_quota(phase=current, learner=user),
                "entries": [
                    EntryView(entry=e, run_link=can_view_run(user, e.run), default_pick=e.pk in defaults)
                    for e in entries
                ],
                "picks_chosen": chosen,
                "picks_open": not current.has_ended(),
                "show_entry_private": current.revealed_at is not None,
            }
        )
        if form is not None or (context["may_take_part"] and current.is_open(now)):  # a refused form stays
            context["form"] = form or EntryForm(lab=current.lab, initial={"code": current.lab.starter_code})
            # the editor's unsent draft in this browser (static/js/editor.js; signing out forgets it)
            context["draft_key"] = f"academy:draft:{user.pk}:challenge:{challenge.slug}:{current.position}"
    return render(request, "challenges/challenge_detail.html", context, status=status)


@require_GET
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail_page(request, _visible_challenge(request, slug))


@login_required
@require_POST
def entry_create(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    """An entry from the challenge's page: its run's page on success; the page again with the
    reasons, and the code as sent, on a refusal."""
    challenge = _visible_challenge(request, slug)
    phase = _phase_of(challenge, position)
    form = EntryForm(request.POST, lab=phase.lab)
    wait = submission_wait(request)
    if wait is not None:  # the same budget as the lab page's and the API's, nothing stored
        form.is_valid()
        form.add_error(None, submission_throttled_message(wait))
        return _detail_page(request, challenge, phase=phase, form=form, status=429)
    if form.is_valid():
        try:
            run = services.entry_submit(
                phase=phase, learner=request.user, code=form.cleaned_data["code"], params=form.params()
            )
        except services.ChallengeError as error:
            form.add_error(None, str(error))
        except SubmissionRejected as rejected:
            for error in rejected.errors:
                form.add_error(None, error)
        else:
            return HttpResponseRedirect(run.get_absolute_url())
    return _detail_page(request, challenge, phase=phase, form=form, status=400)


@login_required
@require_POST
def final_picks(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    phase = _phase_of(challenge, position)
    entries = list(selectors.entries_of(phase=phase, contestant=request.user))
    form = FinalPicksForm(request.POST, phase=phase, entries=entries)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            services.final_picks_set(phase=phase, learner=request.user, entry_ids=form.cleaned_data["entries"])
        except services.ChallengeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your final picks are saved."))
    return HttpResponseRedirect(reverse("challenges:detail", args=[challenge.slug]) + "#entries")


# --- A phase ------------------------------------------------------------------------------------------


@require_GET
def phase_detail(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    phase = _phase_of(challenge, position)
    now = timezone.now()
    context = {
        "challenge": challenge,
        "current": _phase_view(phase, now),
        "final_rows": _final_rows(phase),
        "poll_seconds": BOARD_POLL_SECONDS,
        **_board_context(request, phase, _team_of(request, challenge)),
    }
    return render(request, "challenges/phase_detail.html", context)


@require_GET
def phase_board(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    """The public leaderboard alone (``challenges/_board.html``), which static/js/board.js puts in the
    page while the phase is open."""
    challenge = _visible_challenge(request, slug)
    phase = _phase_of(challenge, position)
    response = render(request, "challenges/_board.html", _board_context(request, phase, _team_of(request, challenge)))
    response["Cache-Control"] = "no-store"
    return response


# --- Teams --------------------------------------------------------------------------------------------


def _team_page(
    request: HttpRequest,
    challenge: Challenge,
    *,
    create_form: TeamCreateForm | None = None,
    invite_form: TeamInviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    team = _team_of(request, challenge)
    my_invites = (
        TeamInvite.objects.filter(
            team__challenge=challenge, invitee=user, accepted_at__isnull=True, declined_at__isnull=True
        )
        .select_related("team", "invited_by")
        .order_by("-created_at")
    )
    context = {
        "challenge": challenge,
        "team": team,
        "members": list(team.members.select_related("user")) if team else [],
        "sent_invites": (
            list(team.invites.filter(accepted_at__isnull=True, declined_at__isnull=True).select_related("invitee"))
            if team
            else []
        ),
        "team_has_entries": team is not None and team.entries.exists(),
        "entered_alone": team is None and selectors.has_entries(challenge=challenge, user=user),
        "may_take_part": selectors.can_take_part(challenge=challenge, user=user),
        "my_invites": list(my_invites),
        "create_form": create_form or TeamCreateForm(),
        "invite_form": invite_form or TeamInviteForm(),
    }
    return render(request, "challenges/team.html", context, status=status)


def _to_team_page(challenge: Challenge) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("challenges:team", args=[challenge.slug]))


@login_required
@require_GET
def team(request: HttpRequest, slug: str) -> HttpResponse:
    return _team_page(request, _visible_challenge(request, slug))


@login_required
@require_POST
def team_create(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    form = TeamCreateForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_create(challenge=challenge, user=request.user, name=form.cleaned_data["name"])
        except services.ChallengeError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("Team “%(name)s” created: invite the others.") % {"name": team.name})
            return _to_team_page(challenge)
    return _team_page(request, challenge, create_form=form, status=400)


@login_required
@require_POST
def team_invite(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    form = TeamInviteForm(request.POST)
    team = _team_of(request, challenge)
    if team is None:
        form.add_error(None, _("Create a team first, or accept an invitation."))
    elif form.is_valid():
        username = form.cleaned_data["username"].strip()
        invitee = core_selectors.user_by_username(username)
        if invitee is None:
            form.add_error("username", _("No user is called “%(username)s”.") % {"username": username})
        else:
            try:
                services.team_invite(team=team, invited_by=request.user, invitee=invitee)
            except services.ChallengeError as error:
                form.add_error("username", str(error))
            else:
                messages.success(request, _("%(user)s is invited.") % {"user": invitee.username})
                return _to_team_page(challenge)
    return _team_page(request, challenge, invite_form=form, status=400)


@login_required
@require_POST
def team_leave(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    try:
        services.team_leave(user=request.user, challenge=challenge)
    except services.ChallengeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You left the team."))
    return _to_team_page(challenge)


def _my_invite(request: HttpRequest, challenge: Challenge, invite_id: int) -> TeamInvite:
    invite = TeamInvite.objects.filter(pk=invite_id, team__challenge=challenge, invitee=request.user).first()
    if invite is None:
        raise Http404
    return invite


@login_required
@require_POST
def invite_accept(request: HttpRequest, slug: str, invite_id: int) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    invite = _my_invite(request, challenge, invite_id)
    try:
        member = services.invite_accept(invite=invite, user=request.user)
    except services.ChallengeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You joined %(team)s.") % {"team": member.team.name})
    return _to_team_page(challenge)


@login_required
@require_POST
def invite_decline(request: HttpRequest, slug: str, invite_id: int) -> HttpResponse:
    challenge = _visible_challenge(request, slug)
    invite = _my_invite(request, challenge, invite_id)
    try:
        services.invite_decline(invite=invite, user=request.user)
    except services.ChallengeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invitation declined."))
    return _to_team_page(challenge)


# --- A new challenge (administrators) -----------------------------------------------------------------


def administrators_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in administrators; anyone else signed in gets 404, as the lab authoring pages do."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _create_form(request: HttpRequest) -> ChallengeCreateForm:
    labs = lab_selectors.labs_published().order_by("title_en")
    cohorts = cohort_selectors.cohorts_all().order_by("name")
    if request.method == "POST":
        return ChallengeCreateForm(request.POST, labs=labs, cohorts=cohorts)
    start = timezone.localtime().replace(second=0, microsecond=0)
    initial = {"starts_at": start, "ends_at": start + timedelta(days=14)}
    return ChallengeCreateForm(labs=labs, cohorts=cohorts, initial=initial)


@administrators_only
def challenge_create(request: HttpRequest) -> HttpResponse:
    form = _create_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.challenge_create(created_by=request.user, **form.challenge(), phases=[form.phase()])
        except ValidationError as error:
            _add_errors(form, error)
        except services.ChallengeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The challenge was created. Django's admin edits it and adds phases."))
            return HttpResponseRedirect(reverse("challenges:detail", args=[challenge.slug]))
    status = 400 if request.method == "POST" else 200
    return render(request, "challenges/challenge_create.html", {"form": form}, status=status)


def _add_errors(form: ChallengeCreateForm, error: ValidationError) -> None:
    """A model's refusal on the form: beside its field where the form has one, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)
