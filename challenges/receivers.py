"""What challenges hears from the apps below it (``challenges.apps`` connects these)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from challenges.models import Entry, Phase, Rerun
from challenges.selectors import PUBLIC_DECIMALS, challenges_visible, rounded
from challenges.services import baselines_changed, run_scores_store
from core.models import User
from labs.models import Lab, Run


def run_ended_receive(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """``labs.signals.run_ended_signal``: store the run's public and private scores when it is an
    entry's or a re-run's (inside the transaction that ended the run); a lab's reference run is the
    baseline of the boards of the phases on the lab."""
    run_scores_store(run_id=run_id)
    baselines_changed(run_id=run_id)


def run_notes_receive(sender: Any, *, run: Run, viewer: User, **kwargs: Any) -> list[tuple[str, str]] | None:
    """``labs.signals.run_notes_signal``: on an entry's run page, its challenge and phase and its public
    score (rounded as the leaderboard rounds it) — never the private one; in a blind phase, until it
    ends, no score at all; before the entry is scored, nothing. Whoever may see the run may read it.
    On a sealed run that is no entry (made on the lab's own page, the API, …), until when it is sealed."""
    entry = Entry.objects.select_related("phase__challenge").filter(run_id=run.pk).first()
    if entry is None and run.sealed:  # a direct run of a lab a challenge seals: until when
        note = _sealed_until(lab=run.submission.lab, viewer=viewer)
        return None if note is None else [note]
    if entry is None or entry.public_score is None:
        return None
    phase = entry.phase
    values = {"challenge": phase.challenge.title, "phase": phase.title}
    if phase.blind and not phase.has_ended():
        text = _("Entry in %(challenge)s — %(phase)s: blind phase: scores are shown when the phase ends") % values
    else:
        values["score"] = f"{rounded(entry.public_score):.{PUBLIC_DECIMALS}f}"  # as the leaderboard shows it
        text = _("Entry in %(challenge)s — %(phase)s: public score %(score)s") % values
    return [(text, reverse("challenges:detail", args=[phase.challenge.slug]))]


def run_sealing_receive(sender: Any, *, lab: Lab, **kwargs: Any) -> bool:
    """``labs.signals.run_sealing_signal``: a new run of ``lab`` is sealed while a phase on the lab is
    not revealed yet, published or not (a run made before publishing would tell as much)."""
    return Phase.objects.filter(lab=lab, revealed_at__isnull=True).exists()


def _sealed_until(*, lab: Lab, viewer: User | AnonymousUser) -> tuple[str, str] | None:
    """The note that ``lab``'s scores are sealed until the last of its unrevealed phases ends: naming
    and linking that phase's challenge only when ``viewer`` may see it (else no name, no link). None
    when no phase on the lab waits for its reveal."""
    phases = list(
        Phase.objects.filter(lab=lab, revealed_at__isnull=True).select_related("challenge").order_by("-ends_at", "pk")
    )
    if not phases:
        return None
    date = timezone.localtime(phases[0].ends_at).strftime("%Y-%m-%d %H:%M")  # as the pages write a moment
    ids = {p.challenge_id for p in phases}
    visible = set(challenges_visible(viewer=viewer).filter(pk__in=ids).values_list("pk", flat=True))
    for phase in phases:
        challenge = phase.challenge
        if challenge.pk in visible:  # as challenge_for decides
            text = _(
                "This lab is used by the challenge %(challenge)s: its scores are sealed until %(date)s, "
                "when the challenge's phase ends"
            ) % {"challenge": challenge.title, "date": date}
            return text, reverse("challenges:detail", args=[challenge.slug])
    text = _("This lab is used by a challenge: its scores are sealed until %(date)s, when the challenge's phase ends")
    return text % {"date": date}, ""


def lab_notes_receive(
    sender: Any, *, lab: Lab, viewer: User | AnonymousUser, **kwargs: Any
) -> list[tuple[str, str]] | None:
    """``labs.signals.lab_notes_signal``: on the page of a lab that a challenge seals, until when."""
    note = _sealed_until(lab=lab, viewer=viewer)
    return None if note is None else [note]


def run_sharing_receive(sender: Any, *, viewer: User, **kwargs: Any) -> Q:
    """``labs.signals.run_sharing_signal``: a team's members see each other's entries in its challenge,
    and their re-runs (a subquery: a join through the members would repeat a run once per member)."""
    entries = Entry.objects.filter(team__members__user=viewer)
    return Q(pk__in=entries.values("run_id")) | Q(pk__in=Rerun.objects.filter(entry__in=entries).values("run_id"))
