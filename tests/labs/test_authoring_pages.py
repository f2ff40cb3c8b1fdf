"""The authoring pages: an administrator uploads a lab folder as a .zip (every problem listed per file,
nothing written; a hostile zip refused), runs its reference solution and publishes it; the lab page's
draft banner and data preview (never the test labels), the leaderboard's reference row, and the admin's
form error for a lab published without data."""

from __future__ import annotations

import base64
import io
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.models import User
from labs import lab_archive
from labs.datasets import dataset_publish
from labs.lab_archive import ArchiveRefused, lab_zip_unpack
from labs.lab_folder import read_lab_folder
from labs.models import Dataset, Lab, Run, RunState, Submission
from labs.publishing import reference_run_start
from tests.labs.test_lab_folder import make_lab
from tests.mentorship.conftest import finished_run

AUTHORING = "/labs/authoring/"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def storage(settings: object, tmp_path: Path) -> Path:
    settings.DATASET_STORAGE_DIR = tmp_path / "datasets"
    return settings.DATASET_STORAGE_DIR


@pytest.fixture
def author(client: Client, admin_user: User, storage: Path) -> Client:
    client.force_login(admin_user)
    return client


def zip_bytes(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, payload in entries.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, payload)
    return buffer.getvalue()


def folder_entries(folder: Path, *, contents: bool = False) -> dict[str, bytes]:
    """A lab folder's files as zip entries: under the folder's name, or (``contents``) at the top."""
    prefix = "" if contents else f"{folder.name}/"
    return {prefix + p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def upload(client: Client, payload: bytes, url: str = AUTHORING, name: str = "lab.zip") -> object:
    return client.post(url, {"archive": SimpleUploadedFile(name, payload, content_type="application/zip")})


def problem_groups(html: str) -> dict[str, str]:
    """The upload's problems: file -> the text listed under it."""
    groups = {}
    for chunk in html.split('data-testid="problems-of" data-file="')[1:]:
        file, _, rest = chunk.partition('"')
        groups[file] = rest.split("</section>")[0]
    return groups


# --- Who may author --------------------------------------------------------------------------


@pytest.mark.django_db
def test_authoring_pages_are_404_for_learners_and_mentors_and_ask_visitors_to_sign_in(
    client: Client, learner: User, mentor: User, lab: Lab
) -> None:
    urls = [AUTHORING, "/labs/authoring/tiny/", "/labs/authoring/tiny/download.zip"]
    posts = ["/labs/authoring/tiny/reference/", "/labs/authoring/tiny/unpublish/"]
    assert client.get(AUTHORING).status_code == 302  # to the sign-in page
    for user in (learner, mentor):
        client.force_login(user)
        assert [client.get(url).status_code for url in urls] == [404] * len(urls)
        assert [client.post(url, {"publish": "1"}).status_code for url in posts] == [404] * len(posts)
        assert upload(client, zip_bytes({"x/lab.toml": b""})).status_code == 404
    assert not Run.objects.exists() and Lab.objects.get().published


@pytest.mark.django_db
def test_the_list_shows_every_lab_with_its_state_data_and_reference_run(author: Client, lab: Lab) -> None:
    Lab.objects.create(slug="draft-one", title_en="Draft one", description_en="d", starter_code="", threshold=0.5)
    run = _reference_queued(lab)
    html = author.get(AUTHORING).content.decode()
    tiny = html.split('data-testid="authoring-lab-tiny"')[1].split("</tr>")[0]
    assert 'data-state="published"' in tiny and "v1" in tiny and run.get_absolute_url() in tiny and "queued" in tiny
    draft = html.split('data-testid="authoring-lab-draft-one"')[1].split("</tr>")[0]
    assert 'data-state="draft"' in draft and "not run yet" in draft
    assert 'data-testid="upload-form"' in html and 'enctype="multipart/form-data"' in html


# --- Uploads ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_broken_lab_lists_every_problem_per_file_and_writes_nothing(
    author: Client, storage: Path, tmp_path: Path
) -> None:
    folder = make_lab(
        tmp_path / "src",
        threshold=2,
        files={"starter.py": None, "data/test.csv": "petal_length,petal_width,species\n1.0,oops,setosa\n"},
    )
    response = upload(author, zip_bytes(folder_entries(folder)))
    groups = problem_groups(response.content.decode())
    assert response.status_code == 400
    assert set(groups) == {"lab.toml", "starter.py", "data/test.csv"}
    assert "threshold 2 out of range" in groups["lab.toml"]
    assert "missing" in groups["starter.py"]
    assert "line 2: column &#x27;petal_width&#x27; is not a number" in groups["data/test.csv"]
    assert not Lab.objects.exists() and not Dataset.objects.exists()
    assert not storage.exists() or not any(storage.iterdir())


@pytest.mark.django_db
@pytest.mark.parametrize("contents", [False, True], ids=["zip-of-the-folder", "zip-of-its-contents"])
def test_a_valid_lab_zip_becomes_a_draft_in_either_layout(author: Client, tmp_path: Path, contents: bool) -> None:
    folder = make_lab(tmp_path / "src")
    response = upload(author, zip_bytes(folder_entries(folder, contents=contents)), name="anything.zip")
    lab = Lab.objects.get(slug="irises")
    assert response.status_code == 302 and response.url == "/labs/authoring/irises/"
    assert not lab.published and lab.dataset.version == 1 and lab.dataset.n_test == 30
    page = author.get(response.url).content.decode()
    assert "imported as a draft, dataset v1" in page and 'data-state="draft"' in page
    assert 'data-testid="reference-publish-button"' in page and "/admin/labs/lab/" in page


@pytest.mark.django_db
def test_a_mac_zip_with_its_resource_folder_is_a_zip_of_the_folder(author: Client, tmp_path: Path) -> None:
    entries = folder_entries(make_lab(tmp_path / "src")) | {
        "__MACOSX/irises/._lab.toml": b"\0",
        "irises/.DS_Store": b"",
    }
    assert upload(author, zip_bytes(entries)).status_code == 302
    assert Lab.objects.filter(slug="irises").exists()


@pytest.mark.django_db
def test_a_zip_of_a_folder_named_unlike_its_slug_is_a_problem_of_lab_toml(author: Client, tmp_path: Path) -> None:
    entries = {
        name.replace("irises/", "irises-main/"): payload for name, payload in folder_entries(make_lab(tmp_path)).items()
    }
    response = upload(author, zip_bytes(entries))
    assert response.status_code == 400
    assert "differs from the folder" in problem_groups(response.content.decode())["lab.toml"]


@pytest.mark.django_db
def test_a_slug_our_pages_cannot_take_is_a_problem(author: Client, tmp_path: Path) -> None:
    response = upload(author, zip_bytes(folder_entries(make_lab(tmp_path, slug="authoring"), contents=True)))
    assert response.status_code == 400
    assert "none of authoring, submissions, runs" in problem_groups(response.content.decode())["lab.toml"]
    assert not Lab.objects.exists()


@pytest.mark.django_db
def test_uploading_again_updates_the_lab_as_a_draft_with_a_new_data_version(author: Client, tmp_path: Path) -> None:
    upload(author, zip_bytes(folder_entries(make_lab(tmp_path / "a"))))
    Lab.objects.filter(slug="irises").update(published=True)
    changed = make_lab(tmp_path / "b", files={"data/val.csv": "petal_length,petal_width,species\n1,0.2,setosa\n"})
    response = upload(author, zip_bytes(folder_entries(changed)), url="/labs/authoring/irises/")
    lab = Lab.objects.get()
    assert response.status_code == 302 and not lab.published and lab.dataset.version == 2


@pytest.mark.django_db
def test_a_labs_own_page_refuses_a_zip_of_another_lab(author: Client, lab: Lab, tmp_path: Path) -> None:
    response = upload(author, zip_bytes(folder_entries(make_lab(tmp_path))), url="/labs/authoring/tiny/")
    assert response.status_code == 400
    assert "updates the lab tiny, but the zip holds irises" in problem_groups(response.content.decode())["lab.toml"]
    assert not Lab.objects.filter(slug="irises").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entries", "links", "says"),
    [
        ({"irises/lab.toml": b"", "../evil.py": b"import os"}, (), "climbs out of the folder"),
        ({"irises/lab.toml": b"", "irises/a/../../../evil.py": b"x"}, (), "climbs out of the folder"),
        ({"/etc/evil.py": b"x"}, (), "absolute path"),
        ({"C:/evil.py": b"x"}, (), "absolute path"),
        ({"irises/lab.toml": b"", "irises/data": b"/etc"}, ("irises/data",), "symbolic link"),
        ({"a/lab.py": b"", "b/lab.py": b""}, (), "one folder at the top"),
    ],
    ids=["dot-dot", "dot-dot-deep", "absolute", "drive", "symlink", "two-folders"],
)
def test_a_hostile_or_shapeless_zip_is_refused_and_nothing_is_written(
    author: Client, tmp_path: Path, entries: dict[str, bytes], links: tuple[str, ...], says: str
) -> None:
    response = upload(author, zip_bytes(entries, links=links))
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Lab.objects.exists()


def test_unpacking_writes_nothing_outside_the_folder_given(tmp_path: Path) -> None:
    into = tmp_path / "inside"
    into.mkdir()
    archive = io.BytesIO(zip_bytes({"irises/lab.toml": b"x", "irises/../../evil.py": b"x"}))
    with pytest.raises(ArchiveRefused):
        lab_zip_unpack(archive, into)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inside"]


def test_caps_on_entries_and_unpacked_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = zip_bytes({f"lab/f{i}.txt": b"x" for i in range(6)})
    monkeypatch.setattr(lab_archive, "MAX_ENTRIES", 5)
    with pytest.raises(ArchiveRefused, match="more than 5 entries"):
        lab_zip_unpack(io.BytesIO(many), tmp_path)
    monkeypatch.setattr(lab_archive, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ArchiveRefused, match="exceeds"):
        lab_zip_unpack(io.BytesIO(zip_bytes({"lab/big.bin": bytes(1001)})), tmp_path)  # 1 kB of zeros: a tiny zip
    assert not any(tmp_path.iterdir())


PARTS = st.sampled_from(["lab.toml", "data", "x.csv", "..", ".", "", "C:", "/", "\\", "__MACOSX", "a b", "é"])


@FUZZ
@given(
    entries=st.lists(
        st.tuples(st.lists(PARTS, min_size=1, max_size=4).map("/".join), st.binary(max_size=64), st.booleans()),
        max_size=8,
    ),
    damage=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
)
def test_whatever_the_zip_unpacking_gives_a_folder_inside_or_a_refusal(
    entries: list[tuple[str, bytes, bool]], damage: int | None
) -> None:
    payload = zip_bytes(
        {name: data for name, data, _ in entries}, links=tuple(name for name, _, link in entries if link)
    )
    if damage is not None:  # a truncated or torn archive
        payload = payload[:damage] + payload[damage + 8 :]
    with tempfile.TemporaryDirectory() as tmp:
        outside, into = Path(tmp), Path(tmp) / "inside"
        into.mkdir()
        try:
            folder = lab_zip_unpack(io.BytesIO(payload), into)
        except ArchiveRefused:
            folder = None
        if folder is not None:
            assert folder.resolve().is_relative_to(into.resolve()) and folder.parent == into
        assert all(p.resolve().is_relative_to(into.resolve()) for p in outside.rglob("*") if p != into)
        assert not any(p.is_symlink() for p in outside.rglob("*"))


@pytest.mark.django_db
def test_an_upload_larger_than_the_cap_is_refused_before_it_is_read(
    author: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labs.forms.MAX_UNPACKED_BYTES", 100)
    response = upload(author, bytes(101))
    assert response.status_code == 400 and "larger than" in response.content.decode()


@pytest.mark.django_db
def test_a_file_that_is_not_a_zip_is_a_clear_error(author: Client) -> None:
    response = upload(author, b"slug = 'irises'\n", name="lab.toml")
    assert response.status_code == 400
    assert "This file is not a .zip archive." in response.content.decode()
    assert not Lab.objects.exists()


@pytest.mark.django_db
def test_the_download_is_the_lab_folder_an_upload_takes_back(author: Client, tmp_path: Path) -> None:
    upload(author, zip_bytes(folder_entries(make_lab(tmp_path / "src"))))
    response = author.get("/labs/authoring/irises/download.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    payload = b"".join(response.streaming_content)
    (tmp_path / "out").mkdir()
    folder = lab_zip_unpack(io.BytesIO(payload), tmp_path / "out")
    again = read_lab_folder(folder)
    assert again.slug == "irises" and len(again.data.x_test) == 30
    assert upload(author, payload).status_code == 302
    assert Lab.objects.get().dataset.version == 1  # the same data: no new version


# --- The reference run and publishing ----------------------------------------------------------


@pytest.mark.django_db
def test_the_publish_button_queues_a_reference_run_and_asks_for_publication(author: Client, tmp_path: Path) -> None:
    upload(author, zip_bytes(folder_entries(make_lab(tmp_path))))
    response = author.post("/labs/authoring/irises/reference/", {"publish": "1"})
    lab = Lab.objects.get()
    run = Run.objects.get()
    assert response.status_code == 302 and response.url == "/labs/authoring/irises/"
    assert run.submission.source == Submission.Source.REFERENCE and run.submission.code == lab.reference_solution
    assert lab.reference_run == run and lab.publish_requested and not lab.published
    page = author.get(response.url).content.decode()
    assert 'data-testid="reference-state" data-state="queued"' in page
    assert 'data-testid="reference-live"' in page and "js/authoring.js" in page and "/progress.json" in page
    assert 'http-equiv="refresh"' in page  # inside <noscript>: the page follows the run without JavaScript too
    assert 'data-testid="reference-publish-button"' not in page  # not twice at once


@pytest.mark.django_db
def test_the_plain_reference_button_does_not_ask_for_publication(author: Client, lab: Lab) -> None:
    Lab.objects.filter(pk=lab.pk).update(reference_solution="def train(data, run): ...")
    author.post("/labs/authoring/tiny/reference/", {"publish": "0"})
    lab.refresh_from_db()
    assert lab.reference_run.submission.source == "reference" and not lab.publish_requested


@pytest.mark.django_db
def test_a_lab_without_a_reference_solution_cannot_run_it(author: Client, lab: Lab) -> None:
    response = author.post("/labs/authoring/tiny/reference/", {"publish": "1"}, follow=True)
    assert "The reference run could not start: tiny has no reference solution" in response.content.decode()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_unpublish_makes_the_lab_a_draft(author: Client, lab: Lab) -> None:
    response = author.post("/labs/authoring/tiny/unpublish/", follow=True)
    lab.refresh_from_db()
    assert not lab.published and "is a draft again" in response.content.decode()


@pytest.mark.django_db
def test_the_authoring_page_shows_a_finished_reference_run_and_the_scoring_problem(author: Client, lab: Lab) -> None:
    run = _reference_succeeded(lab, 0.991)
    Lab.objects.filter(pk=lab.pk).update(scoring_problem="score.py: ZeroDivisionError: division by zero")
    page = author.get("/labs/authoring/tiny/").content.decode()
    assert 'data-testid="reference-score">0.9910' in page and "passed" in page and run.get_absolute_url() in page
    assert 'data-testid="scoring-problem"' in page and "ZeroDivisionError" in page
    assert 'data-testid="unpublish-button"' in page and "js/authoring.js" not in page


def _reference_queued(lab: Lab) -> Run:
    Lab.objects.filter(pk=lab.pk).update(reference_solution="def train(data, run): ...")
    lab.refresh_from_db()
    return reference_run_start(lab=lab, publish=False)


def _reference_succeeded(lab: Lab, score: float) -> Run:
    run = _reference_queued(lab)
    Run.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, score=score, passed=True, finished_at=timezone.now())
    lab.refresh_from_db()
    return run


# --- The lab page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_draft_is_open_to_administrators_with_a_banner_and_404_for_learners(
    client: Client, admin_user: User, learner: User, lab: Lab
) -> None:
    Lab.objects.filter(pk=lab.pk).update(published=False)
    client.force_login(learner)
    assert client.get("/labs/tiny/").status_code == 404
    assert client.get("/labs/tiny/leaderboard/").status_code == 404
    client.force_login(admin_user)
    html = client.get("/labs/tiny/").content.decode()
    assert 'data-testid="draft-banner"' in html and 'href="/labs/authoring/tiny/"' in html
    assert 'data-testid="submit-form"' not in html  # a draft takes no submissions
    assert client.get("/labs/tiny/leaderboard/").status_code == 200


@pytest.mark.django_db
def test_the_lab_page_shows_the_reference_score_once_it_succeeded(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    assert 'data-testid="reference-score"' not in client.get("/labs/tiny/").content.decode()
    _reference_succeeded(lab, 0.991)
    html = client.get("/labs/tiny/").content.decode()
    assert 'data-testid="reference-score">0.9910<' in html
    assert 'data-testid="draft-banner"' not in html and 'data-testid="authoring-link"' not in html


@pytest.mark.django_db
def test_the_preview_shows_shapes_and_first_rows(client: Client, learner: User, lab: Lab) -> None:
    client.force_login(learner)
    html = client.get("/labs/tiny/").content.decode()
    arrays = html.split('data-testid="preview-arrays"')[1].split("</table>")[0]
    assert "x_train</code></td><td><code>(30, 2)</code></td><td><code>float32" in arrays
    assert "y_train</code></td><td><code>(30,)</code></td><td><code>int64" in arrays
    assert "x_test</code></td><td><code>(10, 2)" in arrays and "y_test" not in arrays
    rows = html.split('data-testid="preview-rows"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 6  # the header and five rows


@pytest.mark.django_db
def test_the_preview_is_cached_by_the_datasets_hash_and_a_missing_file_costs_only_the_preview(
    client: Client, learner: User, lab: Lab
) -> None:
    client.force_login(learner)
    assert 'data-testid="data-preview"' in client.get("/labs/tiny/").content.decode()
    (Path(django_settings.DATASET_STORAGE_DIR) / lab.dataset.file_name).unlink()
    assert 'data-testid="data-preview"' in client.get("/labs/tiny/").content.decode()  # from the cache
    cache.clear()
    response = client.get("/labs/tiny/")
    assert response.status_code == 200 and 'data-testid="data-preview"' not in response.content.decode()


@pytest.mark.django_db
def test_the_preview_of_texts_is_escaped_with_labels_and_never_the_test_labels(
    client: Client, learner: User, storage: Path
) -> None:
    lab = Lab.objects.create(
        slug="echo", title_en="Echo", description_en="d", starter_code="", metric="exact_match", threshold=0.5
    )
    dataset_publish(
        lab=lab,
        x_train=np.array(["<script>alert(1)</script>", "hello"] * 5),
        y_train=np.array(["train-answer-a", "train-answer-b"] * 5),
        x_test=np.array(["question"] * 4),
        y_test=np.array(["SECRET-ANSWER"] * 4),
    )
    Lab.objects.filter(pk=lab.pk).update(published=True)
    client.force_login(learner)
    html = client.get("/labs/echo/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "train-answer-a" in html and "SECRET-ANSWER" not in html
    assert "x_test</code></td><td><code>(4,)</code></td><td><code>str" in html


@pytest.mark.django_db
def test_the_preview_of_images_is_a_grid_of_pngs_named_by_class(client: Client, learner: User, storage: Path) -> None:
    lab = Lab.objects.create(slug="digits", title_en="Digits", description_en="d", starter_code="", threshold=0.5)
    rng = np.random.default_rng(0)
    y_train = np.repeat(np.arange(3), 10)  # sorted by class: the grid still shows every class
    dataset_publish(
        lab=lab,
        x_train=rng.random((30, 1, 8, 8), dtype=np.float32),
        y_train=y_train,
        x_test=rng.random((6, 1, 8, 8), dtype=np.float32),
        y_test=np.arange(6) % 3,
        num_classes=3,
        meta={"classes": ["zero", "one", "two"]},
    )
    Lab.objects.filter(pk=lab.pk).update(published=True)
    client.force_login(learner)
    html = client.get("/labs/digits/").content.decode()
    grid = html.split('data-testid="preview-images"')[1].split("</ul>")[0]
    uris = [chunk.split('"')[0] for chunk in grid.split('src="data:image/png;base64,')[1:]]
    assert len(uris) == 12 and {"zero", "one", "two"} <= set(grid.replace("<", " ").replace(">", " ").split())
    picture = Image.open(io.BytesIO(base64.b64decode(uris[0])))
    assert picture.size == (64, 64)  # 8×8, scaled up
    assert "zero, one, two" in html  # the classes


# --- The leaderboard ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_leaderboard_shows_the_reference_unranked_where_its_score_sorts(
    client: Client, learner: User, other_learner: User, lab: Lab
) -> None:
    for user, score in ((learner, 0.95), (other_learner, 0.8)):
        run = finished_run(user, lab)
        Run.objects.filter(pk=run.pk).update(score=score)
    client.force_login(learner)
    assert 'data-testid="reference-entry"' not in client.get("/labs/tiny/leaderboard/").content.decode()
    _reference_succeeded(lab, 0.9)
    html = client.get("/labs/tiny/leaderboard/").content.decode()
    rows = html.split('data-testid="leaderboard"')[1].split("<tr")[2:]
    assert ["0.9500" in rows[0], 'data-testid="reference-entry"' in rows[1], "0.8000" in rows[2]] == [True] * 3
    assert "<td>1</td>" in rows[0] and "—" in rows[1] and "<td>2</td>" in rows[2]  # the reference takes no rank


# --- Django admin ------------------------------------------------------------------------------


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser("root", "root@example.com", "x")


def _admin_form_data(lab: Lab, superuser: User) -> dict[str, object]:
    request = RequestFactory().get("/")
    request.user = superuser
    form = admin.site._registry[Lab].get_form(request, lab)(instance=lab)
    data = {}
    for field in form:
        value = field.value()
        if value is False or value is None:
            continue
        data[field.name] = "on" if value is True else value
    return data


@pytest.mark.django_db
def test_the_admin_refuses_to_publish_a_lab_without_data_with_a_form_error(
    client: Client, superuser: User, storage: Path
) -> None:
    lab = Lab.objects.create(slug="empty", title_en="Empty", description_en="d", starter_code="x", threshold=0.5)
    client.force_login(superuser)
    data = _admin_form_data(lab, superuser) | {"published": "on"}
    response = client.post(f"/admin/labs/lab/{lab.pk}/change/", data)
    assert response.status_code == 200
    assert "A lab can be published only with a dataset." in response.content.decode()
    assert not Lab.objects.get().published
    added = client.post("/admin/labs/lab/add/", data | {"slug": "other"})
    assert added.status_code == 200 and not Lab.objects.filter(slug="other").exists()
    page = client.get(f"/admin/labs/lab/{lab.pk}/change/").content.decode()
    assert 'href="/labs/authoring/empty/"' in page


@pytest.mark.django_db
def test_the_admin_saves_a_published_lab_with_data(client: Client, superuser: User, lab: Lab) -> None:
    client.force_login(superuser)
    data = _admin_form_data(lab, superuser) | {"title_en": "Renamed"}
    response = client.post(f"/admin/labs/lab/{lab.pk}/change/", data)
    assert response.status_code == 302 and Lab.objects.get().title_en == "Renamed"
