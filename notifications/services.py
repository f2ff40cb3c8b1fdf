"""In-app notifications, also sent by email unless the user turned that kind off.

Every part of the platform notifies through ``notify``; the email leaves only once the
surrounding transaction has committed, so a rolled-back action sends nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.models import User
from notifications.models import Notification


def notify(*, user: User, kind: str, title: str, url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, kind=kind, title=title[:300], url=url)
    if user.email and kind not in (user.email_off or []):
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


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
    """One COUNT on the (user, read_at) index: cheap enough for every page's navigation."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- Marking read ----------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> None:
    """Idempotent: the first read time is kept."""
    now = timezone.now()
    if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now):
        notification.read_at = now


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
