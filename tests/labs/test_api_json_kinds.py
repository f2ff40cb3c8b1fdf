"""`params` that is JSON but not an object: the 400 names what was sent in JSON's words, and those words
are translated (context "JSON type") like the rest of the message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from labs.models import Lab, Run
from tests.labs.conftest import VALID_CODE

SUBMIT = "/api/v1/labs/tiny/submissions/"
CATALOG = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgctxt "JSON type"
msgid "an array"
msgstr "数组"

msgctxt "JSON type"
msgid "a number"
msgstr "数字"
"""

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "kind"),
    [([1, 2], "an array"), ('"epochs=7"', "a string"), (5, "a number"), (2.5, "a number"), (True, "a boolean")],
)
def test_params_of_the_wrong_json_kind_are_a_400_saying_which_kind(
    api: APIClient, lab: Lab, params: object, kind: str
) -> None:
    response = api.post(SUBMIT, {"code": VALID_CODE, "params": params}, format="json")
    assert response.status_code == 400
    assert response.json()["params"] == [f'`params` must be a JSON object such as {{"epochs": 5}}, not {kind}.']
    assert not Run.objects.exists()


def test_the_json_kind_is_translated_with_the_message(api: APIClient, lab: Lab, tmp_path: Path) -> None:
    messages = tmp_path / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(CATALOG, encoding="utf-8")
    subprocess.run(["msgfmt", "-o", messages / "django.mo", messages / "django.po"], check=True)
    # The first locale path wins: the kinds come from this catalog, the sentence from the project's.
    with override_settings(LOCALE_PATHS=[tmp_path, *settings.LOCALE_PATHS]):
        chinese = {"accept-language": "zh-hans"}
        array = api.post(SUBMIT, {"code": VALID_CODE, "params": [1]}, format="json", headers=chinese)
        number = api.post(SUBMIT, {"code": VALID_CODE, "params": 3}, format="json", headers=chinese)
    assert array.json()["params"][0].endswith("而不是 数组。")
    assert number.json()["params"][0].endswith("而不是 数字。")
