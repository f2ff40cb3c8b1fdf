from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core.notifications import notifications_unread_count
from core.roles import primary_role


def navigation(request: HttpRequest) -> dict[str, object]:
    user = request.user
    return {
        "role": primary_role(user),
        # Lazy: the COUNT runs only when a template shows the badge.
        "unread_notifications": SimpleLazyObject(
            lambda: notifications_unread_count(user=user) if user.is_authenticated else 0
        ),
    }
