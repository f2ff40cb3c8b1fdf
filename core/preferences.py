"""A user's preferences as other parts read them: the language to write to them in, and which
notification kinds reach them by email (``User.email_off`` holds the kinds turned off)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation

from core.models import NotificationKind, User


def language_of(user: User) -> translation.override:
    """Write a notification's title inside this, so it reads in the recipient's language."""
    return translation.override(user.preferred_language or settings.LANGUAGE_CODE)


def email_kinds_of(user: User) -> list[str]:
    """The kinds this user is emailed about (``User.email_off`` holds the others)."""
    off = set(user.email_off or [])
    return [kind for kind in NotificationKind.values if kind not in off]


def email_off_for(emailed_kinds: Iterable[str]) -> list[str]:
    """``User.email_off`` for a user who wants email for exactly ``emailed_kinds``."""
    wanted = set(emailed_kinds)
    return [kind for kind in NotificationKind.values if kind not in wanted]
