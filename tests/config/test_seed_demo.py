import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from challenges.models import Challenge, Phase
from core.models import User
from core.roles import primary_role
from labs.publishing import REFERENCE_USERNAME


@pytest.mark.django_db
@override_settings(DEMO_PASSWORD="demo-pass-1")
def test_seed_demo_creates_the_demo_people_with_their_roles_and_is_idempotent() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    # (and the platform's own inactive account that runs the challenge labs' reference solutions)
    roles = {u.username: primary_role(u) for u in User.objects.filter(is_active=True)}
    assert not User.objects.filter(is_active=False).exclude(username=REFERENCE_USERNAME).exists()
    assert roles == {
        "admin": "admin",
        "mentor": "mentor",
        "mentor2": "mentor",
        "learner": "learner",
        "learner2": "learner",
    }
    assert User.objects.get(username="learner").check_password("demo-pass-1")


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_seed_demo_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="never runs in production"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_opens_digits_cup_on_digits_cnn_with_a_final_on_a_lab_fit_for_ranking() -> None:
    call_command("seed_demo", verbosity=0)
    cup = Challenge.objects.get(slug="digits-cup")
    assert cup.published and cup.open_to_everyone and cup.created_by.username == "admin"
    assert cup.title_zh and cup.rules_zh and cup.prize_en and cup.prize_zh and "3 seeds" in cup.rules_en
    first, final = cup.phases.order_by("position")
    now = timezone.now()
    assert first.lab.slug == "digits-cnn" and first.is_open(now) and not first.lab.fit_for_ranking
    assert first.ends_at - now > dt.timedelta(days=13)
    assert (first.submissions_per_day, first.blind, first.final_picks, first.rerun_seeds) == (5, False, 2, 3)
    assert final.lab.slug == "two-spirals" and final.lab.fit_for_ranking and final.title_en.startswith("Final")
    assert final.starts_at == first.ends_at and final.ends_at - final.starts_at == dt.timedelta(days=7)
    # both labs' reference solutions are queued: a baseline row on each leaderboard once they are scored
    assert first.lab.reference_run.state == final.lab.reference_run.state == "queued"

    before = list(Phase.objects.order_by("pk").values())
    call_command("seed_demo", verbosity=0)  # idempotent: the same challenge, its dates and secret seeds unchanged
    assert Challenge.objects.count() == 1 and list(Phase.objects.order_by("pk").values()) == before
