from __future__ import annotations

import math
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from labs.artifacts import weights_max_mb
from labs.lab_archive import MAX_UNPACKED_BYTES
from labs.lab_spec import SAVE_WEIGHTS
from labs.models import Lab


def param_fields_add(form: forms.Form, lab: Lab) -> None:
    """A field ``param_<name>`` per hyper-parameter of ``lab``, at its default, within its bounds (the
    bounds are checked on submission, ``labs.validation.resolve_params``)."""
    for name, spec in lab.params.items():
        field_class = forms.IntegerField if spec.get("type") == "int" else forms.FloatField
        form.fields[f"param_{name}"] = field_class(
            label=name,
            initial=spec["default"],
            required=False,
            help_text=_("between %(min)s and %(max)s") % {"min": spec["min"], "max": spec["max"]},
        )


def params_chosen(form: forms.Form, lab: Lab) -> dict[str, Any]:
    """The hyper-parameters the (valid) ``form`` sets; the others keep the lab's defaults."""
    return {
        name: form.cleaned_data[f"param_{name}"]
        for name in lab.params
        if form.cleaned_data.get(f"param_{name}") is not None
    }


def params_suggested(request: HttpRequest, lab: Lab) -> dict[str, Any]:
    """Hyper-parameters a link sets on the form it opens (``?param_lr=0.001``: the coach's "try
    lr = 0.001"), those within the lab's bounds; anything else in the address is ignored."""
    chosen: dict[str, Any] = {}
    for name, spec in lab.params.items():
        raw = request.GET.get(f"param_{name}")
        if raw is None:
            continue
        try:
            value: float = int(raw) if spec.get("type") == "int" else float(raw)
        except ValueError:
            continue
        if math.isfinite(value) and spec.get("min", -math.inf) <= value <= spec.get("max", math.inf):
            chosen[f"param_{name}"] = value
    return chosen


class SubmitForm(forms.Form):
    """Paste or edit code, or upload a .py / .ipynb file; hyper-parameters within the lab's bounds; and,
    where the lab keeps trained weights, a box to keep none (the API's ``save_weights=false``)."""

    code = forms.CharField(
        label=_("Code"), widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false"}), required=False
    )
    upload = forms.FileField(label=_("…or upload a .py or .ipynb file"), required=False)

    def __init__(self, *args: Any, lab: Lab, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lab = lab
        param_fields_add(self, lab)
        self.weights_max_mb = weights_max_mb(lab)
        if self.weights_max_mb:
            # An opt-out box, not an opt-in: a post without it (a script, an old page) keeps the weights.
            self.fields["skip_weights"] = forms.BooleanField(
                label=_("Don't save the trained weights of this run"),
                required=False,
                help_text=_("From the API or the academy command: save_weights=false."),
            )

    def params(self) -> dict[str, Any]:
        chosen = params_chosen(self, self.lab)
        if self.cleaned_data.get("skip_weights"):
            chosen[SAVE_WEIGHTS] = False
        return chosen


class LabUploadForm(forms.Form):
    """A lab folder as a .zip (``labs.lab_archive``), for the authoring pages."""

    archive = forms.FileField(
        label=_("Lab folder (.zip)"),
        help_text=_(
            "A zip of the lab's folder, or of its contents: lab.toml, starter.py, solution.py, data/ "
            "(build.py, score.py, files/ when the lab uses them). A known slug updates that lab."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_archive(self) -> UploadedFile:
        archive = self.cleaned_data["archive"]
        if archive.size is not None and archive.size > MAX_UNPACKED_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s.") % {"size": filesizeformat(MAX_UNPACKED_BYTES)}
            )
        return archive
