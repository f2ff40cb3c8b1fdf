from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mentorship.models import Rubric, Verdict

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
