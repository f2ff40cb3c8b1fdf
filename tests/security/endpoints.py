"""Every page and API endpoint of every app, built for the security world (``tests.security.world``),
with the personas who get through. ``test_authorization_matrix`` proves the table covers every URL
pattern and that everyone not listed is refused; ``test_idor`` and ``test_csrf`` reuse it."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from labs.lab_archive import lab_zip_pack
from tests.labs.conftest import VALID_CODE
from tests.labs.test_lab_folder import make_lab
from tests.security.world import ADMIN, EVERYONE, SIGNED_IN, STAFF, World, reset_run

LENA_SIDE = ("learner", "mentor", "admin_user")  # lena, her mentor, administrators
LENA_MENTORS = ("mentor", "admin_user")  # who may act as lena's mentor
LENA_ACTORS = ("learner", "admin_user")  # who may cancel or re-run lena's runs
SPRING = ("learner", "other_learner", "mentor", "other_mentor", "admin_user")  # the cohort's people
NOBODY: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    name: str
    url: Callable[[World], str]
    allowed: tuple[str, ...]
    method: str = "get"
    api: bool = False
    data: Callable[[World], dict[str, Any]] | None = None
    reset: Callable[[World], None] | None = None  # run before each allowed persona's request
    # personas whose request the view turns down as invalid (400): the data names something outside
    # what they may touch, and the form offers them only their own; still nothing changes
    invalid_for: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.method != "get"


def page(name: str, url: Callable[[World], str], allowed: tuple[str, ...], **kwargs: Any) -> Row:
    return Row(name, url, allowed, **kwargs)


def api(name: str, url: Callable[[World], str], allowed: tuple[str, ...], **kwargs: Any) -> Row:
    return Row(f"API {name}", lambda w: "/api/v1" + url(w), allowed, api=True, **kwargs)


def _choice_back(w: World) -> None:
    """maria's hide, there again (an allowed persona before took it back)."""
    w.coach_choice.save(force_insert=not type(w.coach_choice).objects.filter(pk=w.coach_choice.pk).exists())


def _exercise_url(w: World, exercise_id: str, action: str) -> str:
    """An exercise of the world's first lesson (it holds the exercise tests' three)."""
    return f"{w.lesson.get_absolute_url()}exercises/{exercise_id}/{action}/"


def _roster_file(w: World) -> dict[str, Any]:
    csv = b"username,cohort\nnina,spring\n"
    return {"action": "roster", "file": SimpleUploadedFile("roster.csv", csv, content_type="text/csv")}


def _session(w: World) -> dict[str, Any]:
    return {"session": "1", "session-held_on": timezone.localdate().isoformat(), "session-notes": "talked"}


def _new_challenge(w: World) -> dict[str, Any]:
    now = timezone.now()
    phase = {"lab": w.lab.slug, "title_en": "Main", "starts_at": now, "ends_at": now + dt.timedelta(days=7)}
    return {"slug": "new-cup", "title_en": "New cup", "rules_en": "Be fair.", "phases": [phase]}


def _requeue(w: World) -> None:
    reset_run(w.queued_run)


def _challenge_form(w: World) -> dict[str, Any]:
    """The page's form for a new challenge, filled in (challenges.forms.ChallengeCreateForm)."""
    start = timezone.localtime().replace(second=0, microsecond=0)
    return {
        "slug": "page-cup",
        "title_en": "Page cup",
        "rules_en": "Be fair.",
        "open_to_everyone": "on",
        "lab": w.lab.pk,
        "phase_title_en": "Main",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "submissions_per_day": "5",
        "final_picks": "2",
        "rerun_seeds": "3",
        "public_fraction": "0.5",
    }


def _no_new_team(w: World) -> None:
    w.challenge.teams.filter(name="New team").delete()  # the previous persona's, so the name is free


IN_A_TEAM = ("learner",)  # lena is in the world's challenge team
NOT_IN_A_TEAM = tuple(p for p in SIGNED_IN if p not in IN_A_TEAM)


def lab_zip(slug: str) -> SimpleUploadedFile:
    """A valid lab folder as a .zip (``tests.labs.test_lab_folder.make_lab``), for the authoring pages."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        lab_zip_pack(make_lab(Path(tmp), slug=slug), buffer)
    return SimpleUploadedFile(f"{slug}.zip", buffer.getvalue(), content_type="application/zip")


ROWS: list[Row] = [
    # --- core: home, accounts, language -------------------------------------------------------------
    page("home", lambda w: "/", EVERYONE),
    page("liveness probe", lambda w: "/livez", EVERYONE),
    page("readiness probe", lambda w: "/readyz", EVERYONE),
    page("favicon", lambda w: "/favicon.ico", EVERYONE),  # a redirect to the static SVG icon
    page("profile", lambda w: "/accounts/profile/", SIGNED_IN),
    page(
        "profile save",
        lambda w: "/accounts/profile/",
        SIGNED_IN,
        method="post",
        data=lambda w: {"display_name": "New name", "email": "new@example.com", "preferred_language": "en"},
    ),
    page("API tokens", lambda w: "/accounts/tokens/", SIGNED_IN),
    page("API token create", lambda w: "/accounts/tokens/", SIGNED_IN, method="post", data=lambda w: {"name": "a"}),
    page("API token revoke page", lambda w: f"/accounts/tokens/{w.token.pk}/revoke/", ("learner",)),
    page("API token revoke", lambda w: f"/accounts/tokens/{w.token.pk}/revoke/", ("learner",), method="post"),
    page("sign-in page", lambda w: "/accounts/login/", EVERYONE),
    page("sign out", lambda w: "/accounts/logout/", EVERYONE, method="post"),
    page("password change", lambda w: "/accounts/password_change/", SIGNED_IN),
    page("password changed", lambda w: "/accounts/password_change/done/", SIGNED_IN),
    page("password reset", lambda w: "/accounts/password_reset/", EVERYONE),
    page("password reset sent", lambda w: "/accounts/password_reset/done/", EVERYONE),
    page("password reset complete", lambda w: "/accounts/reset/done/", EVERYONE),
    page(
        "set language",
        lambda w: "/i18n/setlang/",
        EVERYONE,
        method="post",
        data=lambda w: {"language": "zh-hans", "next": "/"},
    ),
    page("admin site", lambda w: "/admin/", ADMIN),
    # --- courses --------------------------------------------------------------------------------------
    page("catalog", lambda w: "/courses/", EVERYONE),
    page("path page", lambda w: f"/courses/paths/{w.path.slug}/", EVERYONE),
    page("course page", lambda w: f"/courses/{w.course.slug}/", EVERYONE),
    page("draft course page", lambda w: f"/courses/{w.draft_course.slug}/", ADMIN),
    page("enroll", lambda w: f"/courses/{w.course.slug}/enroll/", SIGNED_IN, method="post"),
    page("lesson page", lambda w: w.lesson.get_absolute_url(), SIGNED_IN),
    page("draft lesson page", lambda w: w.draft_lesson.get_absolute_url(), ADMIN),
    page("lesson complete", lambda w: w.lesson.get_absolute_url() + "complete/", SIGNED_IN, method="post"),
    # --- labs -----------------------------------------------------------------------------------------
    page("lab list", lambda w: "/labs/", EVERYONE),  # published labs are public, like the catalog
    page("my submissions", lambda w: "/labs/submissions/", SIGNED_IN),
    page("lab page", lambda w: f"/labs/{w.lab.slug}/", EVERYONE),  # anonymous: read-only, no form, no runs
    page("unpublished lab page", lambda w: f"/labs/{w.draft_lab.slug}/", ADMIN),  # a draft, for its authors
    page("submit", lambda w: f"/labs/{w.lab.slug}/", SIGNED_IN, method="post", data=lambda w: {"code": VALID_CODE}),
    page("run page", lambda w: f"/labs/runs/{w.run.pk}/", LENA_SIDE),
    page("queued run page", lambda w: f"/labs/runs/{w.queued_run.pk}/", LENA_SIDE),
    page("run progress", lambda w: f"/labs/runs/{w.run.pk}/progress.json", LENA_SIDE),
    page("run cancel", lambda w: f"/labs/runs/{w.queued_run.pk}/cancel/", LENA_ACTORS, method="post", reset=_requeue),
    page("run rerun", lambda w: f"/labs/runs/{w.run.pk}/rerun/", LENA_ACTORS, method="post"),
    page("run metrics CSV", lambda w: f"/labs/runs/{w.run.pk}/metrics.csv", LENA_SIDE),
    page("lab leaderboard", lambda w: f"/labs/{w.lab.slug}/leaderboard/", SIGNED_IN),
    page("lab authoring", lambda w: "/labs/authoring/", ADMIN),
    page(
        "lab upload", lambda w: "/labs/authoring/", ADMIN, method="post", data=lambda w: {"archive": lab_zip("irises")}
    ),
    page("lab authoring page", lambda w: f"/labs/authoring/{w.lab.slug}/", ADMIN),
    page(
        "lab upload on its page",
        lambda w: f"/labs/authoring/{w.lab.slug}/",
        ADMIN,
        method="post",
        data=lambda w: {"archive": lab_zip(w.lab.slug)},
    ),
    page("lab reference run", lambda w: f"/labs/authoring/{w.lab.slug}/reference/", ADMIN, method="post"),
    page("lab unpublish", lambda w: f"/labs/authoring/{w.lab.slug}/unpublish/", ADMIN, method="post"),
    # --- grading --------------------------------------------------------------------------------------
    page("my grades", lambda w: "/grades/", SIGNED_IN),
    page("gradebook", lambda w: "/cohorts/spring/gradebook/", STAFF),
    page(
        "grade override",
        lambda w: "/cohorts/spring/gradebook/overrides/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"learner": w.users["learner"].pk, "lab": "", "score": "75", "reason": "re-graded"},
        invalid_for=("other_mentor",),  # the form's learner choices are his mentees only
    ),
    page("gradebook export", lambda w: "/cohorts/spring/gradebook/export/", STAFF, method="post"),
    page("cohort leaderboard", lambda w: "/cohorts/spring/leaderboard/", SPRING),
    page("other cohort leaderboard", lambda w: "/cohorts/autumn/leaderboard/", ADMIN),
    # --- mentorship -----------------------------------------------------------------------------------
    page("mentor dashboard", lambda w: "/mentoring/", STAFF),
    page("review queue", lambda w: "/mentoring/queue/", STAFF),
    page("review form", lambda w: f"/mentoring/runs/{w.run.pk}/review/", LENA_MENTORS),
    page(
        "post review",
        lambda w: f"/mentoring/runs/{w.run.pk}/review/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"verdict": "approved", "comment": "ok"},
    ),
    page(
        "dismiss from the queue",
        lambda w: f"/mentoring/runs/{w.run.pk}/dismiss/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"reason": "duplicate"},
    ),
    page("undo a dismissal", lambda w: f"/mentoring/runs/{w.run.pk}/dismiss/undo/", LENA_MENTORS, method="post"),
    page("mentee page", lambda w: "/mentoring/mentees/lena/", LENA_MENTORS),
    page("record session", lambda w: "/mentoring/mentees/lena/", LENA_MENTORS, method="post", data=_session),
    page(
        "write note",
        lambda w: "/mentoring/mentees/lena/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"note": "1", "note-text": "a note"},
    ),
    page(
        "check an exercise",
        lambda w: _exercise_url(w, "mse-by-hand", "check"),
        SIGNED_IN,
        method="post",
        data=lambda w: {"answer": "2.5"},
    ),
    page("a code cell's check", lambda w: _exercise_url(w, "double-it", "status"), SIGNED_IN),
    page("my mentoring", lambda w: "/mentoring/me/", SIGNED_IN),
    page(
        "hide a next step",
        lambda w: "/coach/learners/lena/choices/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"kind": "hide", "target": f"lesson:{w.lesson.pk}"},
    ),
    page(
        "take back a next step",
        lambda w: f"/coach/learners/lena/choices/{w.coach_choice.pk}/delete/",
        LENA_MENTORS,
        method="post",
        reset=_choice_back,
    ),
    # --- notifications --------------------------------------------------------------------------------
    page("notifications", lambda w: "/notifications/", SIGNED_IN),
    page("open notification", lambda w: f"/notifications/{w.notification.pk}/open", ("learner",)),
    page("read all", lambda w: "/notifications/read-all/", SIGNED_IN, method="post"),
    # --- cohorts and jobs (administrators) --------------------------------------------------------------
    page("cohort list", lambda w: "/cohorts/", ADMIN),
    page("cohort page", lambda w: "/cohorts/spring/", ADMIN),
    page("roster upload", lambda w: "/cohorts/spring/", ADMIN, method="post", data=_roster_file),
    page(
        "change mentor",
        lambda w: "/cohorts/spring/",
        ADMIN,
        method="post",
        data=lambda w: {"action": "mentor", "member": w.membership("learner").pk, "mentor": w.users["other_mentor"].pk},
    ),
    page("cohort dashboard", lambda w: "/cohorts/spring/dashboard/", ADMIN),
    page("job page", lambda w: f"/jobs/{w.job.pk}/", ADMIN),
    page("job download", lambda w: f"/jobs/{w.job.pk}/result.csv", ADMIN),
    page("mentor's job page", lambda w: f"/jobs/{w.mentor_job.pk}/", LENA_MENTORS),
    page("mentor's job download", lambda w: f"/jobs/{w.mentor_job.pk}/result.csv", LENA_MENTORS),
    # --- challenges -----------------------------------------------------------------------------------
    page("challenge list", lambda w: "/challenges/", EVERYONE),  # the published ones, as the lab list
    page("challenge page", lambda w: f"/challenges/{w.challenge.slug}/", EVERYONE),
    page("challenge phase page", lambda w: f"/challenges/{w.challenge.slug}/phases/1/", EVERYONE),
    page("challenge board", lambda w: f"/challenges/{w.challenge.slug}/phases/1/board/", EVERYONE),
    page(
        "challenge entry",
        lambda w: f"/challenges/{w.challenge.slug}/phases/1/enter/",
        SIGNED_IN,
        method="post",
        data=lambda w: {"code": VALID_CODE},
    ),
    page(
        "challenge final picks",
        lambda w: f"/challenges/{w.challenge.slug}/phases/1/picks/",
        SIGNED_IN,
        method="post",
        data=lambda w: {"entries": []},
    ),
    page("challenge team page", lambda w: f"/challenges/{w.challenge.slug}/team/", SIGNED_IN),
    page(
        "challenge team create",
        lambda w: f"/challenges/{w.challenge.slug}/team/create/",
        NOT_IN_A_TEAM,
        method="post",
        data=lambda w: {"name": "New team"},
        reset=_no_new_team,
        invalid_for=IN_A_TEAM,  # one team per challenge: the form says so
    ),
    page(
        "challenge team invite",
        lambda w: f"/challenges/{w.challenge.slug}/team/invite/",
        IN_A_TEAM,
        method="post",
        data=lambda w: {"username": "omar"},
        invalid_for=NOT_IN_A_TEAM,  # only a team's members invite: the form says so
    ),
    page("challenge team leave", lambda w: f"/challenges/{w.challenge.slug}/team/leave/", SIGNED_IN, method="post"),
    page(
        "challenge invite accept",
        lambda w: f"/challenges/{w.challenge.slug}/invites/{w.invite.pk}/accept/",
        ("outsider",),  # nina's invitation: anyone else gets 404
        method="post",
    ),
    page(
        "challenge invite decline",
        lambda w: f"/challenges/{w.challenge.slug}/invites/{w.invite.pk}/decline/",
        ("outsider",),
        method="post",
    ),
    page("new challenge page", lambda w: "/challenges/new/", ADMIN),
    page("new challenge", lambda w: "/challenges/new/", ADMIN, method="post", data=_challenge_form),
    # --- API: core ------------------------------------------------------------------------------------
    api("root", lambda w: "/", EVERYONE),
    api("me", lambda w: "/me/", SIGNED_IN),
    api("me update", lambda w: "/me/", SIGNED_IN, method="patch", data=lambda w: {"display_name": "New name"}),
    # --- API: courses ---------------------------------------------------------------------------------
    api("paths", lambda w: "/paths/", EVERYONE),
    api("path", lambda w: f"/paths/{w.path.slug}/", EVERYONE),
    api("courses", lambda w: "/courses/", EVERYONE),
    api("course", lambda w: f"/courses/{w.course.slug}/", EVERYONE),
    api("draft course", lambda w: f"/courses/{w.draft_course.slug}/", ADMIN),
    api("enroll", lambda w: f"/courses/{w.course.slug}/enroll/", SIGNED_IN, method="post"),
    api("modules", lambda w: "/modules/", EVERYONE),
    api("module", lambda w: f"/modules/{w.lesson.module_id}/", EVERYONE),
    api("draft module", lambda w: f"/modules/{w.draft_lesson.module_id}/", ADMIN),
    api("lessons", lambda w: "/lessons/", SIGNED_IN),
    api("lesson", lambda w: f"/lessons/{w.lesson.pk}/", SIGNED_IN),
    api("draft lesson", lambda w: f"/lessons/{w.draft_lesson.pk}/", ADMIN),
    api("lesson complete", lambda w: f"/lessons/{w.lesson.pk}/complete/", SIGNED_IN, method="post"),
    api("lesson uncomplete", lambda w: f"/lessons/{w.lesson.pk}/complete/", SIGNED_IN, method="delete"),
    api("my progress", lambda w: "/progress/", SIGNED_IN),
    # --- API: labs and runs ---------------------------------------------------------------------------
    api("labs", lambda w: "/labs/", SIGNED_IN),
    api("lab", lambda w: f"/labs/{w.lab.slug}/", SIGNED_IN),
    api("unpublished lab", lambda w: f"/labs/{w.draft_lab.slug}/", NOBODY),
    api(
        "submit",
        lambda w: f"/labs/{w.lab.slug}/submissions/",
        SIGNED_IN,
        method="post",
        data=lambda w: {"code": VALID_CODE},
    ),
    api("runs", lambda w: "/runs/", SIGNED_IN),
    api("run", lambda w: f"/runs/{w.run.pk}/", LENA_SIDE),
    api("run cancel", lambda w: f"/runs/{w.queued_run.pk}/cancel/", LENA_ACTORS, method="post", reset=_requeue),
    api("run rerun", lambda w: f"/runs/{w.run.pk}/rerun/", LENA_ACTORS, method="post"),
    api("run metrics CSV", lambda w: f"/runs/{w.run.pk}/metrics.csv", LENA_SIDE),
    # --- API: grading ---------------------------------------------------------------------------------
    api("lab leaderboard", lambda w: f"/labs/{w.lab.slug}/leaderboard/", SIGNED_IN),
    api("my grades", lambda w: "/grades/", SIGNED_IN),
    api("gradebook", lambda w: "/cohorts/spring/gradebook/", STAFF),
    api("gradebook export", lambda w: "/cohorts/spring/gradebook/export/", STAFF, method="post"),
    api(
        "grade override",
        lambda w: "/cohorts/spring/overrides/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"learner": w.users["learner"].pk, "lab": w.lab.slug, "score": "80", "reason": "re-graded"},
    ),
    # --- API: challenges ------------------------------------------------------------------------------
    api("challenges", lambda w: "/challenges/", EVERYONE),  # the published ones, as the lab list and catalog
    api("challenge create", lambda w: "/challenges/", ADMIN, method="post", data=_new_challenge),
    api("challenge", lambda w: f"/challenges/{w.challenge.slug}/", EVERYONE),
    api("challenge leaderboard", lambda w: f"/challenges/{w.challenge.slug}/leaderboard/", EVERYONE),
    api("challenge entries", lambda w: f"/challenges/{w.challenge.slug}/entries/", SIGNED_IN),
    api(
        "challenge enter",
        lambda w: f"/challenges/{w.challenge.slug}/entries/",
        SIGNED_IN,
        method="post",
        data=lambda w: {"phase": 1, "code": VALID_CODE},
    ),
    api(
        "challenge final picks",
        lambda w: f"/challenges/{w.challenge.slug}/final-picks/",
        SIGNED_IN,
        method="put",
        data=lambda w: {"phase": 1, "entries": []},
    ),
    # --- API: mentorship ------------------------------------------------------------------------------
    api("review queue", lambda w: "/mentoring/queue/", STAFF),
    api("mentees", lambda w: "/mentoring/mentees/", STAFF),
    api("sessions", lambda w: "/mentoring/mentees/lena/sessions/", LENA_SIDE),
    api("my coach", lambda w: "/me/coach/", SIGNED_IN),
    api("a mentee's coach", lambda w: "/mentoring/mentees/lena/coach/", LENA_MENTORS),
    api(
        "record session",
        lambda w: "/mentoring/mentees/lena/sessions/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"held_on": timezone.localdate().isoformat(), "notes": "talked", "action_items": ""},
    ),
    api("notes", lambda w: "/mentoring/mentees/lena/notes/", LENA_MENTORS),
    api(
        "write note",
        lambda w: "/mentoring/mentees/lena/notes/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"text": "a note"},
    ),
    api("run reviews", lambda w: f"/runs/{w.run.pk}/reviews/", LENA_SIDE),
    api(
        "post review",
        lambda w: f"/runs/{w.run.pk}/reviews/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"verdict": "approved", "comment": "ok"},
    ),
    api(
        "dismiss from the queue",
        lambda w: f"/runs/{w.run.pk}/dismissal/",
        LENA_MENTORS,
        method="post",
        data=lambda w: {"reason": "duplicate"},
    ),
    api("undo a dismissal", lambda w: f"/runs/{w.run.pk}/dismissal/", LENA_MENTORS, method="delete"),
    # --- API: notifications ---------------------------------------------------------------------------
    api("notifications", lambda w: "/notifications/", SIGNED_IN),
    api("read all", lambda w: "/notifications/read-all/", SIGNED_IN, method="post"),
    api("unread count", lambda w: "/notifications/unread-count/", SIGNED_IN),
    api("read one", lambda w: f"/notifications/{w.notification.pk}/read/", ("learner",), method="post"),
    # --- API: cohorts and jobs ------------------------------------------------------------------------
    api("cohorts", lambda w: "/cohorts/", SIGNED_IN),
    api("cohort", lambda w: "/cohorts/spring/", SPRING),
    api("other cohort", lambda w: "/cohorts/autumn/", ADMIN),
    api("cohort dashboard", lambda w: "/cohorts/spring/dashboard/", ADMIN),
    api(
        "roster import",
        lambda w: "/cohorts/spring/roster/",
        ADMIN,
        method="post",
        data=lambda w: {"text": "username,cohort\nnina,spring\n"},
    ),
    api("job", lambda w: f"/jobs/{w.job.pk}/", ADMIN),
    api("mentor's job", lambda w: f"/jobs/{w.mentor_job.pk}/", LENA_MENTORS),
]

# URL patterns without a row, each with the reason. Everything else must have one.
ARTIFACT_STREAM = "a streamed file, which the table's checks cannot read; tests/labs/test_artifacts.py proves who"
EXEMPT = {
    "healthz": "the platform's status for operators and `make run` (503 while a part or a worker is missing, "
    "which the table would read as an error), public by design; tests/config/test_healthz.py",
    "metrics": "Prometheus's scrape: aggregate figures only, no user data; a bearer token when METRICS_TOKEN "
    "is set (tests/config/test_prometheus.py proves it)",
    "accounts/reset/<uidb64>/<token>/": "Django's reset link: the signed one-time token is the authorisation",
    "api/v1/auth/token/": "trades a username and password for a token: a sign-in, public by design",
    "api/schema/": "the public API description, no user data (slow to build: tests/security schemathesis)",
    "api/docs/": "Swagger UI for the public schema, no user data",
    "labs/authoring/<slug:slug>/download.zip": "a streamed file, which the table's checks cannot read; "
    "tests/labs/test_authoring_pages.py proves that only administrators get it",
    # A run's stored files: the learner, their mentor and administrators (the run page's people); the lab's
    # public data: anyone signed in who may see the lab.
    "labs/runs/<int:run_id>/weights.pt": ARTIFACT_STREAM,
    "labs/runs/<int:run_id>/log.txt": ARTIFACT_STREAM,
    "api/v1/runs/<int:run_id>/weights/": ARTIFACT_STREAM,
    "api/v1/runs/<int:run_id>/log/": ARTIFACT_STREAM,
    "api/v1/labs/<slug:slug>/data/": ARTIFACT_STREAM,
}
EXEMPT_PREFIXES = {
    "admin/": "Django's admin checks is_staff itself; the 'admin site' row proves only administrators get in",
}
