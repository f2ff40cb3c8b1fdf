"""Roles are groups holding named permissions; code asks for permissions, not group names."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from core.models import Role, User

# Which of ``User.Meta.permissions`` each role's group holds.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.LEARNER: ("learn",),
    Role.MENTOR: ("mentor",),
    Role.ADMIN: ("administer", "mentor"),
}


def primary_role(user: User | AnonymousUser) -> str | None:
    """The role whose home page the user sees: the most powerful one they hold. Every page's navigation
    asks, so it costs no query on a warm cache: the permissions come from ``core.auth_backend``."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or user.has_perm("core.administer"):
        return Role.ADMIN
    if user.has_perm("core.mentor"):
        return Role.MENTOR
    return Role.LEARNER
