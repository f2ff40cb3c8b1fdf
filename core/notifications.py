"""In-app notifications, also sent by email unless the user turned that kind off.

Every part of the platform notifies through ``notify``; the email leaves only once the
surrounding transaction has committed, so a rolled-back action sends nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from core.models import Notification, User


def language_of(user: User) -> translation.override:
    """Write a notification's title inside this, so it reads in the recipient's language."""
    return translation.override(user.preferred_language or settings.LANGUAGE_CODE)


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
