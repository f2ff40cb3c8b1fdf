"""The leaderboards (challenges.selectors): public (rounded, ties, hidden private scores, blind
mode), final (re-run means, spread, public rank) and the baseline rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from challenges.models import Entry, Phase, Rerun
from challenges.selectors import baseline_rows, final_leaderboard, public_leaderboard
from challenges.services import invite_accept, team_create, team_invite
from core.models import User
from labs.models import Lab, Run
from tests.challenges.conftest import entry_create
from tests.factories import UserFactory
from tests.mentorship.conftest import queued_result


def scored(phase: Phase, learner: User, public: float, private: float, **kwargs: object) -> Entry:
    entry = entry_create(phase, learner, public_score=public, **kwargs)
    Entry.objects.filter(pk=entry.pk).update(private_score=private)
    entry.private_score = private
    return entry


def end(phase: Phase, *, revealed: bool) -> None:
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(
        starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1), revealed_at=now if revealed else None
    )
    phase.refresh_from_db()


def test_one_row_per_contestant_with_their_best_rounded_score(phase: Phase, learner: User, other_learner: User) -> None:
    scored(phase, learner, 0.71234567, 0.6)
    scored(phase, learner, 0.5, 0.9)
    scored(phase, other_learner, 0.81234, 0.7)
    entry_create(phase, UserFactory(username="nobody"), public_score=None)  # no scored entry: no row
    rows = public_leaderboard(phase=phase, viewer=learner)
    assert [(r.rank, r.name, r.entries, r.public_score) for r in rows] == [
        (1, str(other_learner), 1, 0.8123),
        (2, str(learner), 2, 0.7123),
    ]
    assert [r.private_score for r in rows] == [None, None]  # hidden before the reveal


def test_scores_equal_once_rounded_share_a_rank(phase: Phase) -> None:
    users = [UserFactory(username=name) for name in ("a", "b", "c", "d")]
    for user, score in zip(users, (0.9, 0.80001, 0.80004, 0.7), strict=True):
        scored(phase, user, score, 0.5)
    assert [r.rank for r in public_leaderboard(phase=phase, viewer=users[0])] == [1, 2, 2, 4]


def test_lower_is_better_ranks_the_lowest_first(phase: Phase, learner: User, other_learner: User) -> None:
    Lab.objects.filter(pk=phase.lab_id).update(metric="mse", higher_is_better=False)
    phase.lab.refresh_from_db()
    scored(phase, learner, 2.0, 1.0)
    scored(phase, other_learner, 1.0, 1.0)
    assert [r.name for r in public_leaderboard(phase=phase, viewer=learner)] == [str(other_learner), str(learner)]


def test_a_team_is_one_row(phase: Phase, learner: User, other_learner: User) -> None:
    team = team_create(challenge=phase.challenge, user=learner, name="Pair")
    invite_accept(invite=team_invite(team=team, invited_by=learner, invitee=other_learner), user=other_learner)
    scored(phase, learner, 0.6, 0.5, team=team)
    scored(phase, other_learner, 0.7, 0.5, team=team)
    rows = public_leaderboard(phase=phase, viewer=learner)
    assert [(r.name, r.entries, r.public_score, r.team_id) for r in rows] == [("Pair", 2, 0.7, team.pk)]


def test_private_scores_show_to_administrators_and_to_all_once_revealed(
    phase: Phase, learner: User, admin_user: User
) -> None:
    scored(phase, learner, 0.7, 0.6)
    assert public_leaderboard(phase=phase, viewer=admin_user)[0].private_score == 0.6
    end(phase, revealed=False)
    assert public_leaderboard(phase=phase, viewer=learner)[0].private_score is None  # ended is not revealed
    end(phase, revealed=True)
    assert public_leaderboard(phase=phase, viewer=learner)[0].private_score == 0.6


def test_a_blind_phase_shows_no_public_scores_nor_ranks_until_it_ends(
    phase: Phase, learner: User, other_learner: User, admin_user: User
) -> None:
    Phase.objects.filter(pk=phase.pk).update(blind=True)
    phase.refresh_from_db()
    scored(phase, learner, 0.9, 0.6)
    scored(phase, other_learner, 0.7, 0.6)
    rows = public_leaderboard(phase=phase, viewer=learner)
    assert {(r.rank, r.public_score, r.private_score) for r in rows} == {(None, None, None)}
    assert [r.public_score for r in public_leaderboard(phase=phase, viewer=admin_user)] == [0.9, 0.7]
    end(phase, revealed=False)
    assert [(r.rank, r.public_score) for r in public_leaderboard(phase=phase, viewer=learner)] == [(1, 0.9), (2, 0.7)]


def test_the_public_leaderboard_takes_as_many_queries_for_many_rows(
    phase: Phase, learner: User, django_assert_max_num_queries: object
) -> None:
    def count_queries() -> int:
        with django_assert_max_num_queries(100) as captured:
            public_leaderboard(phase=phase, viewer=learner)
        return len(captured)

    scored(phase, learner, 0.5, 0.5)
    public_leaderboard(phase=phase, viewer=learner)  # the viewer's permissions, read once per user object
    few = count_queries()
    for n in range(10):
        scored(phase, UserFactory(username=f"u{n}"), 0.1 * n, 0.5)
    assert count_queries() == few


# --- The final ranking -----------------------------------------------------------------------------------


def test_no_final_ranking_before_the_reveal(phase: Phase, learner: User) -> None:
    scored(phase, learner, 0.7, 0.6)
    end(phase, revealed=False)
    assert final_leaderboard(phase=phase) == []


def test_the_final_ranking_uses_rerun_means_and_shows_the_shake_up(
    phase: Phase, learner: User, other_learner: User
) -> None:
    leader = scored(phase, learner, 0.9, 0.5)  # first in public, ...
    scored(phase, learner, 0.8, 0.55)
    scored(phase, learner, 0.1, 0.99)  # not a default pick: its private score never counts
    chaser = scored(phase, other_learner, 0.7, 0.2)
    for seed, private in ((1, 0.6), (2, 0.8), (3, None)):  # an unfinished re-run does not count
        Rerun.objects.create(entry=chaser, seed=seed, private_score=private)
    end(phase, revealed=True)
    first, second = final_leaderboard(phase=phase)
    assert (first.name, first.rank, first.public_rank, first.move) == (str(other_learner), 1, 2, 1)
    assert first.final_score == pytest.approx(0.7)
    (pick,) = first.picks
    assert (pick.entry_id, pick.reruns) == (chaser.pk, 2)
    assert (pick.private_score, pick.spread) == (pytest.approx(0.7), pytest.approx(0.1))
    assert (second.name, second.rank, second.public_rank, second.move, second.final_score) == (
        str(learner),
        2,
        1,
        -1,
        0.55,
    )
    assert leader.pk in [p.entry_id for p in second.picks]


def test_explicit_final_picks_count_instead_of_the_defaults(phase: Phase, learner: User) -> None:
    scored(phase, learner, 0.9, 0.5)
    picked = scored(phase, learner, 0.1, 0.99)
    Entry.objects.filter(pk=picked.pk).update(final=True)
    end(phase, revealed=True)
    (row,) = final_leaderboard(phase=phase)
    assert ([p.entry_id for p in row.picks], row.final_score) == ([picked.pk], 0.99)


# --- Baselines --------------------------------------------------------------------------------------------


def test_baselines_are_unranked_and_private_only_once_revealed(phase: Phase, learner: User, admin_user: User) -> None:
    reference = queued_result(admin_user, phase.lab, source="reference")
    Run.objects.filter(pk=reference.pk).update(predictions=[0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    Lab.objects.filter(pk=phase.lab_id).update(reference_run=reference)
    phase.lab.refresh_from_db()
    rows = baseline_rows(phase=phase, viewer=learner)
    assert [(r.name, r.rank, r.baseline, r.public_score, r.private_score) for r in rows] == [
        ("Reference solution", None, True, 1.0, None),
        ("Trivial baseline", None, True, rows[1].public_score, None),
    ]
    assert 0 < rows[1].public_score < 1
    private = [r.private_score for r in baseline_rows(phase=phase, viewer=admin_user)]
    assert private[0] == 1.0 and 0 < private[1] < 1
    end(phase, revealed=True)
    assert [r.private_score for r in baseline_rows(phase=phase, viewer=learner)] == private


def test_the_trivial_baseline_guesses_the_training_majority(phase: Phase, learner: User, admin_user: User) -> None:
    from challenges.selectors import _trivial_predictions
    from labs.datasets import dataset_arrays

    y_train = dataset_arrays(phase.lab.dataset)[0]["y_train"]
    majority = max(set(y_train.tolist()), key=y_train.tolist().count)
    assert _trivial_predictions(phase) == [majority] * 10
