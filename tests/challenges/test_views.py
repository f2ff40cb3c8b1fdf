"""The challenge pages (challenges.views): who sees them, the administrators' form, entering, the
final picks, teams through the pages, and what the phase page shows before and after the reveal."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from challenges.models import Challenge, Entry, Phase, Rerun, Team, TeamInvite, TeamMember
from challenges.services import team_create
from core.models import User
from labs.models import Lab, Run
from tests.challenges.conftest import entry_create
from tests.labs.conftest import VALID_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def cup(challenge: Challenge, phase: Phase) -> Challenge:
    """The conftest's challenge, published, with its open phase."""
    Challenge.objects.filter(pk=challenge.pk).update(published=True, rules_en="Be **fair**.", prize_en="A *mug*.")
    challenge.refresh_from_db()
    return challenge


def _html(response: object) -> str:
    return response.content.decode()


# --- Who sees what -----------------------------------------------------------------------------------


def test_the_list_shows_the_published_challenges_with_their_phase_and_data(
    client: Client, cup: Challenge, learner: User
) -> None:
    Challenge.objects.create(slug="secret-cup", title_en="Secret cup", rules_en="-")  # unpublished
    for viewer in (None, learner):
        if viewer:
            client.force_login(viewer)
        html = _html(client.get("/challenges/"))
        assert "Tiny cup" in html and "Main phase" in html
        assert "open now" in html and "open to everyone" in html
        assert "practice on public data" in html  # the tiny lab's test rows are not secret
        assert "Secret cup" not in html and "New challenge" not in html


def test_administrators_see_unpublished_challenges_marked_and_the_new_button(
    client: Client, challenge: Challenge, admin_user: User
) -> None:
    client.force_login(admin_user)
    html = _html(client.get("/challenges/"))
    assert "Tiny cup" in html and 'data-testid="unpublished"' in html
    assert 'href="/challenges/new/"' in html


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/challenges/tiny-cup/"),
        ("get", "/challenges/tiny-cup/phases/1/"),
        ("get", "/challenges/tiny-cup/phases/1/board/"),
        ("get", "/challenges/tiny-cup/team/"),
        ("post", "/challenges/tiny-cup/phases/1/enter/"),
        ("post", "/challenges/tiny-cup/phases/1/picks/"),
        ("post", "/challenges/tiny-cup/team/create/"),
    ],
)
def test_a_hidden_challenge_is_a_404_everywhere(
    client: Client, challenge: Challenge, phase: Phase, learner: User, method: str, url: str
) -> None:
    client.force_login(learner)
    data = {"code": VALID_CODE, "name": "Team"} if method == "post" else None
    assert getattr(client, method)(url, data).status_code == 404
    assert not Entry.objects.exists() and not Team.objects.exists()


def test_a_cohorts_challenge_is_a_404_for_the_others(client: Client, cup: Challenge, learner: User) -> None:
    Challenge.objects.filter(pk=cup.pk).update(open_to_everyone=False)
    client.force_login(learner)
    assert client.get("/challenges/tiny-cup/").status_code == 404
    assert "Tiny cup" not in _html(client.get("/challenges/"))


def test_an_unknown_phase_is_a_404(client: Client, cup: Challenge, learner: User) -> None:
    client.force_login(learner)
    assert client.get("/challenges/tiny-cup/phases/9/").status_code == 404


def test_the_detail_page_shows_rules_prize_phases_data_and_the_entry_form(
    client: Client, cup: Challenge, learner: User
) -> None:
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/"))
    assert "Be <strong>fair</strong>." in html and "A <em>mug</em>." in html  # Markdown rendered
    assert 'data-testid="phases"' in html and "Main phase" in html
    assert "practice on public data" in html and "anyone can download" in html  # the line and its why
    assert 'data-testid="entries-left">5<' in html
    assert 'action="/challenges/tiny-cup/phases/1/enter/"' in html
    assert "def train(data, run)" in html  # the starter code in the editor
    assert 'data-testid="baseline-row"' in html  # the trivial baseline sits on the board
    assert 'data-board-url="/challenges/tiny-cup/phases/1/board/"' in html  # live while open


def test_the_detail_page_follows_the_language(client: Client, cup: Challenge, learner: User) -> None:
    client.force_login(learner)
    client.post("/i18n/setlang/", {"language": "zh-hans"})
    assert "小杯赛" in _html(client.get("/challenges/tiny-cup/"))


def test_anonymous_visitors_read_the_page_and_are_asked_to_sign_in(client: Client, cup: Challenge) -> None:
    html = _html(client.get("/challenges/tiny-cup/"))
    assert 'data-testid="sign-in-to-enter"' in html
    assert 'data-testid="entry-form"' not in html
    assert client.get("/challenges/tiny-cup/team/").status_code == 302  # to the sign-in page


def test_the_fit_for_ranking_line_follows_the_lab(client: Client, cup: Challenge, lab: Lab, learner: User) -> None:
    Lab.objects.filter(pk=lab.pk).update(hidden_data=Lab.HiddenData.SECRET)
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/"))
    assert 'data-testid="fit-for-ranking"' in html and "practice on public data" not in html


# --- A new challenge ---------------------------------------------------------------------------------


def _create_data(lab: Lab, **changes: object) -> dict[str, object]:
    start = timezone.localtime().replace(second=0, microsecond=0)
    data = {
        "slug": "spring-cup",
        "title_en": "Spring cup",
        "title_zh": "春季杯",
        "rules_en": "Be fair.",
        "rules_zh": "",
        "prize_en": "",
        "prize_zh": "",
        "open_to_everyone": "on",
        "published": "on",
        "lab": lab.pk,
        "phase_title_en": "Main phase",
        "phase_title_zh": "",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "submissions_per_day": "3",
        "submissions_total": "",
        "final_picks": "2",
        "rerun_seeds": "3",
        "public_fraction": "0.4",
    }
    data.update(changes)
    return data


def test_the_create_page_is_for_administrators(client: Client, learner: User, mentor: User, lab: Lab) -> None:
    assert client.get("/challenges/new/").status_code == 302  # the sign-in page
    for user in (learner, mentor):
        client.force_login(user)
        assert client.get("/challenges/new/").status_code == 404
        assert client.post("/challenges/new/", _create_data(lab)).status_code == 404
    assert not Challenge.objects.exists()


def test_the_create_page_makes_the_challenge_and_its_first_phase(client: Client, admin_user: User, lab: Lab) -> None:
    client.force_login(admin_user)
    form = client.get("/challenges/new/")
    assert form.status_code == 200 and 'type="datetime-local"' in _html(form)
    response = client.post("/challenges/new/", _create_data(lab))
    assert response.status_code == 302 and response.url == "/challenges/spring-cup/"
    challenge = Challenge.objects.get(slug="spring-cup")
    assert (challenge.title_zh, challenge.published, challenge.created_by) == ("春季杯", True, admin_user)
    phase = challenge.phases.get()
    assert (phase.position, phase.lab, phase.submissions_per_day, phase.public_fraction) == (1, lab, 3, 0.4)
    assert phase.ends_at - phase.starts_at == dt.timedelta(days=7)
    assert "Spring cup" in _html(client.get(response.url))


def test_the_create_page_shows_each_mistake_beside_its_field(
    client: Client, admin_user: User, lab: Lab, challenge: Challenge
) -> None:
    client.force_login(admin_user)
    start = timezone.localtime()
    data = _create_data(
        lab,
        slug=challenge.slug,  # taken
        starts_at=start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(start - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        public_fraction="1",
        title_en="",
    )
    response = client.post("/challenges/new/", data)
    html = _html(response)
    assert response.status_code == 400
    for error in (
        "A challenge already has this slug.",
        "A phase must end after it starts.",
        "The public fraction must lie strictly between 0 and 1.",
        "This field is required.",
    ):
        assert error in html
    assert 'id="id_slug_error"' in html and 'id="id_ends_at_error"' in html
    assert "Be fair.</textarea>" in html and 'value="Main phase"' in html  # what was typed is kept
    assert Challenge.objects.count() == 1


def test_a_challenge_for_cohorts_needs_one(client: Client, admin_user: User, lab: Lab) -> None:
    client.force_login(admin_user)
    data = _create_data(lab)
    del data["open_to_everyone"]
    response = client.post("/challenges/new/", data)
    assert response.status_code == 400 and "Choose the cohorts" in _html(response)
    assert not Challenge.objects.exists()


# --- Entering ----------------------------------------------------------------------------------------


def test_entering_makes_a_run_and_opens_its_page(client: Client, cup: Challenge, phase: Phase, learner: User) -> None:
    client.force_login(learner)
    response = client.post("/challenges/tiny-cup/phases/1/enter/", {"code": VALID_CODE, "param_epochs": "3"})
    entry = Entry.objects.get()
    assert response.status_code == 302 and response.url == entry.run.get_absolute_url()
    assert (entry.phase, entry.learner, entry.team) == (phase, learner, None)
    assert entry.run.submission.params == {"epochs": 3, "lr": 0.1}  # the lab's default for the other
    html = _html(client.get("/challenges/tiny-cup/"))
    assert f'data-testid="entry-{entry.pk}"' in html and 'data-testid="entries-left">4<' in html


def test_a_refused_entry_shows_why_and_keeps_the_code(client: Client, cup: Challenge, learner: User) -> None:
    client.force_login(learner)
    broken = "def train(data, run):\n    return 'kept-413'\n"
    response = client.post("/challenges/tiny-cup/phases/1/enter/", {"code": broken})
    html = _html(response)
    assert response.status_code == 400
    assert 'data-testid="entry-errors"' in html and "predict" in html
    assert "kept-413" in html
    assert not Entry.objects.exists() and not Run.objects.exists()


def test_an_entry_outside_the_phase_is_refused_with_the_code_kept(
    client: Client, cup: Challenge, phase: Phase, learner: User
) -> None:
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=1))
    client.force_login(learner)
    response = client.post("/challenges/tiny-cup/phases/1/enter/", {"code": VALID_CODE + "# kept-414\n"})
    html = _html(response)
    assert response.status_code == 400
    assert "This phase is not open for entries." in html and "kept-414" in html
    assert not Entry.objects.exists()


def test_the_quota_used_up_is_refused(client: Client, cup: Challenge, phase: Phase, learner: User) -> None:
    Phase.objects.filter(pk=phase.pk).update(submissions_per_day=1)
    entry_create(phase, learner)
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/"))
    assert 'data-testid="quota-used"' in html
    response = client.post("/challenges/tiny-cup/phases/1/enter/", {"code": VALID_CODE})
    assert response.status_code == 400 and "You have used all the entries" in _html(response)
    assert Entry.objects.count() == 1


# --- Final picks -------------------------------------------------------------------------------------


def test_the_default_picks_show_until_the_learner_picks(
    client: Client, cup: Challenge, phase: Phase, learner: User
) -> None:
    worst, best, middle = (entry_create(phase, learner, public_score=s) for s in (0.2, 0.9, 0.5))
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/"))
    assert 'data-testid="default-picks-note"' in html
    defaults = re.findall(r'name="entries" value="(\d+)" id="pick-\d+" checked', html)
    assert sorted(map(int, defaults)) == sorted([best.pk, middle.pk])
    response = client.post("/challenges/tiny-cup/phases/1/picks/", {"entries": [worst.pk]})
    assert response.status_code == 302
    assert list(Entry.objects.filter(final=True)) == [worst]
    html = _html(client.get("/challenges/tiny-cup/"))
    assert 'data-testid="default-picks-note"' not in html
    assert re.findall(r'name="entries" value="(\d+)" id="pick-\d+" checked', html) == [str(worst.pk)]


def test_too_many_picks_or_someone_elses_are_refused(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User
) -> None:
    mine = [entry_create(phase, learner) for _ in range(3)]
    theirs = entry_create(phase, other_learner)
    client.force_login(learner)
    response = client.post("/challenges/tiny-cup/phases/1/picks/", {"entries": [e.pk for e in mine]}, follow=True)
    assert "Pick at most 2 entries." in _html(response)
    client.post("/challenges/tiny-cup/phases/1/picks/", {"entries": [theirs.pk]})
    assert not Entry.objects.filter(final=True).exists()


def test_a_blind_phase_hides_the_scores_and_the_default_picks(
    client: Client, cup: Challenge, phase: Phase, learner: User
) -> None:
    Phase.objects.filter(pk=phase.pk).update(blind=True)
    entry_create(phase, learner, public_score=0.8765)
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/"))
    assert "0.8765" not in html
    assert "hidden until the end" in html and 'data-testid="blind-note"' in html
    assert 'data-testid="default-pick"' not in html


# --- Teams -------------------------------------------------------------------------------------------


def test_a_team_is_made_through_the_pages(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User
) -> None:
    lena, omar = Client(), Client()
    lena.force_login(learner)
    omar.force_login(other_learner)
    assert lena.post("/challenges/tiny-cup/team/create/", {"name": "Descenders"}).status_code == 302
    team = Team.objects.get()
    assert lena.post("/challenges/tiny-cup/team/invite/", {"username": "omar"}).status_code == 302
    invite = TeamInvite.objects.get()
    html = _html(omar.get("/challenges/tiny-cup/team/"))
    assert f'data-testid="invite-{invite.pk}"' in html and "Descenders" in html
    assert omar.post(f"/challenges/tiny-cup/invites/{invite.pk}/accept/").status_code == 302
    assert set(team.members.values_list("user__username", flat=True)) == {"lena", "omar"}
    # Members see each other's entries on the challenge's page; the board has one row for the team.
    entry = entry_create(phase, learner, team=team, public_score=0.75)
    html = _html(omar.get("/challenges/tiny-cup/"))
    assert f'data-testid="entry-{entry.pk}"' in html and "Your team's entries" in html
    assert re.search(r'data-testid="my-row">.*?Descenders', html, re.S)
    # A team with an entry is not left.
    response = omar.post("/challenges/tiny-cup/team/leave/", follow=True)
    assert "A team can be left only before its first submission." in _html(response)
    assert team.members.count() == 2


def test_team_refusals_are_shown_and_nothing_is_lost(
    client: Client, cup: Challenge, learner: User, other_learner: User
) -> None:
    team_create(challenge=cup, user=other_learner, name="Taken")
    client.force_login(learner)
    response = client.post("/challenges/tiny-cup/team/create/", {"name": "taken"})
    assert response.status_code == 400
    html = _html(response)
    assert "is already called" in html and 'value="taken"' in html
    team_create(challenge=cup, user=learner, name="Mine")
    response = client.post("/challenges/tiny-cup/team/invite/", {"username": "nobody-such"})
    assert response.status_code == 400 and 'value="nobody-such"' in _html(response)
    response = client.post("/challenges/tiny-cup/team/invite/", {"username": "omar"})
    assert response.status_code == 400 and "already in a team" in _html(response)
    assert not TeamInvite.objects.exists()


def test_leaving_and_declining(client: Client, cup: Challenge, learner: User, other_learner: User) -> None:
    team = team_create(challenge=cup, user=other_learner, name="Them")
    invite = TeamInvite.objects.create(team=team, invitee=learner, invited_by=other_learner)
    client.force_login(learner)
    assert client.post(f"/challenges/tiny-cup/invites/{invite.pk}/decline/").status_code == 302
    invite.refresh_from_db()
    assert invite.declined_at is not None
    team_create(challenge=cup, user=learner, name="Mine")
    assert 'data-testid="leave-form"' in _html(client.get("/challenges/tiny-cup/team/"))
    client.post("/challenges/tiny-cup/team/leave/")
    assert not TeamMember.objects.filter(user=learner).exists()
    assert not Team.objects.filter(name="Mine").exists()  # left empty, deleted


def test_someone_elses_invitation_is_a_404(
    client: Client, cup: Challenge, learner: User, other_learner: User, admin_user: User
) -> None:
    team = team_create(challenge=cup, user=admin_user, name="Admins")
    invite = TeamInvite.objects.create(team=team, invitee=other_learner, invited_by=admin_user)
    client.force_login(learner)
    assert client.post(f"/challenges/tiny-cup/invites/{invite.pk}/accept/").status_code == 404
    assert client.post(f"/challenges/tiny-cup/invites/{invite.pk}/decline/").status_code == 404
    invite.refresh_from_db()
    assert invite.pending


# --- The phase page and its board ---------------------------------------------------------------------


def _two_contestants(phase: Phase, lena: User, omar: User) -> tuple[Entry, Entry]:
    lena_entry = entry_create(phase, lena, public_score=0.9)
    omar_entry = entry_create(phase, omar, public_score=0.8)
    Entry.objects.filter(pk=lena_entry.pk).update(private_score=0.51234567)
    Entry.objects.filter(pk=omar_entry.pk).update(private_score=0.73456789)
    return lena_entry, omar_entry


def test_before_the_reveal_no_private_score_reaches_a_learner(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User, admin_user: User
) -> None:
    _two_contestants(phase, learner, other_learner)
    client.force_login(learner)
    for url in ("/challenges/tiny-cup/phases/1/", "/challenges/tiny-cup/phases/1/board/", "/challenges/tiny-cup/"):
        html = _html(client.get(url))
        for private in ("0.51234567", "0.5123", "0.73456789", "0.7346"):
            assert private not in html, (url, private)
        assert "Private score" not in html and "0.9000" in html
    html = _html(client.get("/challenges/tiny-cup/phases/1/"))
    assert 'data-testid="reveal-note"' in html and "The private ranking is revealed when the phase ends at" in html
    assert 'data-testid="final-board"' not in html
    client.force_login(admin_user)  # administrators see them at once
    html = _html(client.get("/challenges/tiny-cup/phases/1/"))
    assert 'data-testid="private-column"' in html and "0.5123" in html


def test_after_the_reveal_the_final_ranking_shows_the_shake_up(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User
) -> None:
    _lena_entry, omar_entry = _two_contestants(phase, learner, other_learner)
    now = timezone.now()
    Phase.objects.filter(pk=phase.pk).update(ends_at=now - dt.timedelta(hours=1), revealed_at=now)
    for seed, score in ((1, 0.70), (2, 0.76), (3, 0.73)):
        Rerun.objects.create(entry=omar_entry, seed=seed, private_score=score)
    client.force_login(learner)
    html = _html(client.get("/challenges/tiny-cup/phases/1/"))
    assert 'data-testid="final-board"' in html and 'data-testid="reveal-note"' not in html
    rows = re.findall(r'data-testid="final-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    lena, omar = learner.public_name, other_learner.public_name
    assert omar in rows[0] and "0.7300" in rows[0] and "± 0.0245" in rows[0] and ">3<" in rows[0]
    assert "2 → 1" in rows[0] and "▲1" in rows[0] and "up 1 place" in rows[0]
    assert lena in rows[1] and "0.5123" in rows[1] and "1 → 2" in rows[1] and "▼1" in rows[1]
    assert "down 1 place" in rows[1] and "pending" in rows[1]  # no re-run scored yet
    assert "data-board-url" not in html  # no longer live


def test_the_board_fragment_is_the_table_alone(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User
) -> None:
    _two_contestants(phase, learner, other_learner)
    response = client.get("/challenges/tiny-cup/phases/1/board/")
    html = _html(response)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert html.lstrip().startswith("<table") and "<html" not in html
    assert 'data-open="true"' in html and html.index(learner.public_name) < html.index(other_learner.public_name)
    assert 'data-testid="baseline-row"' in html
    Phase.objects.filter(pk=phase.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    assert 'data-open="false"' in _html(client.get("/challenges/tiny-cup/phases/1/board/"))


def test_a_team_name_is_text_on_every_page(
    client: Client, cup: Challenge, phase: Phase, learner: User, other_learner: User
) -> None:
    team = team_create(challenge=cup, user=other_learner, name="<b>bold</b>")
    TeamInvite.objects.create(team=team, invitee=learner, invited_by=other_learner)
    entry_create(phase, other_learner, team=team)
    client.force_login(learner)
    for url in ("/challenges/tiny-cup/team/", "/challenges/tiny-cup/", "/challenges/tiny-cup/phases/1/board/"):
        html = _html(client.get(url))
        assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html, url
