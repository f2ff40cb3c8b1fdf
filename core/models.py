from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEARNER = "learner", _("Learner")
    MENTOR = "mentor", _("Mentor")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A person on the platform. Roles are groups (see ``core.roles``)."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Pages are shown in this language after you sign in."),
    )
    nickname = models.CharField(
        _("nickname"), max_length=40, blank=True, help_text=_("Shown on leaderboards instead of your name if you wish.")
    )
    show_nickname = models.BooleanField(_("use my nickname on leaderboards"), default=False)
    email_off = models.JSONField(
        _("notification kinds not sent by email"), default=list, blank=True, help_text=_('e.g. ["run_finished"]')
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("learn", "Can follow courses and submit lab solutions"),
            ("mentor", "Can mentor learners and review their runs"),
            ("administer", "Can run cohorts, curriculum, labs and workers"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def public_name(self) -> str:
        """The name leaderboards show: the nickname when the user chose it."""
        return self.nickname if self.show_nickname and self.nickname else str(self)


class NotificationKind(models.TextChoices):
    RUN_FINISHED = "run_finished", _("a run finished")
    REVIEW_POSTED = "review_posted", _("a mentor reviewed a run")
    DEADLINE = "deadline", _("a deadline is near")
    JOB_FINISHED = "job_finished", _("a background job finished")
    CHALLENGE_REVEALED = "challenge_revealed", _("a challenge's final ranking is revealed")


class ApiToken(models.Model):
    """A personal API token. Only the key's SHA-256 is stored, with its first characters so its owner
    can tell tokens apart: the key itself is shown once, when the token is made (``core.services``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(_("key's SHA-256"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key's first characters"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @staticmethod
    def hash_key(key: str) -> str:
        """What is stored of a key, and looked up: its SHA-256 (a key is random, so no salt is needed)."""
        return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
