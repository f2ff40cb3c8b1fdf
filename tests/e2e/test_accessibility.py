"""Every page a user can reach, audited by axe-core (vendored in tests/e2e/vendor/axe) in a real
browser: no serious or critical violation, for each role, in English and Chinese, at desktop and
phone width. The list is complete by construction: a URL pattern neither audited here nor skipped
with its reason fails ``test_every_url_pattern_is_audited_or_skipped_with_a_reason``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, Page

from labs.models import Run
from tests.e2e.conftest import RESULTS, login
from tests.factories import PASSWORD
from tests.mentorship.conftest import finished_run, rubric_create
from tests.security.test_authorization_matrix import url_patterns
from tests.security.world import World, world_build

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe" / "axe.min.js"
LANGUAGES = ("en", "zh-hans")
VIEWPORTS = {"desktop": {"width": 1200, "height": 800}, "phone": {"width": 390, "height": 844}}

# axe's serious and critical findings on the page as the browser shows it; the rest are advice.
AXE_RUN = """async () => {
  const {violations} = await axe.run(document, {resultTypes: ["violations"]});
  return violations.filter(v => ["serious", "critical"].includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Visit:
    name: str
    url: Callable[[World], str]
    ready: str = "body"  # what shows that the page's scripts have drawn it
    language: str | None = None  # the page's own language, whatever the user's (else the user's)


def _reset_link(w: World) -> str:
    """The link of a password-reset email (Django trades it for its set-password form)."""
    user = w.users["outsider"]
    return f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


ANONYMOUS = [
    Visit("landing", lambda w: "/"),
    Visit("sign-in", lambda w: "/accounts/login/"),
    Visit("password reset", lambda w: "/accounts/password_reset/"),
    Visit("password reset sent", lambda w: "/accounts/password_reset/done/"),
    Visit("password reset link", _reset_link),
    Visit("password reset complete", lambda w: "/accounts/reset/done/"),
    Visit("catalog", lambda w: "/courses/"),
    Visit("path", lambda w: f"/courses/paths/{w.path.slug}/"),
    Visit("course", lambda w: f"/courses/{w.course.slug}/"),
    Visit("labs", lambda w: "/labs/"),
    Visit("lab", lambda w: f"/labs/{w.lab.slug}/"),
    Visit("challenges", lambda w: "/challenges/"),
    Visit("challenge", lambda w: f"/challenges/{w.challenge.slug}/"),
    Visit("API docs", lambda w: "/api/docs/", ready=".swagger-ui .opblock", language="en"),  # Swagger UI's
    Visit("page not found", lambda w: "/courses/no-such-course/"),
]
LEARNER = [
    Visit("home", lambda w: "/"),
    Visit("catalog", lambda w: "/courses/"),
    Visit("path", lambda w: f"/courses/paths/{w.path.slug}/"),
    Visit("course", lambda w: f"/courses/{w.course.slug}/"),
    Visit("lesson", lambda w: w.lesson.get_absolute_url(), ready=".katex"),
    Visit("lab list", lambda w: "/labs/"),
    Visit("lab with the code editor", lambda w: f"/labs/{w.lab.slug}/", ready="#code-field .cm-content"),
    Visit("finished run", lambda w: f"/labs/runs/{w.run.pk}/"),
    Visit("queued run", lambda w: f"/labs/runs/{w.queued_run.pk}/"),
    Visit("my submissions", lambda w: "/labs/submissions/"),
    Visit("lab leaderboard", lambda w: f"/labs/{w.lab.slug}/leaderboard/"),
    Visit("challenges", lambda w: "/challenges/"),
    Visit(
        "challenge with the code editor", lambda w: f"/challenges/{w.challenge.slug}/", ready="#code-field .cm-content"
    ),
    Visit("challenge phase", lambda w: f"/challenges/{w.challenge.slug}/phases/1/"),
    Visit("challenge team", lambda w: f"/challenges/{w.challenge.slug}/team/"),
    Visit("my grades", lambda w: "/grades/"),
    Visit("cohort leaderboard", lambda w: f"/cohorts/{w.cohort.slug}/leaderboard/"),
    Visit("my mentoring", lambda w: "/mentoring/me/"),
    Visit("notifications", lambda w: "/notifications/"),
    Visit("profile", lambda w: "/accounts/profile/"),
    Visit("API tokens", lambda w: "/accounts/tokens/"),
    Visit("API token revoke", lambda w: f"/accounts/tokens/{w.token.pk}/revoke/"),
    Visit("password change", lambda w: "/accounts/password_change/"),
    Visit("password changed", lambda w: "/accounts/password_change/done/"),
    Visit("not allowed", lambda w: "/cohorts/"),  # administrators' page: 403
]
MENTOR = [
    Visit("home", lambda w: "/"),
    Visit("mentoring dashboard", lambda w: "/mentoring/"),
    Visit("review queue", lambda w: "/mentoring/queue/"),
    Visit("review", lambda w: f"/mentoring/runs/{w.run.pk}/review/"),
    Visit("mentee", lambda w: f"/mentoring/mentees/{w.users['learner'].username}/"),
    Visit("mentee's run", lambda w: f"/labs/runs/{w.run.pk}/"),
    Visit("gradebook", lambda w: f"/cohorts/{w.cohort.slug}/gradebook/"),
    Visit("export job", lambda w: f"/jobs/{w.mentor_job.pk}/"),
]
ADMIN = [
    Visit("home", lambda w: "/"),
    Visit("cohorts", lambda w: "/cohorts/"),
    Visit("cohort", lambda w: f"/cohorts/{w.cohort.slug}/"),
    Visit("cohort dashboard", lambda w: f"/cohorts/{w.cohort.slug}/dashboard/"),
    Visit("gradebook", lambda w: f"/cohorts/{w.cohort.slug}/gradebook/"),
    Visit("other cohort's leaderboard", lambda w: f"/cohorts/{w.other_cohort.slug}/leaderboard/"),
    Visit("job", lambda w: f"/jobs/{w.job.pk}/"),
    Visit("lab authoring", lambda w: "/labs/authoring/"),
    Visit("lab authoring page", lambda w: f"/labs/authoring/{w.lab.slug}/"),
    Visit("unpublished lab", lambda w: f"/labs/{w.draft_lab.slug}/"),
    Visit("draft course", lambda w: f"/courses/{w.draft_course.slug}/"),
    Visit("draft lesson", lambda w: w.draft_lesson.get_absolute_url()),
    Visit("new challenge", lambda w: "/challenges/new/"),
]
PAGES = {"anonymous": ANONYMOUS, "learner": LEARNER, "mentor": MENTOR, "admin_user": ADMIN}

# URL patterns no browser page is audited for, each with the reason.
API = "JSON for programs (DRF's browsable view of it is DRF's own template)"
POST_ONLY = "a form's POST target: it redirects to a page audited here"
FILE = "a download or a data file, not a page"
SKIPPED = {
    "healthz": "a probe's plain answer",
    "readyz": "a probe's plain answer",
    "livez": "a probe's plain answer",
    "favicon.ico": "a redirect to the site's icon (static/favicon.svg)",
    "metrics": "Prometheus's text format",
    "accounts/logout/": POST_ONLY,
    "i18n/setlang/": POST_ONLY,
    "courses/<slug:slug>/enroll/": POST_ONLY,
    "courses/<slug:course_slug>/<slug:lesson_slug>/complete/": POST_ONLY,
    "labs/runs/<int:run_id>/cancel/": POST_ONLY,
    "labs/runs/<int:run_id>/rerun/": POST_ONLY,
    "labs/authoring/<slug:slug>/reference/": POST_ONLY,
    "labs/authoring/<slug:slug>/unpublish/": POST_ONLY,
    "cohorts/<slug:slug>/gradebook/overrides/": POST_ONLY,
    "cohorts/<slug:slug>/gradebook/export/": POST_ONLY,
    "mentoring/runs/<int:run_id>/dismiss/": POST_ONLY,
    "mentoring/runs/<int:run_id>/dismiss/undo/": POST_ONLY,
    "coach/learners/<str:username>/choices/": POST_ONLY,
    "courses/<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_id>/check/": POST_ONLY,
    "courses/<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_id>/status/": (
        "JSON: a code cell's check, polled by static/js/exercises.js"
    ),
    "coach/learners/<str:username>/choices/<int:choice_id>/delete/": POST_ONLY,
    "notifications/read-all/": POST_ONLY,
    "notifications/<int:notification_id>/open": "marks the notification read and redirects to what it is about",
    "labs/runs/<int:run_id>/progress.json": FILE,
    "labs/runs/<int:run_id>/weights.pt": FILE,
    "labs/runs/<int:run_id>/log.txt": FILE,
    "labs/runs/<int:run_id>/metrics.csv": FILE,
    "labs/authoring/<slug:slug>/download.zip": FILE,
    "jobs/<int:job_id>/result.csv": FILE,
    "api/schema/": "the OpenAPI schema (YAML); its page, /api/docs/, is audited",
    "challenges/<slug:slug>/phases/<int:position>/board/": "the phase page's leaderboard table alone, which "
    "static/js/board.js puts in the audited phase and challenge pages",
    "challenges/<slug:slug>/phases/<int:position>/enter/": POST_ONLY,
    "challenges/<slug:slug>/phases/<int:position>/picks/": POST_ONLY,
    "challenges/<slug:slug>/team/create/": POST_ONLY,
    "challenges/<slug:slug>/team/invite/": POST_ONLY,
    "challenges/<slug:slug>/team/leave/": POST_ONLY,
    "challenges/<slug:slug>/invites/<int:invite_id>/accept/": POST_ONLY,
    "challenges/<slug:slug>/invites/<int:invite_id>/decline/": POST_ONLY,
}
SKIPPED_PREFIXES = {"admin/": "Django's own admin, for administrators", "api/v1/": API}


@pytest.fixture
def world(settings: object, tmp_path: Path) -> World:
    """The security tests' world (every persona and object), with a rubric, a run to review, and a
    log long enough to scroll."""
    settings.DATASET_STORAGE_DIR = tmp_path
    world = world_build()
    rubric_create(world.lab)
    unreviewed = finished_run(world.users["learner"], world.lab, passed=False)  # the queue has a row
    log = "".join(f"epoch {n}: loss={1 / n:.4f} val_accuracy={1 - 1 / n:.4f}\n" for n in range(1, 80))
    Run.objects.filter(pk__in=[world.run.pk, unreviewed.pk]).update(log=log)
    return world


@contextmanager
def browsing(browser: Browser, base_url: str, *, language: str, viewport: str) -> Iterator[Page]:
    """A browser tab in ``language`` with axe loaded into every page. The pages keep their
    Content-Security-Policy: an init script is the browser's own, not the page's."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    context.add_init_script(path=AXE)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page, url: str, *, ready: str, language: str) -> list[dict]:
    page.goto(url)
    page.locator(ready).first.wait_for()
    assert page.get_attribute("html", "lang") == language, f"{url} is not in {language}"
    return page.evaluate(AXE_RUN)


def _described(visit: Visit, url: str, where: str, violations: list[dict]) -> str:
    lines = [f"{visit.name} ({url}) {where}:"]
    for v in violations:
        lines.append(f"  {v['id']} [{v['impact']}, {v['count']} elements] {v['help']}")
        lines.extend(f"      {target}" for target in v["targets"])
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("persona", PAGES)
def test_every_page_has_no_serious_or_critical_violation(
    browser: Browser, live_server: object, world: World, persona: str, language: str, viewport: str
) -> None:
    where = f"in {language} at {viewport} width, as {persona}"
    failures = []
    with browsing(browser, live_server.url, language=language, viewport=viewport) as page:
        if persona != "anonymous":
            login(page, world.users[persona].username, PASSWORD)
        for visit in PAGES[persona]:
            url = visit.url(world)
            violations = axe_violations(page, url, ready=visit.ready, language=visit.language or language)
            if violations:
                failures.append(_described(visit, url, where, violations))
                RESULTS.mkdir(exist_ok=True)
                shot = f"axe-{persona}-{language}-{viewport}-{visit.name.replace(' ', '-')}.png"
                page.screenshot(path=str(RESULTS / shot), full_page=True)
    print("\n\n".join(failures))
    assert not failures, "axe found serious or critical violations:\n" + "\n\n".join(failures)


def test_every_url_pattern_is_audited_or_skipped_with_a_reason(world: World) -> None:
    audited = {resolve(visit.url(world)).route for visits in PAGES.values() for visit in visits}
    routes = {route for route, _ in url_patterns()}
    missing = sorted(r for r in routes - audited if r not in SKIPPED and not r.startswith(tuple(SKIPPED_PREFIXES)))
    assert not missing, f"pages no role is audited on: {missing}"
    assert set(SKIPPED) <= routes, f"skipped routes that do not exist: {set(SKIPPED) - routes}"
