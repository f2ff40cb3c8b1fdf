"""Roster import: a CSV of learners (``username`` or ``email``, ``name``, ``cohort``, ``mentor``) put into
cohorts as a background job, with a per-row report. Unknown emails become pre-registered learners who
get an invitation to set their password.

The whole import is one transaction (one savepoint per row): an unexpected error leaves nothing
half-imported, and invitations leave only once it has committed."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorts.background import JobOutput, JobRefused, job_enqueue, job_input_text, job_run, spreadsheet_safe, text_file
from cohorts.models import Cohort, CohortMember, Job
from cohorts.services import CohortError, can_manage_cohorts, cohort_member_add
from core.invitations import invitation_send
from core.models import Role, User
from core.services import user_create
from core.text import db_text

ROSTER_IMPORT_TASK = "cohorts.tasks.roster_import"
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("username", "email", "name", "cohort", "mentor")
REPORT_COLUMNS = ("row", "username", "email", "cohort", "outcome", "reason")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates


class RosterError(ValueError):
    """The file as a whole cannot be imported (empty, no header, too big...)."""


class Outcome(models.TextChoices):
    ADDED = "added", gettext_lazy("added")
    ALREADY_PRESENT = "already_present", gettext_lazy("already present")
    INVALID = "invalid", gettext_lazy("invalid")


@dataclass(frozen=True)
class RosterRow:
    line: int  # in the file, the header being line 1
    username: str = ""
    email: str = ""
    name: str = ""
    cohort: str = ""
    mentor: str = ""
    overflow: bool = False  # more fields than the header has columns


@dataclass
class RowResult:
    row: RosterRow
    outcome: str
    reason: str = ""
    username: str = ""
    email: str = ""
    cohort: str = ""
    invited: bool = False


# --- Reading the file ---------------------------------------------------------------------


def _too_big() -> RosterError:
    return RosterError(_("The file is larger than %(size)s.") % {"size": filesizeformat(MAX_BYTES)})


def roster_decode(data: bytes) -> str:
    """An uploaded file as text (UTF-8, with or without a byte-order mark)."""
    if len(data) > MAX_BYTES:
        raise _too_big()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(_("The file is not UTF-8 text; save it as “CSV UTF-8”.")) from exc


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    known = [name for name in names if name in COLUMNS]
    if not known:
        raise RosterError(
            _("The first line must be a header naming the columns: %(columns)s.") % {"columns": ", ".join(COLUMNS)}
        )
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        raise RosterError(
            _("Unknown column(s) %(unknown)s; the columns are %(columns)s.")
            % {"unknown": ", ".join(unknown), "columns": ", ".join(COLUMNS)}
        )
    if len(set(known)) != len(known):
        raise RosterError(_("A column is named twice in the header."))
    if "username" not in names and "email" not in names:
        raise RosterError(_("The header needs a username or an email column."))
    return names


def roster_parse(text: str) -> list[RosterRow]:
    """The rows of a roster CSV; raises ``RosterError`` for a file that cannot be imported at all."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_BYTES:
        raise _too_big()
    if not text.strip():
        raise RosterError(_("The file is empty."))
    if _UNSTORABLE.search(text):  # a binary file, or text no database stores
        raise RosterError(_("The file is not a text CSV (it contains NUL or invalid characters)."))
    first_line = text.lstrip().partition("\n")[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter)
    try:
        names = _header(next(reader))
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise RosterError(_("The file has more than %(max)s rows.") % {"max": MAX_ROWS})
            values = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}
            overflow = any(cell.strip() for cell in cells[len(names) :])
            rows.append(RosterRow(line=reader.line_num, overflow=overflow, **values))
    except csv.Error as exc:
        raise RosterError(_("The file is not valid CSV: %(error)s") % {"error": exc}) from exc
    if not rows:
        raise RosterError(_("The file has a header but no rows."))
    return rows


# --- Importing ----------------------------------------------------------------------------


@dataclass
class _Lookups:
    """What every row needs, read once per import."""

    job_cohort: Cohort | None
    cohorts: dict[str, Cohort]
    mentors: dict[str, User]
    seen: dict[tuple[str, str], int]

    @classmethod
    def load(cls, rows: list[RosterRow], job_cohort: Cohort | None) -> _Lookups:
        slugs = {row.cohort for row in rows if row.cohort}
        usernames = {row.mentor for row in rows if row.mentor}
        return cls(
            job_cohort=job_cohort,
            cohorts={c.slug: c for c in Cohort.objects.filter(slug__in=slugs)},
            mentors={u.username: u for u in User.objects.filter(username__in=usernames)},
            seen={},
        )


class _Invalid(Exception):  # a row's outcome, not an error of the program
    pass


def _cohort_for(row: RosterRow, lookups: _Lookups) -> Cohort:
    job_cohort = lookups.job_cohort
    slug = row.cohort or (job_cohort.slug if job_cohort else "")
    if not slug:
        raise _Invalid(_("No cohort given."))
    if job_cohort is not None and slug != job_cohort.slug:
        raise _Invalid(_("This import is for the cohort %(slug)s.") % {"slug": job_cohort.slug})
    if job_cohort is not None:
        return job_cohort
    if slug not in lookups.cohorts:
        raise _Invalid(_("Unknown cohort “%(slug)s”.") % {"slug": slug})
    return lookups.cohorts[slug]


def _mentor_for(row: RosterRow, lookups: _Lookups) -> User | None:
    if not row.mentor:
        return None
    mentor = lookups.mentors.get(row.mentor)
    if mentor is None:
        raise _Invalid(_("Unknown mentor “%(username)s”.") % {"username": row.mentor})
    if not mentor.has_perm("core.mentor"):
        raise _Invalid(_("%(username)s does not have the mentor role.") % {"username": row.mentor})
    return mentor


def _existing_learner(row: RosterRow) -> User | None:
    """The account the row names, or None when its email is new (to pre-register)."""
    if row.username:
        user = User.objects.filter(username=row.username).first()
        if user is not None:
            if row.email and user.email and user.email.lower() != row.email.lower():
                raise _Invalid(_("The account %(username)s has another email address.") % {"username": row.username})
            return user
        if not row.email:
            raise _Invalid(
                _("Unknown username “%(username)s” (give an email to invite a new learner).")
                % {"username": row.username}
            )
    by_email = list(User.objects.filter(email__iexact=row.email)[:2])
    if len(by_email) > 1:
        raise _Invalid(_("Several accounts use the email %(email)s.") % {"email": row.email})
    if by_email and row.username:
        raise _Invalid(
            _("The email %(email)s belongs to the account %(username)s.")
            % {"email": row.email, "username": by_email[0].username}
        )
    return by_email[0] if by_email else None


def _free_username(email: str) -> str:
    base = re.sub(r"[^\w.+-]", "", email.partition("@")[0].lower())[:140] or "learner"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _preregister(row: RosterRow) -> User:
    username = row.username or _free_username(row.email)
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise _Invalid(_("“%(username)s” is not a valid username.") % {"username": username}) from exc
    return user_create(username=username, password=None, role=Role.LEARNER, email=row.email, display_name=row.name)


def _check_row(row: RosterRow, lookups: _Lookups) -> None:
    if row.overflow:
        raise _Invalid(_("The row has more fields than the header."))
    too_long = {
        "username": _("The username is longer than %(max)s characters."),
        "email": _("The email address is longer than %(max)s characters."),
        "display_name": _("The name is longer than %(max)s characters."),
    }
    values = {"username": row.username, "email": row.email, "display_name": row.name}
    for field, message in too_long.items():
        limit = User._meta.get_field(field).max_length
        if len(values[field]) > limit:
            raise _Invalid(message % {"max": limit})
    if not row.username and not row.email:
        raise _Invalid(_("Give a username or an email."))
    key = (row.username.lower() or row.email.lower(), row.cohort)
    first = lookups.seen.setdefault(key, row.line)
    if first != row.line:
        raise _Invalid(_("Duplicate of row %(line)s.") % {"line": first})
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError as exc:
            raise _Invalid(_("“%(email)s” is not a valid email address.") % {"email": row.email}) from exc


def _import_row(row: RosterRow, lookups: _Lookups) -> RowResult:
    job_slug = lookups.job_cohort.slug if lookups.job_cohort else ""
    result = RowResult(
        row=row, outcome=Outcome.INVALID, username=row.username, email=row.email, cohort=row.cohort or job_slug
    )
    try:
        _check_row(row, lookups)
        cohort = _cohort_for(row, lookups)
        result.cohort = cohort.slug
        mentor = _mentor_for(row, lookups)
        with transaction.atomic():  # a savepoint: a refused row leaves no pre-registered account behind
            learner = _existing_learner(row)
            if learner is None:
                learner = _preregister(row)
                result.invited = True
            result.username, result.email = learner.username, learner.email
            member = CohortMember.objects.filter(cohort=cohort, learner=learner).select_related("mentor").first()
            if member is not None:
                result.outcome = Outcome.ALREADY_PRESENT
                if mentor is not None and member.mentor_id != mentor.pk:
                    result.reason = _("Mentor not changed (it is %(mentor)s); change it on the cohort page.") % {
                        "mentor": member.mentor.username if member.mentor else "—"
                    }
                return result
            cohort_member_add(cohort=cohort, learner=learner, mentor=mentor)
    except (_Invalid, CohortError) as exc:
        if result.invited:  # the savepoint took the new account back
            result.username, result.email, result.invited = row.username, row.email, False
        result.reason = str(exc)
        return result
    result.outcome = Outcome.ADDED
    if result.invited:
        result.reason = _("New account; an invitation was sent to %(email)s.") % {"email": learner.email}
        transaction.on_commit(partial(invitation_send, user_id=learner.pk), robust=True)
    return result


def _report(results: list[RowResult]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for r in results:
        writer.writerow(
            [r.row.line, *(spreadsheet_safe(v) for v in (r.username, r.email, r.cohort, r.outcome, r.reason))]
        )
    return out.getvalue()


def _summary(results: list[RowResult]) -> dict[str, int]:
    summary = {"rows": len(results), **{outcome.value: 0 for outcome in Outcome}, "invited": 0}
    for r in results:
        summary[r.outcome] += 1
        summary["invited"] += int(r.invited)
    return summary


def roster_import_run(*, job_id: int) -> dict[str, int]:
    """Run a roster-import job: import every row, then store the summary and report on the job."""

    def work(job: Job) -> JobOutput:
        try:
            rows = roster_parse(job_input_text(job))
        except RosterError as exc:
            raise JobRefused(str(exc)) from exc
        with transaction.atomic():
            lookups = _Lookups.load(rows, job.cohort)
            results = [_import_row(row, lookups) for row in rows]
        return JobOutput(_summary(results), f"roster-{job.pk}.csv", _report(results))

    def unexpected(error: str) -> str:
        return _("The import stopped on an unexpected error; nothing was imported. (%(error)s)") % {"error": error}

    return job_run(job_id=job_id, kind=Job.Kind.ROSTER_IMPORT, work=work, unexpected=unexpected)


# --- Starting a job -------------------------------------------------------------------------


def job_roster_import_create(*, requested_by: User, cohort: Cohort | None = None, file_name: str, text: str) -> Job:
    """Check the file can be read, store it on a new Job and queue the import once committed."""
    if not can_manage_cohorts(requested_by):
        raise PermissionDenied
    text = text.removeprefix("\ufeff")
    roster_parse(text)  # refuse an unreadable file now, while the person is still on the page
    job = Job(
        kind=Job.Kind.ROSTER_IMPORT, requested_by=requested_by, cohort=cohort, input_name=db_text(file_name)[:255]
    )
    job.input_file.save("roster.csv", text_file(text), save=False)
    job.save()
    transaction.on_commit(partial(job_enqueue, job_id=job.pk, task_name=ROSTER_IMPORT_TASK))
    return job
