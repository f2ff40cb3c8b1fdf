"""Django's model backend with the signed-in user and their permissions read from the cache.

Every signed-in request loads its user, and every page's navigation asks for the user's role
(``core.roles``), which Django answers with two permission queries: without this backend, the
layout alone costs three queries a page. Here both live in the cache (``core.cache``), keyed on
generations that the changes bump, now and at commit:

- ``user:<id>``, by any save or deletion of the user (sign-in's ``last_login``, deactivation, a
  new password: the next request sees it, so a deactivated user is signed out and a password
  change signs out the other sessions, whose auth hash no longer matches), and by changes to the
  user's own groups or permissions;
- ``permissions``, by anything that can change many users' permissions at once: a group's
  permissions, a group's members changed from the group's side, a group or permission deleted
  or edited, a migration (which creates permissions in bulk, without signals).

A value read before a change is stored under the old generation, where no one looks any more, so a
change is never undone by a slow reader. The bounded life covers only a bump lost while the cache
was unreachable. The cached row holds the password hash, as the database does: the cache is as
private as the database.
"""

from __future__ import annotations

import functools
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from core.cache import cache_bump, cache_generations
from core.fragments import PEOPLE
from core.models import User

USER_CACHE_SECONDS = 300
PERMISSIONS = "permissions"


def _user_generation(user_id: int) -> str:
    return f"user:{user_id}"


class CachedModelBackend(ModelBackend):
    """``ModelBackend`` (same sign-in, same permission rules) reading users and permissions from the cache."""

    def get_user(self, user_id: Any) -> User | None:
        name = _user_generation(user_id)
        key = f"{name}:{cache_generations(name)[name]}"
        user = cache.get_or_set(key, User.objects.filter(pk=user_id).first, USER_CACHE_SECONDS)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id: Any) -> User | None:
        return await sync_to_async(self.get_user)(user_id)

    def get_all_permissions(self, user_obj: User | AnonymousUser, obj: Model | None = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.pk is None:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):  # Django's per-object memo: one cache read per request
            name = _user_generation(user_obj.pk)
            generations = cache_generations(name, PERMISSIONS)
            key = f"permissions:{user_obj.pk}:{generations[name]}:{generations[PERMISSIONS]}"
            compute = functools.partial(super().get_all_permissions, user_obj)
            user_obj._perm_cache = cache.get_or_set(key, compute, USER_CACHE_SECONDS)
        return user_obj._perm_cache

    async def aget_all_permissions(self, user_obj: User | AnonymousUser, obj: Model | None = None) -> set[str]:
        return await sync_to_async(self.get_all_permissions)(user_obj, obj)


def user_cache_forget(*, user_id: int) -> None:
    """The user's cached row and permissions are out of date."""
    cache_bump(_user_generation(user_id))


def permissions_cache_forget() -> None:
    """Every user's cached permissions are out of date."""
    cache_bump(PERMISSIONS)


def _user_changed(*, instance: User, update_fields: frozenset[str] | None = None, **kwargs: object) -> None:
    user_cache_forget(user_id=instance.pk)
    if update_fields != {"last_login"}:  # a sign-in changes nothing that others see
        cache_bump(PEOPLE)


def _memberships_changed(*, instance: Model, action: str, **kwargs: object) -> None:
    """A user's groups or permissions, or a group's permissions, changed (from either side)."""
    if not action.startswith("post_"):
        return
    if isinstance(instance, User):
        user_cache_forget(user_id=instance.pk)
    else:  # from a group's or a permission's side: many users, maybe unknown ones (clear)
        permissions_cache_forget()


def _permissions_changed(**kwargs: object) -> None:
    permissions_cache_forget()


def connect_invalidation() -> None:
    """Bump the generations above on every change that Django signals (called from ``CoreConfig.ready``)."""
    for signal in (post_save, post_delete):
        signal.connect(_user_changed, sender=User, dispatch_uid="user_cache")
        signal.connect(_permissions_changed, sender=Permission, dispatch_uid="permissions_cache")
    # A group's deletion removes its memberships and permissions without m2m signals.
    post_delete.connect(_permissions_changed, sender=Group, dispatch_uid="permissions_cache")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_memberships_changed, sender=through, dispatch_uid="memberships_cache")
    post_migrate.connect(_permissions_changed, dispatch_uid="permissions_cache")
