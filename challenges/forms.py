"""The challenge pages' forms: an entry (code and the lab's hyper-parameters), a team's name, an
invitation, the final picks, and a new challenge with its first phase (administrators)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from challenges.models import Challenge, Entry, Phase
from challenges.services import PHASE_FIELDS
from labs.forms import param_fields_add, params_chosen

if TYPE_CHECKING:
    from labs.models import Lab

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
RESERVED_SLUGS = {"new"}  # /challenges/new/ is the form itself
# The first phase's fields as the creation form names them: the challenge's own titles take the plain names.
PHASE_FORM_NAMES = {"title_en": "phase_title_en", "title_zh": "phase_title_zh"}


class EntryForm(forms.Form):
    """An entry's code and, within the lab's bounds, its hyper-parameters (left at the lab's defaults
    unless changed)."""

    code = forms.CharField(label=_("Code"), widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false"}))

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lab = lab
        param_fields_add(self, lab)

    def param_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("param_")]

    def params(self) -> dict[str, Any]:
        return params_chosen(self, self.lab)


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)


class TeamInviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)


class FinalPicksForm(forms.Form):
    """Up to ``phase.final_picks`` of the contestant's own entries (the service checks both again)."""

    entries = forms.TypedMultipleChoiceField(
        label=_("Final picks"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, phase: Phase, entries: list[Entry], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase = phase
        self.fields["entries"].choices = [(entry.pk, str(entry.pk)) for entry in entries]

    def clean_entries(self) -> list[int]:
        picked = self.cleaned_data["entries"]
        if len(picked) > self.phase.final_picks:
            raise forms.ValidationError(
                _("Pick at most %(count)d entries.") % {"count": self.phase.final_picks}, code="too_many"
            )
        return picked


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
    )


class ChallengeCreateForm(forms.Form):
    """A new challenge and its first phase, in one form (``challenges.services.challenge_create``).
    Further phases and later changes are made in Django's admin."""

    # The challenge
    slug = forms.SlugField(label=_("Slug"), max_length=50, help_text=_("Its address: /challenges/<slug>/"))
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    rules_en = forms.CharField(
        label=_("Rules (English)"), widget=forms.Textarea(attrs={"rows": 6}), help_text=_("Markdown")
    )
    rules_zh = forms.CharField(
        label=_("Rules (Chinese)"), widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text=_("Markdown")
    )
    prize_en = forms.CharField(
        label=_("Prize or recognition (English)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Markdown"),
    )
    prize_zh = forms.CharField(
        label=_("Prize or recognition (Chinese)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Markdown"),
    )
    open_to_everyone = forms.BooleanField(
        label=_("Open to everyone"),
        required=False,
        initial=True,
        help_text=_("Otherwise only the members of the cohorts below take part."),
    )
    cohorts = forms.ModelMultipleChoiceField(
        label=_("Cohorts"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    published = forms.BooleanField(label=_("Published"), required=False, help_text=_("Learners see it."))
    # Its first phase
    lab = forms.ModelChoiceField(label=_("Lab"), queryset=None)
    phase_title_en = forms.CharField(label=_("Phase title (English)"), max_length=200, initial="Main phase")
    phase_title_zh = forms.CharField(label=_("Phase title (Chinese)"), max_length=200, required=False)
    starts_at = _datetime_field(_("Starts at"))
    ends_at = _datetime_field(_("Ends at"))
    submissions_per_day = forms.IntegerField(label=_("Entries per day"), min_value=1, initial=5)
    submissions_total = forms.IntegerField(
        label=_("Entries in total"), min_value=1, required=False, help_text=_("Empty: no limit.")
    )
    blind = forms.BooleanField(
        label=_("Blind"), required=False, help_text=_("Show only the validation score until the phase ends.")
    )
    final_picks = forms.IntegerField(label=_("Final picks"), min_value=1, max_value=20, initial=2)
    rerun_seeds = forms.IntegerField(
        label=_("Re-run seeds"),
        min_value=0,
        max_value=20,
        initial=3,
        help_text=_("Each final entry is re-run with this many seeds at the end."),
    )
    public_fraction = forms.FloatField(
        label=_("Public fraction"),
        initial=0.5,
        help_text=_("The share of the hidden test rows on the public leaderboard, strictly between 0 and 1."),
    )

    CHALLENGE_FIELDS = (
        "slug",
        "title_en",
        "title_zh",
        "rules_en",
        "rules_zh",
        "prize_en",
        "prize_zh",
        "open_to_everyone",
        "cohorts",
        "published",
    )
    PHASE_FIELDS = tuple(PHASE_FORM_NAMES.get(name, name) for name in PHASE_FIELDS)

    def __init__(self, *args: Any, labs: Any, cohorts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lab"].queryset = labs
        self.fields["lab"].label_from_instance = lambda lab: f"{lab.title} ({lab.slug})"
        self.fields["cohorts"].queryset = cohorts
        zone = _("Time zone: %(zone)s") % {"zone": timezone.get_current_timezone_name()}  # the viewer's language
        self.fields["starts_at"].help_text = self.fields["ends_at"].help_text = zone

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug.lower() in RESERVED_SLUGS:
            raise forms.ValidationError(_("This slug is one of the site's own addresses."), code="reserved")
        if Challenge.objects.filter(slug__iexact=slug).exists():
            raise forms.ValidationError(_("A challenge already has this slug."), code="taken")
        return slug

    def clean_public_fraction(self) -> float:
        fraction = self.cleaned_data["public_fraction"]
        if not 0 < fraction < 1:
            raise forms.ValidationError(_("The public fraction must lie strictly between 0 and 1."), code="range")
        return fraction

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("A phase must end after it starts."))
        if not data.get("open_to_everyone") and not data.get("cohorts") and "cohorts" not in self.errors:
            self.add_error("cohorts", _("Choose the cohorts that take part, or open the challenge to everyone."))
        return data

    def phase(self) -> dict[str, Any]:
        """The first phase as ``challenge_create`` takes it: Phase's field names."""
        return {name: self.cleaned_data[PHASE_FORM_NAMES.get(name, name)] for name in PHASE_FIELDS}

    def challenge(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in self.CHALLENGE_FIELDS if name != "cohorts"} | {
            "cohorts": list(data["cohorts"])
        }
