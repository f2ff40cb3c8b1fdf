from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from core.models import User
from core.roles import ROLE_PERMISSIONS


def roles_sync() -> dict[str, Group]:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    groups = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(Permission.objects.filter(content_type__app_label="core", codename__in=codenames))
        groups[role] = group
    return groups


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,  # None: unusable until the user sets one (pre-registered learners)
    role: str,
    email: str = "",
    display_name: str = "",
    preferred_language: str = "",
) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        display_name=display_name,
        preferred_language=preferred_language,
        is_staff=role == "admin",
    )
    user_set_role(user=user, role=role)
    return user


def user_set_role(*, user: User, role: str) -> None:
    groups = roles_sync()
    if role not in groups:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(groups)}")
    user.groups.set([groups[role]])
    user.is_staff = role == "admin"
    user.save(update_fields=["is_staff"])


def user_set_language(*, user: User, language: str) -> None:
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
