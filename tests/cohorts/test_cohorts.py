"""Cohort services and selectors, the cohort pages (administrators only) and the cohort API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cohorts.models import Cohort, CohortMember, LabDeadline
from cohorts.selectors import cohorts_visible_to, members_of
from cohorts.services import CohortError, cohort_member_add, cohort_member_remove, cohort_mentor_set
from core.models import Role, User
from labs.models import Lab
from tests.factories import CohortFactory, PathFactory, UserFactory
from tests.labs import conftest as labs_conftest

lab = labs_conftest.lab  # the labs tests' fixture: a tiny published lab


@pytest.fixture
def path(db: None) -> object:
    return PathFactory(slug="deep-learning")


@pytest.fixture
def spring(path: object) -> Cohort:
    return CohortFactory(slug="spring", name="Spring 2026", path=path)


@pytest.fixture
def autumn(path: object) -> Cohort:
    return CohortFactory(slug="autumn", name="Autumn 2026", path=path)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached permissions


# --- Services -------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_member_with_a_mentor_makes_the_mentor_a_cohort_mentor(
    spring: Cohort, learner: User, mentor: User
) -> None:
    member = cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    assert (member.cohort, member.learner, member.mentor) == (spring, learner, mentor)
    assert member.path_id == spring.path_id
    assert list(spring.mentors.all()) == [mentor]


@pytest.mark.django_db
def test_a_learner_is_in_one_cohort_per_path(spring: Cohort, autumn: Cohort, learner: User) -> None:
    cohort_member_add(cohort=spring, learner=learner)
    with pytest.raises(CohortError, match="already in Spring 2026, another cohort of the same path"):
        cohort_member_add(cohort=autumn, learner=learner)
    assert not CohortMember.objects.filter(cohort=autumn).exists()


@pytest.mark.django_db
def test_a_learner_may_join_cohorts_of_other_paths_or_of_no_path(spring: Cohort, learner: User) -> None:
    cohort_member_add(cohort=spring, learner=learner)
    other_path = CohortFactory(path=PathFactory())
    no_path = CohortFactory(path=None)
    another_no_path = CohortFactory(path=None)
    for cohort in (other_path, no_path, another_no_path):
        cohort_member_add(cohort=cohort, learner=learner)
    assert CohortMember.objects.filter(learner=learner).count() == 4


@pytest.mark.django_db
def test_adding_the_same_learner_twice_is_refused(spring: Cohort, learner: User) -> None:
    cohort_member_add(cohort=spring, learner=learner)
    with pytest.raises(CohortError, match="already in Spring 2026"):
        cohort_member_add(cohort=spring, learner=learner)


@pytest.mark.django_db
def test_a_mentor_without_the_mentor_role_is_refused(spring: Cohort, learner: User, other_learner: User) -> None:
    with pytest.raises(CohortError, match="omar does not have the mentor role"):
        cohort_member_add(cohort=spring, learner=learner, mentor=other_learner)
    assert not CohortMember.objects.exists()
    assert not spring.mentors.exists()


@pytest.mark.django_db
def test_only_learners_can_be_members(spring: Cohort, mentor: User) -> None:
    with pytest.raises(CohortError, match="maria does not have the learner role"):
        cohort_member_add(cohort=spring, learner=mentor)


@pytest.mark.django_db
def test_an_administrator_can_mentor(spring: Cohort, learner: User, admin_user: User) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=admin_user)
    assert spring.mentors.filter(pk=admin_user.pk).exists()


@pytest.mark.django_db
def test_member_remove(spring: Cohort, autumn: Cohort, learner: User) -> None:
    cohort_member_add(cohort=spring, learner=learner)
    assert cohort_member_remove(cohort=spring, learner=learner) is True
    assert cohort_member_remove(cohort=spring, learner=learner) is False
    cohort_member_add(cohort=autumn, learner=learner)  # free to join another cohort of the path now


@pytest.mark.django_db
def test_mentor_set_changes_and_clears_the_mentor(spring: Cohort, learner: User, mentor: User) -> None:
    member = cohort_member_add(cohort=spring, learner=learner)
    cohort_mentor_set(member=member, mentor=mentor)
    member.refresh_from_db()
    assert member.mentor == mentor
    assert spring.mentors.filter(pk=mentor.pk).exists()
    cohort_mentor_set(member=member, mentor=None)
    member.refresh_from_db()
    assert member.mentor is None


@pytest.mark.django_db
def test_mentor_set_refuses_a_learner(spring: Cohort, learner: User, other_learner: User) -> None:
    member = cohort_member_add(cohort=spring, learner=learner)
    with pytest.raises(CohortError):
        cohort_mentor_set(member=member, mentor=other_learner)
    member.refresh_from_db()
    assert member.mentor is None


# --- Selectors ------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_sees_which_cohorts(
    spring: Cohort, autumn: Cohort, learner: User, other_learner: User, mentor: User, admin_user: User
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    cohort_member_add(cohort=autumn, learner=other_learner)
    third = CohortFactory()
    assert set(cohorts_visible_to(fresh(admin_user))) == {spring, autumn, third}
    assert list(cohorts_visible_to(fresh(mentor))) == [spring]
    assert list(cohorts_visible_to(fresh(learner))) == [spring]
    assert list(cohorts_visible_to(fresh(other_learner))) == [autumn]
    assert list(cohorts_visible_to(UserFactory(role=Role.MENTOR))) == []


@pytest.mark.django_db
def test_members_of_lists_learners_with_their_mentor(
    spring: Cohort, learner: User, other_learner: User, mentor: User
) -> None:
    cohort_member_add(cohort=spring, learner=other_learner, mentor=mentor)
    cohort_member_add(cohort=spring, learner=learner)
    assert [(m.learner.username, m.mentor) for m in members_of(spring)] == [("lena", None), ("omar", mentor)]


# --- Pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_cohort_list_shows_counts_and_dates_to_administrators(
    client: Client, spring: Cohort, learner: User, other_learner: User, mentor: User, admin_user: User
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    cohort_member_add(cohort=spring, learner=other_learner, mentor=mentor)
    client.force_login(admin_user)
    response = client.get("/cohorts/")
    assert response.status_code == 200
    row = next(c for c in response.context["cohorts"] if c.slug == "spring")
    assert (row.member_count, row.mentor_count) == (2, 1)
    html = response.content.decode()
    assert "Spring 2026" in html
    assert "2026-03-01" in html
    assert 'href="/cohorts/"' in html  # the nav link


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/cohorts/", "/cohorts/spring/"])
def test_cohort_pages_are_for_administrators_only(
    client: Client, spring: Cohort, learner: User, mentor: User, url: str
) -> None:
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    for user in (learner, mentor):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "mentor"}).status_code in (403, 405)


@pytest.mark.django_db
def test_no_cohorts_link_for_learners(client: Client, learner: User) -> None:
    client.force_login(learner)
    assert 'href="/cohorts/"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_cohort_page_shows_members_mentors_and_deadlines(
    client: Client, spring: Cohort, lab: Lab, learner: User, mentor: User, admin_user: User
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    LabDeadline.objects.create(cohort=spring, lab=lab, due_at=timezone.now() + timedelta(days=3))
    client.force_login(admin_user)
    response = client.get("/cohorts/spring/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="member-lena"' in html
    assert f'<option value="{mentor.pk}" selected>' in html
    assert "Tiny lab" in html
    assert 'data-testid="roster-form"' in html
    assert client.get("/cohorts/nope/").status_code == 404


@pytest.mark.django_db
def test_cohort_page_changes_a_members_mentor(
    client: Client, spring: Cohort, learner: User, mentor: User, admin_user: User
) -> None:
    member = cohort_member_add(cohort=spring, learner=learner)
    client.force_login(admin_user)
    response = client.post("/cohorts/spring/", {"action": "mentor", "member": member.pk, "mentor": mentor.pk})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.mentor == mentor
    client.post("/cohorts/spring/", {"action": "mentor", "member": member.pk, "mentor": ""})
    member.refresh_from_db()
    assert member.mentor is None


@pytest.mark.django_db
def test_cohort_page_refuses_a_learner_as_mentor_and_a_member_of_another_cohort(
    client: Client, spring: Cohort, learner: User, other_learner: User, admin_user: User
) -> None:
    member = cohort_member_add(cohort=spring, learner=learner)
    elsewhere = cohort_member_add(cohort=CohortFactory(), learner=other_learner)
    client.force_login(admin_user)
    client.post("/cohorts/spring/", {"action": "mentor", "member": member.pk, "mentor": other_learner.pk})
    client.post("/cohorts/spring/", {"action": "mentor", "member": elsewhere.pk, "mentor": admin_user.pk})
    member.refresh_from_db()
    elsewhere.refresh_from_db()
    assert member.mentor is None
    assert elsewhere.mentor is None
    html = client.get("/cohorts/spring/").content.decode()
    assert "The mentor could not be changed" in html


# --- API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cohort_list_api_is_scoped_to_the_user(
    spring: Cohort, autumn: Cohort, learner: User, mentor: User, admin_user: User
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    api = APIClient()
    assert api.get("/api/v1/cohorts/").status_code in (401, 403)

    def slugs(user: User) -> set[str]:
        api.force_authenticate(fresh(user))
        response = api.get("/api/v1/cohorts/")
        assert response.status_code == 200
        return {c["slug"] for c in response.json()["results"]}

    assert slugs(admin_user) == {"spring", "autumn"}
    assert slugs(mentor) == {"spring"}
    assert slugs(learner) == {"spring"}
    api.force_authenticate(admin_user)
    body = next(c for c in api.get("/api/v1/cohorts/").json()["results"] if c["slug"] == "spring")
    assert body == {
        "slug": "spring",
        "name": "Spring 2026",
        "path": "deep-learning",
        "courses": [],
        "starts_on": "2026-03-01",
        "ends_on": "2026-06-30",
        "member_count": 1,
        "mentor_count": 1,
    }


@pytest.mark.django_db
def test_cohort_detail_api_shows_members_to_mentors_and_only_oneself_to_a_learner(
    spring: Cohort, autumn: Cohort, lab: Lab, learner: User, other_learner: User, mentor: User
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    cohort_member_add(cohort=spring, learner=other_learner)
    LabDeadline.objects.create(cohort=spring, lab=lab, due_at=timezone.now() + timedelta(days=1), weight=2)
    api = APIClient()
    api.force_authenticate(fresh(mentor))
    body = api.get("/api/v1/cohorts/spring/").json()
    assert [(m["username"], m["mentor"]) for m in body["members"]] == [("lena", "maria"), ("omar", None)]
    assert [m["username"] for m in body["mentors"]] == ["maria"]
    assert [(d["lab"], d["weight"]) for d in body["deadlines"]] == [("tiny", 2)]
    api.force_authenticate(fresh(learner))
    assert [m["username"] for m in api.get("/api/v1/cohorts/spring/").json()["members"]] == ["lena"]
    assert api.get("/api/v1/cohorts/autumn/").status_code == 404
    assert api.get("/api/v1/cohorts/nope/").status_code == 404
