"""The gradebook's form to override a lab's points or the final grade."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cohorts.models import CohortMember
from grading.rules import LabSpec


class GradeOverrideForm(forms.Form):
    learner = forms.TypedChoiceField(label=_("Learner"), coerce=int)
    lab = forms.TypedChoiceField(label=_("Grade to change"), coerce=int, required=False, empty_value=None)
    score = forms.DecimalField(label=_("Points (0–100)"), min_value=0, max_value=100, max_digits=5, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, members: Iterable[CohortMember], labs: Iterable[LabSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["learner"].choices = [(m.learner_id, f"{m.learner} ({m.learner.username})") for m in members]
        self.fields["lab"].choices = [("", _("Final grade")), *((lab.lab_id, lab.title) for lab in labs)]
