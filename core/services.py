from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.models import ApiToken, User
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


# A personal API token's key: recognisable in a leaked file or a secret scanner by its prefix.
KEY_MARK = "aca_"
KEY_SHOWN = len(KEY_MARK) + 8  # what the token page shows of a key
# last_used_at is written at most this often per token, not on every request.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal API token and its key. The key is returned once and never stored: only its
    SHA-256 and its first characters are kept."""
    name = name.strip()
    if not name or len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValueError("a token's name is 1 to 100 characters")
    key = KEY_MARK + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:KEY_SHOWN])
    return token, key


def token_revoke(*, token: ApiToken, by: User) -> None:
    """Revoke ``token`` for good (its owner or an administrator may). Revoking twice keeps the first time."""
    if by.pk != token.user_id and not by.has_perm("core.administer"):
        raise PermissionDenied("only a token's owner or an administrator may revoke it")
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])


def token_touch(*, token: ApiToken) -> None:
    """Record that ``token`` was just used: one write a minute at most, however many requests."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_EVERY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)  # two at once: one write
    token.last_used_at = now
