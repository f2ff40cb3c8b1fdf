"""Roster import: reading the CSV, the per-row outcomes, invitations, the Celery task, the job pages
and the roster / job API."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from collections.abc import Callable

import pytest
from celery.signals import before_task_publish
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.test import Client
from rest_framework.test import APIClient

from cohorts.background import job_input_text, job_result_text, text_file
from cohorts.models import Cohort, CohortMember, Job, JobState
from cohorts.roster import MAX_BYTES, MAX_ROWS, RosterError, job_roster_import_create, roster_decode, roster_parse
from cohorts.services import cohort_member_add
from cohorts.tasks import roster_import
from core.models import NotificationKind, Role, User
from notifications.models import Notification
from tests.factories import CohortFactory, PathFactory, UserFactory

HEADER = "username,email,name,cohort,mentor\n"


@pytest.fixture
def spring(db: None) -> Cohort:
    return CohortFactory(slug="spring", name="Spring 2026", path=PathFactory(slug="deep-learning"))


@pytest.fixture
def autumn(spring: Cohort) -> Cohort:
    return CohortFactory(slug="autumn", name="Autumn 2026", path=spring.path)


def run_job(job: Job, capture: Callable) -> Job:
    """Run the job's task in-process through Celery, committing (so invitations and emails leave)."""
    with capture(execute=True):
        result = roster_import.apply(args=[job.pk])
    assert result.successful(), result.traceback
    job.refresh_from_db()
    return job


def import_roster(text: str, *, by: User, capture: Callable, cohort: Cohort | None = None) -> Job:
    job = job_roster_import_create(requested_by=by, cohort=cohort, file_name="roster.csv", text=text)
    return run_job(job, capture)


def report(job: Job) -> dict[int, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(job_result_text(job))))
    return {int(row["row"]): row for row in rows}


def invitations(outbox: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in outbox if "invited" in m.subject]


# --- Reading the file -------------------------------------------------------------------


def test_parse_reads_a_bom_and_semicolons() -> None:
    rows = roster_parse(
        "\ufeffUsername;Email;Name;Cohort;Mentor\r\nlena;;Lena Li;spring;maria\r\n;wei@example.com;Wang;spring;\r\n"
    )
    assert [(r.line, r.username, r.email, r.name, r.cohort, r.mentor) for r in rows] == [
        (2, "lena", "", "Lena Li", "spring", "maria"),
        (3, "", "wei@example.com", "Wang", "spring", ""),
    ]


def test_parse_keeps_quoted_commas_skips_blank_lines_and_allows_a_column_subset() -> None:
    rows = roster_parse('email,name\n\n"a@example.com","Li, Lena"\n , \n')
    assert [(r.line, r.email, r.name, r.cohort) for r in rows] == [(3, "a@example.com", "Li, Lena", "")]


def test_decode_strips_the_bom_and_refuses_other_encodings_and_big_files() -> None:
    assert roster_decode("\ufeffemail\n".encode()) == "email\n"
    with pytest.raises(RosterError, match="not UTF-8"):
        roster_decode("username\nzoë\n".encode("latin-1"))
    with pytest.raises(RosterError, match=r"larger than 1\.0"):
        roster_decode(b"x" * (MAX_BYTES + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("  \n\n", "The file is empty"),
        ("lena,lena@example.com,Lena,spring,maria\n", "The first line must be a header"),
        ("username,emial,cohort\nlena,x,spring\n", "Unknown column(s) emial"),
        ("name,cohort\nLena,spring\n", "needs a username or an email column"),
        ("username,username\nlena,lena\n", "named twice"),
        (HEADER, "a header but no rows"),
        (HEADER + "lena,,,spring,\n" * (MAX_ROWS + 1), f"more than {MAX_ROWS} rows"),
        ("username\n" + "a" * MAX_BYTES, "larger than"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(RosterError, match=re.escape(message)):
        roster_parse(text)


@pytest.mark.django_db
def test_a_refused_file_creates_no_job(admin_user: User, spring: Cohort) -> None:
    with pytest.raises(RosterError):
        job_roster_import_create(requested_by=admin_user, cohort=spring, file_name="r.csv", text="")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_only_administrators_may_import(mentor: User, spring: Cohort) -> None:
    with pytest.raises(PermissionDenied):
        job_roster_import_create(requested_by=mentor, cohort=spring, file_name="r.csv", text=HEADER + "lena,,,,\n")


# --- Outcomes of each row ---------------------------------------------------------------


MIXED = (
    HEADER
    + "lena,,,spring,maria\n"  # 2 added, with a mentor
    + ",New.Person@Example.com,New Person,spring,\n"  # 3 added: pre-registered and invited
    + ",not-an-email,,spring,\n"  # 4
    + ",,Nobody,spring,\n"  # 5
    + "omar,,,nope,\n"  # 6
    + "pat,,,spring,ghost\n"  # 7
    + "quinn,,,spring,rita\n"  # 8
    + "sam,,,spring,\n"  # 9: sam is in autumn, same path
    + "lena,,,spring,\n"  # 10
    + "ghostuser,,,spring,\n"  # 11
    + "maria,,,spring,\n"  # 12
    + "rita,other@example.com,,spring,\n"  # 13
    + ",,Extra,spring,,surplus\n"  # 14
    + ",twice@example.com,,spring,\n"  # 15
    + "nina,nina@example.com,Nina,spring,\n"  # 16 added: pre-registered with the given username
    + "bad name!,bad@example.com,,spring,\n"  # 17
    + "zed,yan@example.com,,spring,\n"  # 18
    + ",,,,\n"  # blank: skipped
    + "Pat,,,,\n"  # 20: no cohort
)

EXPECTED = {
    2: ("added", ""),
    3: ("added", "New account; an invitation was sent to New.Person@example.com."),  # domain normalised
    4: ("invalid", "“not-an-email” is not a valid email address."),
    5: ("invalid", "Give a username or an email."),
    6: ("invalid", "Unknown cohort “nope”."),
    7: ("invalid", "Unknown mentor “ghost”."),
    8: ("invalid", "rita does not have the mentor role."),
    9: ("invalid", "sam is already in Autumn 2026, another cohort of the same path."),
    10: ("invalid", "Duplicate of row 2."),
    11: ("invalid", "Unknown username “ghostuser” (give an email to invite a new learner)."),
    12: ("invalid", "maria does not have the learner role."),
    13: ("invalid", "The account rita has another email address."),
    14: ("invalid", "The row has more fields than the header."),
    15: ("invalid", "Several accounts use the email twice@example.com."),
    16: ("added", "New account; an invitation was sent to nina@example.com."),
    17: ("invalid", "“bad name!” is not a valid username."),
    18: ("invalid", "The email yan@example.com belongs to the account yan."),
    20: ("invalid", "No cohort given."),
}


@pytest.fixture
def mixed_world(spring: Cohort, autumn: Cohort, learner: User, other_learner: User, mentor: User) -> None:
    for name in ("pat", "quinn", "rita", "sam", "yan"):
        UserFactory(username=name, role=Role.LEARNER)
    cohort_member_add(cohort=autumn, learner=User.objects.get(username="sam"))
    UserFactory(username="tw1", email="twice@example.com", role=Role.LEARNER)
    UserFactory(username="tw2", email="TWICE@example.com", role=Role.LEARNER)


@pytest.mark.django_db
def test_each_row_gets_its_outcome_and_reason(
    mixed_world: None, admin_user: User, mentor: User, spring: Cohort, django_capture_on_commit_callbacks: Callable
) -> None:
    job = import_roster(MIXED, by=admin_user, capture=django_capture_on_commit_callbacks)
    assert job.state == JobState.DONE
    assert job.finished_at is not None
    rows = report(job)
    assert {line: (r["outcome"], r["reason"]) for line, r in rows.items()} == EXPECTED
    assert job.summary == {"rows": 18, "added": 3, "already_present": 0, "invalid": 15, "invited": 2}
    assert rows[3]["username"] == "new.person" and rows[3]["cohort"] == "spring"
    assert set(members_usernames(spring)) == {"lena", "new.person", "nina"}
    assert CohortMember.objects.get(cohort=spring, learner__username="lena").mentor == mentor
    assert not User.objects.filter(username__in=["ghostuser", "bad name!", "zed"]).exists()
    assert job.result_name == f"roster-{job.pk}.csv"


def members_usernames(cohort: Cohort) -> list[str]:
    return list(CohortMember.objects.filter(cohort=cohort).values_list("learner__username", flat=True))


@pytest.mark.django_db
def test_importing_the_same_file_again_reports_already_present_and_invites_nobody(
    mixed_world: None, admin_user: User, django_capture_on_commit_callbacks: Callable, mailoutbox: list
) -> None:
    import_roster(MIXED, by=admin_user, capture=django_capture_on_commit_callbacks)
    sent = len(invitations(mailoutbox))
    again = import_roster(MIXED, by=admin_user, capture=django_capture_on_commit_callbacks)
    rows = report(again)
    assert [rows[line]["outcome"] for line in (2, 3, 16)] == ["already_present"] * 3
    assert rows[2]["reason"] == ""
    assert again.summary == {"rows": 18, "added": 0, "already_present": 3, "invalid": 15, "invited": 0}
    assert len(invitations(mailoutbox)) == sent == 2
    assert User.objects.filter(email__iexact="new.person@example.com").count() == 1


@pytest.mark.django_db
def test_already_present_with_another_mentor_says_the_mentor_was_not_changed(
    spring: Cohort, learner: User, mentor: User, admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    cohort_member_add(cohort=spring, learner=learner, mentor=mentor)
    job = import_roster(HEADER + "lena,,,spring,ada\n", by=admin_user, capture=django_capture_on_commit_callbacks)
    row = report(job)[2]
    assert row["outcome"] == "already_present"
    assert row["reason"] == "Mentor not changed (it is maria); change it on the cohort page."
    assert CohortMember.objects.get(learner=learner).mentor == mentor


@pytest.mark.django_db
def test_an_import_for_one_cohort_fills_in_and_checks_the_cohort_column(
    spring: Cohort,
    autumn: Cohort,
    learner: User,
    other_learner: User,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    text = "username;cohort\nlena;\nomar;autumn\n"
    job = import_roster(text, by=admin_user, cohort=spring, capture=django_capture_on_commit_callbacks)
    rows = report(job)
    assert (rows[2]["outcome"], rows[2]["cohort"]) == ("added", "spring")
    assert (rows[3]["outcome"], rows[3]["reason"]) == ("invalid", "This import is for the cohort spring.")
    assert members_usernames(spring) == ["lena"]


@pytest.mark.django_db
def test_report_cells_cannot_run_as_spreadsheet_formulas(
    spring: Cohort, admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    job = import_roster(HEADER + "=HYPERLINK(1),,,spring,\n", by=admin_user, capture=django_capture_on_commit_callbacks)
    assert report(job)[2]["username"] == "'=HYPERLINK(1)"


# --- Invitations ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_email_is_preregistered_and_its_invitation_link_sets_a_password(
    spring: Cohort,
    admin_user: User,
    client: Client,
    settings: object,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    settings.SITE_URL = "https://academy.example.org/"
    text = HEADER + ",Wei.Wang@example.com,Wang Wei,spring,\n"
    import_roster(text, by=admin_user, capture=django_capture_on_commit_callbacks)

    wei = User.objects.get(email="Wei.Wang@example.com")
    assert (wei.username, wei.display_name) == ("wei.wang", "Wang Wei")
    assert not wei.has_usable_password()
    assert wei.has_perm("core.learn") and not wei.has_perm("core.mentor")
    assert members_usernames(spring) == ["wei.wang"]

    [mail] = invitations(mailoutbox)
    assert mail.to == ["Wei.Wang@example.com"]
    assert "wei.wang" in mail.body
    link = re.search(r"https://academy\.example\.org(/accounts/reset/\S+)", mail.body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session-bound URL
    response = client.post(form_url, {"new_password1": "cohort-pass-2026!", "new_password2": "cohort-pass-2026!"})
    assert response.status_code == 302
    wei.refresh_from_db()
    assert wei.check_password("cohort-pass-2026!")
    assert client.login(username="wei.wang", password="cohort-pass-2026!")


@pytest.mark.django_db
def test_derived_usernames_do_not_collide(
    spring: Cohort, admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    UserFactory(username="lee", email="lee@old.example.com", role=Role.LEARNER)
    job = import_roster(
        HEADER + ",lee@new.example.com,,spring,\n", by=admin_user, capture=django_capture_on_commit_callbacks
    )
    assert report(job)[2]["username"] == "lee2"


# --- The job: task, failure, notification -------------------------------------------------


@pytest.mark.django_db
def test_the_requester_is_notified_with_a_link_to_the_job(
    spring: Cohort, learner: User, admin_user: User, django_capture_on_commit_callbacks: Callable, mailoutbox: list
) -> None:
    job = import_roster(HEADER + "lena,,,spring,\n", by=admin_user, capture=django_capture_on_commit_callbacks)
    [note] = Notification.objects.filter(user=admin_user, kind=NotificationKind.JOB_FINISHED)
    assert note.url == f"/jobs/{job.pk}/"
    assert note.title == f"Your roster import #{job.pk} has finished."
    assert [m.to for m in mailoutbox] == [[admin_user.email]]


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_and_imports_nothing(
    spring: Cohort,
    learner: User,
    admin_user: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,
    mailoutbox: list,
) -> None:
    from cohorts import roster

    real_add = roster.cohort_member_add
    calls = []

    def add_then_break(**kwargs: object) -> CohortMember:
        calls.append(kwargs)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_add(**kwargs)

    monkeypatch.setattr(roster, "cohort_member_add", add_then_break)
    text = HEADER + "lena,,,spring,\n,fresh@example.com,,spring,\n,third@example.com,,spring,\n"
    job = import_roster(text, by=admin_user, capture=django_capture_on_commit_callbacks)

    assert job.state == JobState.FAILED
    assert "nothing was imported" in job.error and "RuntimeError: disk full" in job.error
    assert job.finished_at is not None
    assert (job.summary, job_result_text(job)) == ({}, "")
    assert not CohortMember.objects.exists()
    assert not User.objects.filter(email__in=["fresh@example.com", "third@example.com"]).exists()
    assert invitations(mailoutbox) == []
    note = Notification.objects.get(user=admin_user, kind=NotificationKind.JOB_FINISHED)
    assert note.title == f"Your roster import #{job.pk} failed."


@pytest.mark.django_db
def test_a_job_whose_file_cannot_be_read_fails_with_the_reason(
    admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    job = Job(kind=Job.Kind.ROSTER_IMPORT, requested_by=admin_user)
    job.input_file.save("roster.csv", text_file("name\nLena\n"), save=False)
    job.save()
    job = run_job(job, django_capture_on_commit_callbacks)
    assert job.state == JobState.FAILED
    assert job.error == "The header needs a username or an email column."


@pytest.mark.django_db
def test_a_redelivered_task_does_not_import_twice(
    spring: Cohort, learner: User, admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    job = import_roster(HEADER + "lena,,,spring,\n", by=admin_user, capture=django_capture_on_commit_callbacks)
    first = job_result_text(job)
    job = run_job(job, django_capture_on_commit_callbacks)
    assert job_result_text(job) == first
    assert Notification.objects.filter(user=admin_user).count() == 1


@pytest.mark.django_db
def test_creating_the_job_queues_the_task_on_the_broker_once_committed(
    spring: Cohort, admin_user: User, django_capture_on_commit_callbacks: Callable
) -> None:
    published: list[tuple[str, object]] = []

    def record(sender: str, body: object, **_: object) -> None:
        published.append((sender, body))

    before_task_publish.connect(record)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            job = job_roster_import_create(
                requested_by=admin_user, cohort=spring, file_name="r.csv", text="\ufeff" + HEADER + "lena,,,,\n"
            )
            assert published == []  # nothing leaves before the commit
        assert (job.state, job.cohort, job.input_name) == ("queued", spring, "r.csv")
        assert job_input_text(job) == HEADER + "lena,,,,\n"
        for callback in callbacks:
            callback()
    finally:
        before_task_publish.disconnect(record)
    assert [(name, list(body[0])) for name, body in published] == [("cohorts.tasks.roster_import", [job.pk])]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_imported_by_a_real_worker(
    site_worker: subprocess.Popen, client: Client, learner: User, admin_user: User
) -> None:
    cohort = CohortFactory(slug="live")
    client.force_login(admin_user)
    upload = SimpleUploadedFile("roster.csv", b"username\nlena\n", content_type="text/csv")
    response = client.post("/cohorts/live/", {"action": "roster", "file": upload})
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/"
    deadline = time.monotonic() + 60
    while job.state not in (JobState.DONE, JobState.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert (job.state, job.summary["added"]) == (JobState.DONE, 1), job.error
    assert members_usernames(cohort) == ["lena"]


# --- Pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_uploading_on_the_cohort_page_creates_the_job_and_shows_its_page(
    client: Client, spring: Cohort, admin_user: User
) -> None:
    client.force_login(admin_user)
    upload = SimpleUploadedFile("spring.csv", ("\ufeff" + HEADER + "lena,,,,\n").encode(), content_type="text/csv")
    response = client.post("/cohorts/spring/", {"action": "roster", "file": upload})
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert (job.cohort, job.input_name, job.requested_by) == (spring, "spring.csv", admin_user)
    page = client.get(response.url).content.decode()
    assert 'http-equiv="refresh" content="2"' in page  # queued: the page refreshes itself
    assert 'data-state="queued"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "The submitted file is empty"), (b"name\nLena\n", "needs a username or an email"), (b"\xff\xfe", "UTF-8")],
)
def test_a_bad_upload_shows_the_reason_on_the_cohort_page(
    client: Client, spring: Cohort, admin_user: User, content: bytes, message: str
) -> None:
    client.force_login(admin_user)
    upload = SimpleUploadedFile("bad.csv", content, content_type="text/csv")
    response = client.post("/cohorts/spring/", {"action": "roster", "file": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Job.objects.exists()


@pytest.fixture
def done_job(spring: Cohort, learner: User, admin_user: User, django_capture_on_commit_callbacks: Callable) -> Job:
    text = HEADER + "lena,,,spring,\nnobody,,,spring,\n"
    return import_roster(text, by=admin_user, cohort=spring, capture=django_capture_on_commit_callbacks)


@pytest.mark.django_db
def test_the_job_page_shows_state_summary_report_and_download(client: Client, done_job: Job, admin_user: User) -> None:
    client.force_login(admin_user)
    html = client.get(f"/jobs/{done_job.pk}/").content.decode()
    assert 'data-state="done"' in html
    assert 'http-equiv="refresh"' not in html
    assert f'href="/jobs/{done_job.pk}/result.csv"' in html
    assert "Already present" in html and "Unknown username" in html


@pytest.mark.django_db
def test_the_job_page_and_download_are_for_the_requester_and_administrators(
    client: Client, done_job: Job, learner: User, mentor: User
) -> None:
    urls = [f"/jobs/{done_job.pk}/", f"/jobs/{done_job.pk}/result.csv"]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    for user in (learner, mentor):
        client.force_login(user)
        assert [client.get(url).status_code for url in urls] == [404, 404]
    client.force_login(UserFactory(role=Role.ADMIN))  # another administrator
    assert [client.get(url).status_code for url in urls] == [200, 200]


@pytest.mark.django_db
def test_any_kind_of_job_is_visible_to_the_mentor_who_asked_for_it(client: Client, mentor: User) -> None:
    job = Job.objects.create(kind=Job.Kind.GRADEBOOK_EXPORT, requested_by=mentor, state=JobState.RUNNING)
    client.force_login(mentor)
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    assert client.get(f"/jobs/{job.pk}/result.csv").status_code == 404  # not finished yet
    client.force_login(UserFactory(role=Role.MENTOR))
    assert client.get(f"/jobs/{job.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_result_downloads_as_a_csv_attachment(client: Client, done_job: Job, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.get(f"/jobs/{done_job.pk}/result.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="roster-{done_job.pk}.csv"'
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "row,username,email,cohort,outcome,reason"
    assert text == job_result_text(done_job)


# --- API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_roster_api_accepts_a_file_or_text_and_answers_202_with_the_job(spring: Cohort, admin_user: User) -> None:
    api = APIClient()
    api.force_authenticate(admin_user)
    upload = SimpleUploadedFile("r.csv", (HEADER + "lena,,,,\n").encode())
    response = api.post("/api/v1/cohorts/spring/roster/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert (body["state"], body["kind"], body["cohort"], body["input_name"]) == (
        "queued",
        "roster_import",
        "spring",
        "r.csv",
    )
    assert body["url"] == f"/jobs/{body['id']}/" and body["result_url"] is None
    response = api.post("/api/v1/cohorts/spring/roster/", {"text": HEADER + "lena,,,,\n"}, format="json")
    assert response.status_code == 202
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_roster_api_refusals(spring: Cohort, admin_user: User, learner: User, mentor: User) -> None:
    api = APIClient()
    url = "/api/v1/cohorts/spring/roster/"
    assert api.post(url, {"text": HEADER + "lena,,,,\n"}, format="json").status_code in (401, 403)
    for user in (learner, mentor):
        api.force_authenticate(user)
        assert api.post(url, {"text": HEADER + "lena,,,,\n"}, format="json").status_code == 403
    api.force_authenticate(admin_user)
    assert api.post("/api/v1/cohorts/nope/roster/", {"text": HEADER}, format="json").status_code == 404
    response = api.post(url, {"text": "lena,,,,\n"}, format="json")
    assert response.status_code == 400
    assert "header" in response.json()["errors"][0]
    assert api.post(url, {}, format="json").status_code == 400
    big = SimpleUploadedFile("big.csv", b"username\n" + b"a" * MAX_BYTES)
    response = api.post(url, {"file": big}, format="multipart")
    assert response.status_code == 400 and "larger than" in response.json()["errors"][0]
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_job_api_for_the_requester_and_administrators_only(
    done_job: Job, admin_user: User, learner: User, mentor: User
) -> None:
    api = APIClient()
    url = f"/api/v1/jobs/{done_job.pk}/"
    assert api.get(url).status_code in (401, 403)
    for user in (learner, mentor):
        api.force_authenticate(user)
        assert api.get(url).status_code == 404
    api.force_authenticate(admin_user)
    body = api.get(url).json()
    assert body["state"] == "done"
    assert body["summary"] == {"rows": 2, "added": 1, "already_present": 0, "invalid": 1, "invited": 0}
    assert body["result_url"] == f"http://testserver/jobs/{done_job.pk}/result.csv"


@pytest.mark.django_db
def test_a_file_name_with_nul_surrogates_and_emoji_is_stored_cleaned(admin_user: User, spring: Cohort) -> None:
    job = job_roster_import_create(
        requested_by=admin_user, cohort=spring, file_name="ro\x00ster\ud800 😀𠀀.csv", text=HEADER + "lena,,,,\n"
    )
    assert Job.objects.get(pk=job.pk).input_name == "roster\ufffd 😀𠀀.csv"
