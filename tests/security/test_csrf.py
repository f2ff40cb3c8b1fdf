"""CSRF on every form and every unsafe API call. The forms are found, not listed: every page of the
matrix (``tests.security.endpoints``) is opened by each persona who may see it, and every
``<form method="post">`` on it must carry a CSRF token. Each distinct form is then posted by a
client that enforces CSRF checks: without the token it gets 403 and nothing changes; with it the
view does its work (so the check can fail). Unsafe API calls: a session without the CSRF header is
refused, a session with it and a token-authenticated client get through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from core.services import token_create
from courses.models import Enrollment
from labs.models import Lab, Run
from tests.factories import PASSWORD
from tests.labs.conftest import VALID_CODE
from tests.security import world as fixtures
from tests.security.endpoints import ROWS, Row, lab_zip
from tests.security.world import World, client_for, db_snapshot, reset_run, snapshot_diff, verdict

_world_of_the_module, world = fixtures._world_of_the_module, fixtures.world  # the fixtures used here

# Who opens a page first: the first to see a form posts it.
ORDER = ("learner", "mentor", "admin_user", "other_learner", "other_mentor", "outsider", "anonymous")
TOKEN = "csrfmiddlewaretoken"
NEW_PASSWORD = "An0ther-horse-battery-7"


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def route(self) -> str:
        return resolve(self.action).route

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Forms are the same when they post the same fields to the same view."""
        return self.route, tuple(sorted(n for n in (*self.fields, *self.files) if n != TOKEN))


class FormFinder(HTMLParser):
    """The POST forms of a page and the values a browser would send (first radio and button)."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(action=a.get("action") or self.page_path)
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "file":
                self._form.files.append(name)
            elif (
                kind not in ("checkbox", "radio")
                or "checked" in a
                or (kind == "radio" and name not in self._form.fields)
            ):
                self._set(name, a.get("value", "on" if kind == "checkbox" else ""), replace=kind == "radio")
        elif tag == "button" and name and name not in self._form.fields:
            self._set(name, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._set(name, "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and (self._select not in self._form.fields or "selected" in a):
            self._set(self._select, a.get("value", ""), replace=True)

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def _set(self, name: str, value: str, *, replace: bool = False) -> None:
        values = self._form.fields.setdefault(name, [])
        if replace:
            values.clear()
        values.append(value)


def post_forms(html: str, page_path: str) -> list[Form]:
    finder = FormFinder(page_path)
    finder.feed(html)
    return finder.forms


def _page_rows() -> list[Row]:
    return [row for row in ROWS if row.method == "get" and not row.api]


def _reset_link(world: World) -> str:
    user = world.users["learner"]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"


def _open(client: Client, url: str) -> tuple[str, str]:
    """The page's HTML and path, after redirects (the reset link redirects to its form)."""
    response = client.get(url, follow=True)
    path = response.redirect_chain[-1][0] if response.redirect_chain else url
    return response.content.decode(), path.split("?")[0]


def pages(world: World) -> Iterator[tuple[str, str]]:
    """(persona, URL): every page of the matrix for each persona who may open it, and the reset form."""
    for row in _page_rows():
        for persona in ORDER:
            if persona in row.allowed:
                yield persona, row.url(world)
    yield "anonymous", _reset_link(world)


# --- what a valid submission of each form needs --------------------------------------------------


def _roster(w: World) -> SimpleUploadedFile:
    return SimpleUploadedFile("roster.csv", b"username,cohort\nnina,spring\n", content_type="text/csv")


FILLED = {  # field values a person types (by view name; only fields the form has)
    "login": {"username": "lena", "password": PASSWORD},
    "password_change": {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    "password_reset": {"email": "lena@example.com"},
    "password_reset_confirm": {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    "profile": {"display_name": "Changed by a form"},
    "api_tokens": {"name": "my laptop"},
    "mentorship:mentee": {"session-notes": "talked", "note-text": "a note"},
    "grading:override_create": {"score": "75", "reason": "re-graded"},
    "cohort": {"mentor": "", "file": _roster},  # a member loses their mentor; a roster is imported
    "labs:authoring": {"archive": lambda w: lab_zip("irises")},  # a new lab
    "labs:authoring_lab": {"archive": lambda w: lab_zip(w.lab.slug)},  # the lab's new data
    "challenges:team_create": {"name": "Form team"},
    "challenges:team_invite": {"username": "omar"},
    "coach:choice_create": {"target": lambda w: _open_for_lena(w)},
    "challenges:create": {"slug": "form-cup", "title_en": "Form cup", "rules_en": "-", "lab": lambda w: w.lab.pk},
}


def _open_for_lena(w: World) -> str:
    """A lesson lena can take and has not done: one a mentor may pin for her."""
    lesson = w.course.lessons.exclude(completions__user=w.users["learner"]).order_by("position").first()
    return f"lesson:{lesson.pk}"


def _requeue(w: World, persona: str, kwargs: dict[str, Any]) -> None:
    reset_run(Run.objects.get(pk=kwargs["run_id"]))  # a finished run's cancel form would change nothing


def _unenroll(w: World, persona: str, kwargs: dict[str, Any]) -> None:
    Enrollment.objects.filter(user=w.users[persona], course__slug=kwargs["slug"]).delete()


def _reference_solution(w: World, persona: str, kwargs: dict[str, Any]) -> None:
    Lab.objects.filter(slug=kwargs["slug"]).update(reference_solution=VALID_CODE)  # so that its run can start


PREPARE: dict[str, Callable[[World, str, dict[str, Any]], None]] = {
    "labs:run_cancel": _requeue,
    "labs:authoring_reference": _reference_solution,
    "courses:enroll": _unenroll,
}

# Every view that a page posts a form to; the search must find at least these.
EXPECTED_FORMS = {
    "login",
    "logout",
    "admin:logout",
    "set_language",
    "profile",
    "api_tokens",
    "api_token_revoke",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "courses:enroll",
    "courses:complete",
    "labs:detail",
    "labs:run_cancel",
    "labs:run_rerun",
    "grading:gradebook_export",
    "grading:override_create",
    "mentorship:review",
    "mentorship:mentee",
    "coach:choice_create",
    "coach:choice_delete",
    "courses:exercise_check",
    "notifications_read_all",
    "cohort",
    "labs:authoring",
    "labs:authoring_lab",
    "labs:authoring_reference",
    "labs:authoring_unpublish",
    "challenges:create",
    "challenges:enter",
    "challenges:team_create",
    "challenges:team_invite",
    "challenges:team_leave",
    "challenges:invite_accept",
    "challenges:invite_decline",
}


def _data(world: World, form: Form, *, token: bool) -> dict[str, Any]:
    filled = FILLED.get(resolve(form.action).view_name, {})
    data: dict[str, Any] = {name: values for name, values in form.fields.items() if name != TOKEN or token}
    for name in (*form.fields, *form.files):
        if name in filled:
            value = filled[name]
            data[name] = value(world) if callable(value) else value
    return data


def _state(client: Client) -> tuple[dict, int, str | None]:
    """What a form can change: the database, the mail sent, the language chosen."""
    language = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return db_snapshot(), len(mail.outbox), language.value if language else None


def _find_forms(world: World) -> tuple[dict[tuple, tuple[str, str, str]], list[str]]:
    """Each distinct form with who saw it first, where, and the view it posts to; and the forms
    with no CSRF token."""
    found: dict[tuple, tuple[str, str, str]] = {}
    untokened = []
    for persona, url in pages(world):
        html, path = _open(client_for(world, persona), url)
        for form in post_forms(html, path):
            if TOKEN not in form.fields:
                untokened.append(f"{persona} {url}: form to {form.action}")
            found.setdefault(form.key, (persona, url, resolve(form.action).view_name))
    return found, untokened


@pytest.mark.django_db
def test_every_post_form_carries_a_token_and_needs_it(world: World) -> None:
    Enrollment.objects.filter(user=world.users["outsider"]).delete()  # so a page offers the enroll form
    found, untokened = _find_forms(world)
    assert untokened == [], "POST forms without a CSRF token"
    assert {view for _, _, view in found.values()} >= EXPECTED_FORMS
    failures = []
    for key, (persona, url, _) in found.items():
        with transaction.atomic():  # each form starts from the same world
            failures += _try_form(world, key, persona, url)
            transaction.set_rollback(True)
    assert failures == []


def _try_form(world: World, key: tuple, persona: str, url: str) -> list[str]:
    client = client_for(world, persona, csrf=True)
    html, path = _open(client, url)
    form = next(f for f in post_forms(html, path) if f.key == key)
    match = resolve(form.action)
    if match.view_name in PREPARE:
        PREPARE[match.view_name](world, persona, match.kwargs)
    before = _state(client)
    refused = client.post(form.action, _data(world, form, token=False))
    failures = []
    if refused.status_code != 403 or _state(client) != before:
        failures.append(f"{form.action} ({persona}) without a token: {refused.status_code}, or something changed")
    done = client.post(form.action, _data(world, form, token=True))
    if verdict(done) != "granted" or _state(client) == before:
        failures.append(f"{form.action} ({persona}) with the token: {done.status_code}, or nothing changed")
    return failures


# --- the API ----------------------------------------------------------------------------------------


def _unsafe_api_rows() -> list[Row]:
    return [row for row in ROWS if row.api and row.writes and row.allowed]


def _send(row: Row, world: World, client: APIClient, **headers: str) -> Any:
    data = row.data(world) if row.data else None
    if row.reset:
        row.reset(world)
    return getattr(client, row.method)(row.url(world), data, format="json", headers=headers)


@pytest.mark.django_db
@pytest.mark.parametrize("row", _unsafe_api_rows(), ids=lambda row: row.name)
def test_an_unsafe_api_call_on_a_session_needs_the_csrf_header(row: Row, world: World) -> None:
    persona = next(p for p in ORDER if p in row.allowed and p != "anonymous")
    client = client_for(world, persona, api=True, csrf=True)
    client.get("/accounts/profile/")  # a page sets the CSRF cookie, as a browser would have it
    before = db_snapshot()
    refused = _send(row, world, client)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"], refused.content
    assert snapshot_diff(before, db_snapshot()) == []
    allowed = _send(row, world, client, X_CSRFToken=client.cookies["csrftoken"].value)
    assert verdict(allowed) == "granted", (allowed.status_code, allowed.content)


@pytest.mark.django_db
@pytest.mark.parametrize("row", _unsafe_api_rows(), ids=lambda row: row.name)
def test_an_unsafe_api_call_with_a_token_needs_no_csrf_header(row: Row, world: World) -> None:
    persona = next(p for p in ORDER if p in row.allowed and p != "anonymous")
    _token, key = token_create(user=world.users[persona], name="csrf test")
    client = client_for(world, "anonymous", api=True, csrf=True)  # no session: the token alone
    response = _send(row, world, client, Authorization=f"Token {key}")
    assert verdict(response) == "granted", (response.status_code, response.content)
