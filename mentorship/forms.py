from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from labs.models import Lab
from mentorship.models import DismissReason, Rubric, Verdict

LINE_COMMENT = re.compile(r"^\s*(?:L|line\s*)?(\d+)\s*[:：]\s*(.+)$", re.IGNORECASE)


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    line_comments = forms.CharField(
        label=_("Comments on lines"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "12: …"}),
        help_text=_("One per line, as “line number: comment”. Click a line number in the code to start one."),
    )
    confirm_low_points = forms.BooleanField(label=_("Approve anyway"), required=False)

    def __init__(self, *args: object, rubric: Rubric | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = list(rubric.criteria.all()) if rubric else []
        for criterion in self.criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.TypedChoiceField(
                label=criterion.title,
                help_text=criterion.description,
                choices=[(lv.pk, f"{lv.title} ({lv.points})") for lv in criterion.levels.all()],
                coerce=int,
                widget=forms.RadioSelect,
            )

    def criterion_fields(self) -> list[forms.BoundField]:
        return [self[f"criterion_{criterion.pk}"] for criterion in self.criteria]

    def clean_line_comments(self) -> list[tuple[int, str]]:
        parsed, bad = [], []
        for raw in self.cleaned_data["line_comments"].splitlines():
            if not raw.strip():
                continue
            match = LINE_COMMENT.match(raw)
            if match is None:
                bad.append(raw.strip())
            else:
                parsed.append((int(match.group(1)), match.group(2)))
        if bad:
            raise forms.ValidationError(
                _("Write each line comment as “line number: comment”; not understood: %(lines)s"),
                params={"lines": " | ".join(bad)},
            )
        return parsed

    def levels(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"criterion_{c.pk}"] for c in self.criteria}

    def level_points(self) -> dict[str, int]:
        """Each level's points by its id, for the page's live low-points warning (``review.js``)."""
        return {str(lv.pk): lv.points for c in self.criteria for lv in c.levels.all()}


# The queue's outcome filter, in the order a mentor thinks of it; keys of selectors.QUEUE_OUTCOMES.
OUTCOME_CHOICES = [
    ("passed", _("passed")),
    ("not_passed", _("not passed")),
    ("failed", _("failed")),
    ("timed_out", _("timed out")),
    ("succeeded", _("scored (passed or not)")),
]


class QueueFilterForm(forms.Form):
    """The review queue's filters, read from the query string by the page and the API alike."""

    lab = forms.ChoiceField(label=_("Lab"), required=False)
    state = forms.ChoiceField(label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *OUTCOME_CHOICES])
    learner = forms.CharField(label=_("Learner"), required=False, max_length=150)
    all = forms.BooleanField(label=_("Show all runs"), required=False)
    dismissed = forms.BooleanField(label=_("Include dismissed"), required=False)

    def __init__(self, *args: object, labs: list[Lab], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.labs = labs
        self.fields["lab"].choices = [("", _("All labs")), *((lab.slug, lab.title) for lab in labs)]

    def filters(self) -> dict[str, object]:
        """``selectors.review_queue``'s keyword arguments: the valid filters (an invalid one is left out)."""
        data = getattr(self, "cleaned_data", {})
        return {
            "lab": data.get("lab") or None,
            "state": data.get("state") or None,
            "learner": (data.get("learner") or "").strip() or None,
            "all_runs": bool(data.get("all")),
            "include_dismissed": bool(data.get("dismissed")),
        }


class DismissForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=DismissReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class SessionForm(forms.Form):
    held_on = forms.DateField(
        label=_("Date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("What you discussed"), widget=forms.Textarea(attrs={"rows": 4}))
    action_items = forms.CharField(
        label=_("Action items"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("One per line.")
    )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Private note"), widget=forms.Textarea(attrs={"rows": 3}))
