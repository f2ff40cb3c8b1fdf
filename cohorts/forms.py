from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from cohorts.models import Cohort
from cohorts.roster import MAX_BYTES, RosterError, roster_decode
from cohorts.selectors import members_of, mentor_candidates


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster CSV"),
        help_text=_(
            "A header line, then one learner a line. Columns: username or email, name, cohort, mentor. "
            "UTF-8; commas or semicolons."
        ),
    )

    text = ""  # the file's text once valid (the import reads it later, in a job)

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        try:
            self.text = roster_decode(upload.read(MAX_BYTES + 1))
        except RosterError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload


class MemberMentorForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    mentor = forms.ModelChoiceField(queryset=None, required=False, label=_("Mentor"), empty_label=_("no mentor"))

    def __init__(self, *args: Any, cohort: Cohort, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members_of(cohort)
        self.fields["mentor"].queryset = mentor_candidates()
