from __future__ import annotations

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
