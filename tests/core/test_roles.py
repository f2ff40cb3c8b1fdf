import pytest
from django.contrib.auth.models import Group
from django.test import Client

from core.models import Role, User
from core.roles import primary_role
from labs import services
from labs.demo_seed import demo_lab_seed
from labs.models import Run
from tests.factories import PASSWORD, UserFactory
from tests.labs.conftest import VALID_CODE


@pytest.mark.django_db
def test_each_role_group_holds_exactly_its_named_permissions() -> None:
    def codenames(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert codenames(Role.LEARNER) == {"learn"}
    assert codenames(Role.MENTOR) == {"mentor"}
    assert codenames(Role.ADMIN) == {"administer", "mentor"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LEARNER, Role.MENTOR, Role.ADMIN])
def test_a_user_gets_the_permissions_of_their_role(role: str) -> None:
    user = UserFactory(role=role)
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("core.learn") is (role == Role.LEARNER)
    assert user.has_perm("core.mentor") is (role in (Role.MENTOR, Role.ADMIN))
    assert user.has_perm("core.administer") is (role == Role.ADMIN)
    assert primary_role(user) == role


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "heading"), [(Role.LEARNER, "Your runs"), (Role.MENTOR, "Your mentees"), (Role.ADMIN, "Job queue")]
)
def test_home_page_is_the_one_of_the_users_role(client: Client, role: str, heading: str) -> None:
    user = UserFactory(role=role)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert f"home/home_{role}.html" in [t.name for t in response.templates]
    assert heading in response.content.decode()


@pytest.mark.django_db
def test_admin_home_shows_real_counts(client: Client) -> None:
    admin = UserFactory(role=Role.ADMIN)
    UserFactory.create_batch(3, role=Role.LEARNER)
    client.force_login(admin)
    html = client.get("/").content.decode()
    assert '<td data-testid="count-learner">3</td>' in html
    assert '<td data-testid="count-admin">1</td>' in html


@pytest.mark.django_db
def test_anonymous_visitor_sees_the_landing_page(client: Client) -> None:
    response = client.get("/")
    assert "home/landing.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_only_administrators_reach_django_admin(client: Client) -> None:
    learner = UserFactory(role=Role.LEARNER)
    admin = UserFactory(role=Role.ADMIN)
    assert client.login(username=learner.username, password=PASSWORD)
    assert client.get("/admin/").status_code == 302  # sent to the admin login
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_learner_home_lists_their_recent_runs(client: Client) -> None:
    learner = UserFactory(role=Role.LEARNER)
    client.force_login(learner)
    assert "You have not submitted a lab solution yet." in client.get("/").content.decode()
    services.submission_create(learner=learner, lab=demo_lab_seed("linear-regression"), source="web", code=VALID_CODE)
    html = client.get("/").content.decode()
    assert f'href="{Run.objects.get().get_absolute_url()}"' in html
