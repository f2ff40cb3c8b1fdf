import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.models import User
from core.roles import primary_role


@pytest.mark.django_db
@override_settings(DEMO_PASSWORD="demo-pass-1")
def test_seed_demo_creates_the_demo_people_with_their_roles_and_is_idempotent() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    roles = {u.username: primary_role(u) for u in User.objects.all()}
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
