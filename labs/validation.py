"""Everything checked before a submission is queued. Each failure is a message a learner
can act on; a rejected submission leaves nothing behind and queues nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import db_text
from labs.lab_spec import SAVE_WEIGHTS
from labs.models import Lab, Run, RunState
from workers.contract import ContractError, check_source, notebook_to_source

MAX_SOURCE_BYTES = 256 * 1024
MAX_NOTEBOOK_BYTES = 5 * 1024 * 1024
KINDS = {".py": "py", ".ipynb": "ipynb"}


class SubmissionRejected(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class PreparedCode:
    code: str
    kind: str
    notes: list[str] = field(default_factory=list)


def kind_of(file_name: str) -> str:
    for suffix, kind in KINDS.items():
        if file_name.lower().endswith(suffix):
            return kind
    name = db_text(file_name)  # the API sends the message as UTF-8
    raise SubmissionRejected([_("Upload a .py file or a .ipynb notebook (got “%(name)s”).") % {"name": name}])


def prepare_code(raw: bytes, kind: str) -> PreparedCode:
    """Size, encoding, notebook conversion and the contract (syntax, train and predict)."""
    limit = MAX_NOTEBOOK_BYTES if kind == "ipynb" else MAX_SOURCE_BYTES
    if len(raw) > limit:
        raise SubmissionRejected(
            [
                _("The file is %(size)d KB; the limit is %(limit)d KB.")
                % {"size": len(raw) // 1024, "limit": limit // 1024}
            ]
        )
    if not raw.strip():
        raise SubmissionRejected([_("The submission is empty.")])
    notes: list[str] = []
    if kind == "ipynb":
        try:
            code, notes = notebook_to_source(raw)
        except ContractError as exc:
            raise SubmissionRejected([_("The notebook cannot be read: %(error)s") % {"error": exc}]) from None
    else:
        try:
            code = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubmissionRejected(
                [_("The file is not UTF-8 text (byte %(pos)d). Save it as UTF-8.") % {"pos": exc.start}]
            ) from None
    code = normalise_newlines(code)
    if len(code.encode()) > MAX_SOURCE_BYTES:
        raise SubmissionRejected([_("The code is longer than %(limit)d KB.") % {"limit": MAX_SOURCE_BYTES // 1024}])
    problems = check_source(code)
    if problems:
        raise SubmissionRejected(
            [
                _("Line %(line)d: %(message)s") % {"line": p.line, "message": p.message} if p.line else p.message
                for p in problems
            ]
        )
    return PreparedCode(code=code, kind=kind, notes=[db_text(note) for note in notes])  # stored as jsonb


def normalise_newlines(code: str) -> str:
    """``\\r\\n`` (a browser's textarea, a Windows file) and a lone ``\\r`` as ``\\n``: the same file stores
    the same code, SHA-256 and line numbers however it was sent."""
    return code.replace("\r\n", "\n").replace("\r", "\n")


def resolve_params(lab: Lab, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The lab's defaults with the learner's overrides, each checked against its bounds (the reserved
    ``save_weights`` is the platform's option, not the lab's: ``resolve_save_weights``)."""
    overrides = {name: value for name, value in (overrides or {}).items() if name != SAVE_WEIGHTS}
    unknown = [db_text(str(name)) for name in overrides if name not in lab.params]  # a JSON key: any text
    errors = [_("Unknown parameter “%(name)s”.") % {"name": name} for name in unknown]
    params: dict[str, Any] = {}
    for name, spec in lab.params.items():
        value = overrides.get(name, spec["default"])
        try:
            params[name] = _coerce_param(name, value, spec)
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        raise SubmissionRejected(errors)
    return params


def resolve_save_weights(overrides: dict[str, Any] | None) -> bool:
    """Whether the run keeps its trained weights: yes, unless the submission's parameters say
    ``save_weights`` false (``false``/``0``/``no``/``off`` as text too: the command line sends text)."""
    value = (overrides or {}).get(SAVE_WEIGHTS, True)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise SubmissionRejected([_("Parameter “%(name)s” must be true or false.") % {"name": SAVE_WEIGHTS}])


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _coerce_param(name: str, value: Any, spec: dict[str, Any]) -> int | float:
    kind = int if spec.get("type") == "int" else float
    try:
        number = kind(value)
        if kind is int and isinstance(value, float | str) and float(value) != number:
            raise ValueError
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too large for a float
        raise ValueError(_("Parameter “%(name)s” must be a %(type)s.") % {"name": name, "type": spec["type"]}) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(_("Parameter “%(name)s” must be a finite number.") % {"name": name})
    if not spec["min"] <= number <= spec["max"]:
        raise ValueError(
            _("Parameter “%(name)s” must be between %(min)s and %(max)s.")
            % {"name": name, "min": spec["min"], "max": spec["max"]}
        )
    return number


def runs_counted_today(*, learner_id: int, lab: Lab) -> int:
    """Runs that count against the daily quota: not cancelled, not ended by the platform, not the
    platform's own (``Run.by_platform``: a challenge's re-runs of an entry).

    Only a run that *ended* with a platform reason is free: a run retried after a lost worker
    keeps "platform: ...; retrying" as its reason while it runs again, and counts like any other."""
    since = timezone.now() - timedelta(days=1)
    return (
        Run.objects.filter(
            submission__learner_id=learner_id, submission__lab=lab, queued_at__gte=since, by_platform=False
        )
        .exclude(state=RunState.CANCELLED)
        .exclude(state=RunState.FAILED, reason__startswith="platform:")
        .count()
    )


def check_quota(*, learner_id: int, lab: Lab) -> None:
    used = runs_counted_today(learner_id=learner_id, lab=lab)
    if used >= lab.submissions_per_day:
        raise SubmissionRejected(
            [
                _("You have used all %(limit)d runs of this lab for the last 24 hours. Try again later.")
                % {"limit": lab.submissions_per_day}
            ]
        )
