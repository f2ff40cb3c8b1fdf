from __future__ import annotations

from django.db.models import Count, QuerySet

from core.models import ApiToken, Role, User


def users_per_role() -> dict[str, int]:
    counts = dict(User.objects.filter(is_active=True).values_list("groups__name").annotate(n=Count("id")).order_by())
    return {role: counts.get(role, 0) for role in Role.values}


def user_by_id(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_by_username(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def token_by_key(*, key: str) -> ApiToken | None:
    """The token whose key this is, revoked or not, found by the key's hash (never by comparing keys)."""
    return ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A user's tokens, newest first; revoked ones too, so the page can say when."""
    return ApiToken.objects.filter(user=user)


def token_of(*, user: User, token_id: int) -> ApiToken | None:
    """One of ``user``'s own tokens; None for anyone else's."""
    return tokens_of(user=user).filter(pk=token_id).first()
