from pathlib import Path

import polib
import pytest
from django.test import Client

from core.models import User

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_chinese_translation() -> None:
    catalog = polib.pofile(str(PO))
    missing = [entry.msgid for entry in catalog if not entry.translated() and not entry.obsolete]
    assert missing == []


def test_compiled_catalog_is_up_to_date() -> None:
    catalog = polib.pofile(str(PO))
    compiled = polib.mofile(str(PO.with_suffix(".mo")))
    # Keyed by context too: "next" is the pager's and, in the context "code editor", the search panel's.
    assert {(e.msgctxt, e.msgid): e.msgstr for e in catalog.translated_entries() if not e.msgid_plural} == {
        (e.msgctxt, e.msgid): e.msgstr for e in compiled if not e.msgid_plural
    }


@pytest.mark.django_db
def test_browser_language_chooses_the_page_language(client: Client) -> None:
    html = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html


@pytest.mark.django_db
def test_switcher_sets_the_cookie_and_saves_a_signed_in_users_choice(client: Client, learner: User) -> None:
    client.force_login(learner)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.preferred_language == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_saved_preference_beats_the_browser_language(client: Client, learner: User) -> None:
    learner.preferred_language = "en"
    learner.save()
    client.force_login(learner)
    html = client.get("/", headers={"accept-language": "zh-CN"}).content.decode()
    assert '<html lang="en">' in html


@pytest.mark.django_db
def test_switcher_refuses_unknown_languages_and_foreign_redirects(client: Client) -> None:
    assert client.post("/i18n/setlang/", {"language": "xx"}).status_code == 400
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/"})
    assert response.url == "/"
