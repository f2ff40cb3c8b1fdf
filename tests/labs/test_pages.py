import pytest
from django.test import Client

from core.models import User
from labs import run_events, services
from labs.models import Lab, Run
from tests.labs.conftest import VALID_CODE


@pytest.mark.django_db
def test_lab_list_and_detail_show_the_contract(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    assert "Tiny lab" in client.get("/labs/").content.decode()
    html = client.get("/labs/tiny/").content.decode()
    assert "<strong>Classify</strong>" in html  # Markdown rendered
    assert "def train(data, run)" in html  # starter code in the editor
    assert 'data-testid="runs-left">5 / 5' in html


@pytest.mark.django_db
def test_lab_detail_follows_the_language(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    client.post("/i18n/setlang/", {"language": "zh-hans"})
    assert "小实验" in client.get("/labs/tiny/").content.decode()


@pytest.mark.django_db
def test_submitting_in_the_browser_redirects_to_the_run_page(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    response = client.post("/labs/tiny/", {"code": VALID_CODE, "param_epochs": "4", "param_lr": "0.05"})
    run = Run.objects.get()
    assert response.url == run.get_absolute_url()
    assert run.submission.params == {"epochs": 4, "lr": 0.05}
    assert client.get(run.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_a_bad_submission_shows_the_error_and_keeps_the_code(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    broken = "def train(data, run):\n    return 1\n"
    response = client.post("/labs/tiny/", {"code": broken, "param_epochs": "4"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "predict" in html and "return 1" in html
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_run_pages_are_private(client: Client, learner: User, other_learner: User, admin_user: User, lab: Lab) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    client.force_login(other_learner)
    assert client.get(run.get_absolute_url()).status_code == 404
    assert client.get(f"/labs/runs/{run.pk}/progress.json").status_code == 404
    client.force_login(admin_user)
    assert client.get(run.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_progress_json_sends_only_new_curve_points(client: Client, learner: User, lab: Lab) -> None:
    run = services.submission_create(learner=learner, lab=lab, source="web", code=VALID_CODE)
    points = [{"kind": "metrics", "step": i, "metrics": {"loss": 1 / (i + 1)}} for i in range(3)]
    run_events.run_event_apply(run_id=run.pk, token=run.token, event={"kind": "progress", "events": points})
    client.force_login(learner)
    body = client.get(f"/labs/runs/{run.pk}/progress.json?since=2").json()
    assert (body["state"], body["curve_length"], len(body["curve"])) == ("running", 3, 1)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_for_their_own_runs(client: Client, lab: Lab) -> None:
    """The lab pages themselves are public (tests/labs/test_public_pages.py)."""
    assert client.get("/labs/submissions/").status_code == 302


@pytest.mark.django_db
def test_lab_page_lists_the_published_lessons_that_prepare_for_it(client: Client, learner: User, lab: Lab) -> None:
    from tests.factories import LessonFactory

    LessonFactory(lab=lab, title_en="Why spirals need depth", slug="why-depth")
    LessonFactory(lab=lab, title_en="A draft lesson", module__course__published=False)
    client.force_login(learner)
    html = client.get("/labs/tiny/").content.decode()
    assert "Why spirals need depth" in html and 'href="/courses/' in html
    assert "A draft lesson" not in html
