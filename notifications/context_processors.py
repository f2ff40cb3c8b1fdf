from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.services import notifications_unread_count


def unread(request: HttpRequest) -> dict[str, object]:
    user = request.user
    # Lazy: the count (cached, notifications.services) is read only when a template shows the badge.
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: notifications_unread_count(user=user) if user.is_authenticated else 0
        ),
        "notifications_poll_seconds": settings.NOTIFICATIONS_POLL_SECONDS,
    }
