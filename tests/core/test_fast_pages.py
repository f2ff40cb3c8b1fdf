"""A signed-in page's layout (session, user, role, unread badge) costs no query on a warm cache,
and every change to what it shows takes effect on the very next request (core.auth_backend)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.auth_backend import CachedModelBackend
from core.cache import cache_generations
from core.models import Role, User
from core.roles import primary_role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def is_layout_query(sql: str) -> bool:
    """The session, the signed-in user, their permissions (for the role), the unread badge."""
    return (
        '"django_session"' in sql
        or 'FROM "core_user" WHERE "core_user"."id" =' in sql
        or '"auth_permission"' in sql
        or ("COUNT(*)" in sql and '"notifications_notification"' in sql and '"read_at" IS NULL' in sql)
    )


def queries_of(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def layout_queries(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if is_layout_query(sql)]


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def home_template(client: Client) -> str:
    [name] = [t.name for t in client.get("/").templates if t.name.startswith("home/")]
    return name


@pytest.mark.parametrize("role", [Role.LEARNER, Role.MENTOR, Role.ADMIN])
def test_a_signed_in_pages_layout_costs_no_query_once_the_cache_is_warm(role: str) -> None:
    client = signed_in(UserFactory(role=role))
    cold = queries_of(client, "/accounts/profile/")
    assert len(layout_queries(cold)) == len(cold) >= 3  # user, permissions, unread count (the session: at sign-in)

    assert queries_of(client, "/accounts/profile/") == []  # the profile page is all layout
    assert layout_queries(queries_of(client, "/")) == []  # the role's home: its own queries only


def test_permission_checks_anywhere_read_the_cached_permissions(
    mentor: User, django_assert_num_queries: object
) -> None:
    assert User.objects.get(pk=mentor.pk).has_perm("core.mentor")  # warms the cache
    fresh = User.objects.get(pk=mentor.pk)  # as a view or a service loads a user
    with django_assert_num_queries(0):
        assert fresh.has_perm("core.mentor") and not fresh.has_perm("core.administer")
        assert primary_role(fresh) == Role.MENTOR


def test_joining_or_leaving_a_group_changes_the_role_on_the_next_request(learner: User) -> None:
    client = signed_in(learner)
    assert home_template(client) == "home/home_learner.html"
    mentors = Group.objects.get(name=Role.MENTOR)
    learner.groups.add(mentors)
    assert home_template(client) == "home/home_mentor.html"
    learner.groups.remove(mentors)
    assert home_template(client) == "home/home_learner.html"


def test_a_groups_members_changed_from_the_groups_side_take_effect_on_the_next_request(learner: User) -> None:
    client = signed_in(learner)
    assert home_template(client) == "home/home_learner.html"
    admins = Group.objects.get(name=Role.ADMIN)
    admins.user_set.add(learner)
    assert home_template(client) == "home/home_admin.html"
    admins.user_set.clear()
    assert home_template(client) == "home/home_learner.html"


def test_a_groups_permissions_changed_take_effect_for_its_members_on_the_next_request(learner: User) -> None:
    client = signed_in(learner)
    assert home_template(client) == "home/home_learner.html"
    mentor_permission = Permission.objects.get(content_type__app_label="core", codename="mentor")
    Group.objects.get(name=Role.LEARNER).permissions.add(mentor_permission)
    assert home_template(client) == "home/home_mentor.html"
    mentor_permission.group_set.remove(Group.objects.get(name=Role.LEARNER))
    assert home_template(client) == "home/home_learner.html"


def test_a_deleted_group_takes_its_permissions_with_it_on_the_next_request(mentor: User) -> None:
    client = signed_in(mentor)
    assert home_template(client) == "home/home_mentor.html"
    Group.objects.get(name=Role.MENTOR).delete()
    assert home_template(client) == "home/home_learner.html"


def test_a_users_own_permission_and_superuser_flag_take_effect_on_the_next_request(learner: User) -> None:
    client = signed_in(learner)
    learner.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="mentor"))
    assert home_template(client) == "home/home_mentor.html"
    learner.is_superuser = True
    learner.save()
    assert home_template(client) == "home/home_admin.html"


def test_a_deactivated_user_is_signed_out_on_the_next_request(learner: User) -> None:
    client = signed_in(learner)
    assert client.get("/accounts/profile/").status_code == 200
    learner.is_active = False
    learner.save(update_fields=["is_active"])
    assert client.get("/accounts/profile/").url.startswith("/accounts/login/")


NEW_PASSWORD = "another-horse-battery-43"


def test_changing_the_password_signs_out_the_other_sessions_and_keeps_this_one(learner: User) -> None:
    here, elsewhere = signed_in(learner), signed_in(learner)
    assert elsewhere.get("/accounts/profile/").status_code == 200  # its user is cached
    response = here.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/accounts/profile/").status_code == 200
    assert elsewhere.get("/accounts/profile/").url.startswith("/accounts/login/")


def test_a_password_set_by_someone_else_signs_out_every_session(learner: User) -> None:
    client = signed_in(learner)
    assert client.get("/accounts/profile/").status_code == 200
    learner.set_password("set-by-an-administrator-44")
    learner.save()
    assert client.get("/accounts/profile/").url.startswith("/accounts/login/")


def test_the_cached_user_follows_every_save_such_as_sign_ins_last_login(learner: User) -> None:
    backend = CachedModelBackend()
    before = backend.get_user(learner.pk).last_login
    signed_in(learner)
    assert backend.get_user(learner.pk).last_login == User.objects.get(pk=learner.pk).last_login != before


def test_a_user_read_before_a_change_and_stored_after_it_is_never_served(learner: User) -> None:
    """A slow request that loaded the row before the change and caches it afterwards stores it under
    the generation the change left behind: no one reads that one again."""
    name = f"user:{learner.pk}"
    old_generation = cache_generations(name)[name]
    stale = User.objects.get(pk=learner.pk)
    learner.is_active = False
    learner.save()
    cache.set(f"{name}:{old_generation}", stale, 300)
    assert CachedModelBackend().get_user(learner.pk) is None


def test_a_deleted_users_session_signs_nobody_in(learner: User) -> None:
    client = signed_in(learner)
    assert client.get("/accounts/profile/").status_code == 200
    learner.delete()
    assert client.get("/accounts/profile/").url.startswith("/accounts/login/")
