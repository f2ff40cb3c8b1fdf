"""Invitations for pre-registered users (no usable password yet): an email with a link to choose one.

The link is Django's password-reset link (``default_token_generator``), so it stops working once used
and after ``PASSWORD_RESET_TIMEOUT``; an expired invitee asks for a new one on the sign-in page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.models import User
from core.preferences import language_of


def invitation_link(*, user: User) -> str:
    """An absolute link (from ``SITE_URL``) to the page where the user sets their password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def invitation_send(*, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    with language_of(user):
        context = {
            "user": user,
            "username": user.username,
            "link": invitation_link(user=user),
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        subject = _("You are invited to AI Academy")
        body = render_to_string("core/email/invitation.txt", context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email])
