from __future__ import annotations

from django.db.models import Count

from core.models import Role, User


def users_per_role() -> dict[str, int]:
    counts = dict(User.objects.filter(is_active=True).values_list("groups__name").annotate(n=Count("id")).order_by())
    return {role: counts.get(role, 0) for role in Role.values}


def user_by_id(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_by_username(username: str) -> User | None:
    return User.objects.filter(username=username).first()
