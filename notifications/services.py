"""In-app notifications, also sent by email unless the user turned that kind off.

Every part of the platform notifies through ``notify``; the email leaves only once the
surrounding transaction has committed, so a rolled-back action sends nothing. So does the hint
that the user's unread count changed (``core.live``: their open pages' badge asks for it again)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.cache import cache_bump, cache_generations
from core.live import live_publish, user_topic
from core.models import User
from notifications.models import Notification

# Each user's unread count is cached under a generation that every change to their notifications
# bumps (now and at commit): saves and deletions by signal (``NotificationsConfig.ready``), bulk
# updates here. A count read before a change lands under the old generation, never seen again.
UNREAD_CACHE_SECONDS = 300


def notify(*, user: User, kind: str, title: str, url: str = "") -> Notification:
    # Its post_save signal tells the badge (notification_changed).
    notification = Notification.objects.create(user=user, kind=kind, title=title[:300], url=url)
    if user.email and kind not in (user.email_off or []):
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


def _unread_changed(*, user_id: int) -> None:
    """The user's unread count changed: forget the cached one, then tell their open pages (at commit,
    after the cache's own at-commit forgetting, so the badge they fetch is the new count)."""
    cache_bump(_unread_generation(user_id))
    live_publish(user_topic(user_id), what="unread")


def notification_changed(*, instance: Notification, **kwargs: object) -> None:
    """Signal receiver: a notification was saved or deleted (notify, the admin, a user's deletion)."""
    _unread_changed(user_id=instance.user_id)


def _email(notification_id: int) -> None:
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    link = f"{settings.SITE_URL.rstrip('/')}{notification.url}" if notification.url else settings.SITE_URL
    send_mail(
        subject=notification.title,
        message=f"{notification.title}\n\n{link}\n",
        from_email=None,
        recipient_list=[notification.user.email],
        fail_silently=True,  # a mail outage must not fail the action that notified
    )
    Notification.objects.filter(pk=notification_id).update(emailed=True)


# --- Reading ---------------------------------------------------------------------------


def notifications_of(*, user: User) -> QuerySet[Notification]:
    """A user's own notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def notifications_unread_count(*, user: User) -> int:
    """Every page's badge: a COUNT on the (user, read_at) index once per change, then the cache's."""
    name = _unread_generation(user.pk)
    key = f"{name}:{cache_generations(name)[name]}"
    count = Notification.objects.filter(user=user, read_at__isnull=True).count
    return cache.get_or_set(key, count, UNREAD_CACHE_SECONDS)


def _unread_generation(user_id: int) -> str:
    return f"unread:{user_id}"


# --- Marking read ----------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> None:
    """Idempotent: the first read time is kept."""
    now = timezone.now()
    if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
        notification.read_at = now
        _unread_changed(user_id=notification.user_id)


def notifications_mark_all_read(*, user: User) -> int:
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        _unread_changed(user_id=user.pk)
    return marked
