"""Challenges: competitions on labs, in phases, alone or in teams, scored on a public and a private
split of the lab's hidden test set (``challenges.splits``).

A phase's private scores stay hidden until the phase ends; ``Phase.revealed_at`` records the one
moment they were revealed. Team rules (one team per user per challenge, leaving only before the
first entry) are kept by ``challenges.services``; the database holds what it can.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.bilingual import bilingual


def new_split_seed() -> int:
    """A fresh secret seed for a phase's public/private split (a module-level function, so that
    migrations can name it)."""
    return secrets.randbelow(2**31)


class Challenge(models.Model):
    """A competition on one or more labs (one per phase), with bilingual rules and a prize."""

    slug = models.SlugField(_("slug"), unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    rules_en = models.TextField(_("rules (English)"), help_text=_("Markdown"))
    rules_zh = models.TextField(_("rules (Chinese)"), blank=True, help_text=_("Markdown"))
    prize_en = models.TextField(_("prize (English)"), blank=True, help_text=_("Markdown: the prize or recognition"))
    prize_zh = models.TextField(_("prize (Chinese)"), blank=True, help_text=_("Markdown: the prize or recognition"))
    open_to_everyone = models.BooleanField(
        _("open to everyone"), default=True, help_text=_("Otherwise only the members of the cohorts below take part.")
    )
    cohorts = models.ManyToManyField("cohorts.Cohort", blank=True, related_name="challenges", verbose_name=_("cohorts"))
    published = models.BooleanField(_("published"), default=False, help_text=_("Learners see it."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)

    @property
    def rules(self) -> str:
        return bilingual(self.rules_en, self.rules_zh)

    @property
    def prize(self) -> str:
        return bilingual(self.prize_en, self.prize_zh)


class Phase(models.Model):
    """One stage of a challenge on one lab, between two moments, with its own limits and leaderboard.

    The lab's hidden test rows are split by ``split_seed`` and ``public_fraction`` into a public part
    (scored and shown live) and a private part (shown once the phase has ended)."""

    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="phases", verbose_name=_("challenge")
    )
    lab = models.ForeignKey(
        "labs.Lab", on_delete=models.PROTECT, related_name="challenge_phases", verbose_name=_("lab")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    submissions_per_day = models.PositiveIntegerField(
        _("submissions per day"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Per learner, or per team for its members together, in any 24 hours."),
    )
    submissions_total = models.PositiveIntegerField(
        _("submissions in total"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    blind = models.BooleanField(
        _("blind"), default=False, help_text=_("Show only the validation score until the phase ends.")
    )
    final_picks = models.PositiveSmallIntegerField(
        _("final picks"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_("How many entries each learner or team picks for the final ranking."),
    )
    rerun_seeds = models.PositiveSmallIntegerField(
        _("re-run seeds"), default=3, help_text=_("Each final entry is re-run with this many seeds at the end.")
    )
    public_fraction = models.FloatField(
        _("public fraction"), default=0.5, help_text=_("The share of the hidden test rows on the public leaderboard.")
    )
    split_seed = models.BigIntegerField(
        _("split seed"), default=new_split_seed, help_text=_("Secret: which hidden rows are public.")
    )
    revealed_at = models.DateTimeField(
        _("revealed at"), null=True, blank=True, help_text=_("When the private ranking was revealed.")
    )

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["challenge", "position"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "position"], name="challenge_phase_position_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="challenge_phase_ends_after_start",
                violation_error_message=_("A phase must end after it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(public_fraction__gt=0) & models.Q(public_fraction__lt=1),
                name="challenge_phase_public_fraction_between_0_and_1",
                violation_error_message=_("The public fraction must lie strictly between 0 and 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge.slug} #{self.position}"

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)

    def is_open(self, now: datetime | None = None) -> bool:
        """Entries are taken from ``starts_at`` (included) until ``ends_at`` (excluded)."""
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at

    def has_ended(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.ends_at


class Team(models.Model):
    """Learners who take part in a challenge together: one quota and one leaderboard row."""

    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="teams", verbose_name=_("challenge")
    )
    name = models.CharField(_("name"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["challenge", "name"]
        constraints = [
            # "Alpha" and "alpha" would be two rows no one can tell apart on a leaderboard.
            models.UniqueConstraint(Lower("name"), "challenge", name="challenge_team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A user in a team. ``challenge`` repeats ``team.challenge`` so that the database holds the rule
    "one team per user per challenge"."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+", verbose_name=_("challenge"))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members", verbose_name=_("team"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="challenge_memberships",
        verbose_name=_("user"),
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "joined_at"]
        constraints = [models.UniqueConstraint(fields=["challenge", "user"], name="challenge_one_team_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class TeamInvite(models.Model):
    """A member's invitation to join their team: pending until accepted or declined (kept after)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites", verbose_name=_("team"))
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="challenge_invites",
        verbose_name=_("invitee"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)

    class Meta:
        verbose_name = _("team invitation")
        verbose_name_plural = _("team invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "invitee"],
                condition=models.Q(accepted_at__isnull=True, declined_at__isnull=True),
                name="challenge_one_pending_invite",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(declined_at__isnull=True),
                name="challenge_invite_accepted_or_declined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.team}"

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.declined_at is None


class Entry(models.Model):
    """One scored run in a phase, by a learner alone or for their team."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="entries", verbose_name=_("phase"))
    run = models.OneToOneField(
        "labs.Run", on_delete=models.CASCADE, related_name="challenge_entry", verbose_name=_("run")
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="challenge_entries",
        verbose_name=_("learner"),
    )
    # A team with entries is on a leaderboard: it is deleted only with its challenge (RESTRICT, not
    # PROTECT, lets the challenge's cascade through its phases take both).
    team = models.ForeignKey(
        Team, on_delete=models.RESTRICT, null=True, blank=True, related_name="entries", verbose_name=_("team")
    )
    public_score = models.FloatField(_("public score"), null=True, blank=True)
    private_score = models.FloatField(
        _("private score"), null=True, blank=True, help_text=_("Hidden from learners until the phase ends.")
    )
    final = models.BooleanField(_("final"), default=False, help_text=_("Picked for the final ranking."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phase", "team"], name="challenge_entry_phase_team"),
            models.Index(fields=["phase", "learner"], name="challenge_entry_phase_learner"),
        ]

    def __str__(self) -> str:
        return f"entry {self.pk} ({self.phase})"


class Rerun(models.Model):
    """A final entry trained again with another seed at the end of its phase: the final ranking uses
    the mean of these private scores, with their spread."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="reruns", verbose_name=_("entry"))
    seed = models.BigIntegerField(_("seed"))
    run = models.OneToOneField(
        "labs.Run",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="challenge_rerun",
        verbose_name=_("run"),
    )
    private_score = models.FloatField(_("private score"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-run")
        verbose_name_plural = _("re-runs")
        ordering = ["entry", "seed"]
        constraints = [models.UniqueConstraint(fields=["entry", "seed"], name="challenge_rerun_seed_unique")]

    def __str__(self) -> str:
        return f"re-run of entry {self.entry_id} with seed {self.seed}"
