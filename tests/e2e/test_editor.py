"""The lab page's code editor (CodeMirror over the code textarea): typing with Tab and auto-indentation
is what the form submits; reset to the starter code; download; the unsent draft; the keyboard alone;
a phone; light and dark; and the page without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from core.models import Role, User
from labs import services
from labs.models import Lab, Submission
from tests.e2e.conftest import RESULTS, login
from tests.e2e.editor import CODE_CONTENT, code_fill, code_value
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def learner_on_lab(page: Page, lab: Lab) -> User:
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    page.locator(CODE_CONTENT).wait_for()
    return learner


def submitted_code(learner: User, lab: Lab) -> str:
    """The stored submission, as the browser sent it: a form sends a textarea's lines with CRLF, and the
    form field strips the ends."""
    return Submission.objects.get(learner=learner, lab=lab).code.replace("\r\n", "\n")


def focused(page: Page) -> str:
    """The focused element, as `tag#id.class` (enough to tell the editor from the fields around it)."""
    return page.evaluate(
        "() => { const e = document.activeElement; return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
        " + (e.classList.length ? '.' + [...e.classList].join('.') : ''); }"
    )


def test_typed_code_with_tab_and_auto_indentation_is_what_the_form_submits(
    page: Page, lab: Lab, learner_on_lab: User
) -> None:
    editor = page.get_by_role("textbox", name="Code")  # the editor's content, named by the field's label
    expect(editor).to_have_class("cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.type("def train(data, run):")
    page.keyboard.press("Enter")  # auto-indented: 4 spaces
    page.keyboard.type("if data:")
    page.keyboard.press("Enter")  # 8 spaces
    page.keyboard.type("pass")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")  # back to 4
    page.keyboard.type("return None")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")  # back to the margin
    page.keyboard.type("def predict(model, x")  # the closing bracket is typed over, not doubled
    page.keyboard.type("):")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # Tab indents, and the focus stays in the editor
    page.keyboard.type("return x")
    expected = (
        "def train(data, run):\n    if data:\n        pass\n    return None\ndef predict(model, x):\n    return x"
    )
    assert focused(page) == "div.cm-content"
    assert code_value(page) == expected
    page.get_by_test_id("submit-button").click()
    page.wait_for_url("**/runs/**")
    assert submitted_code(learner_on_lab, lab) == expected


def test_reset_to_starter_code_asks_first_and_can_be_undone(page: Page, lab: Lab, learner_on_lab: User) -> None:
    assert code_value(page) == lab.starter_code  # no submission yet: the editor starts with the starter code
    code_fill(page, "my own work\n")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("editor-reset").click()
    assert code_value(page) == "my own work\n"  # "Cancel" keeps the code
    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.get_by_test_id("editor-reset").click()
    assert "starter code" in messages[0]
    assert code_value(page) == lab.starter_code
    assert focused(page) == "div.cm-content"  # back in the editor, where Ctrl-Z undoes the reset
    page.keyboard.press("ControlOrMeta+z")
    assert code_value(page) == "my own work\n"


def test_download_saves_the_code_as_the_labs_python_file(
    page: Page, lab: Lab, learner_on_lab: User, tmp_path: Path
) -> None:
    code_fill(page, "print('mine')\n")
    with page.expect_download() as download_info:
        page.get_by_test_id("editor-download").click()
    download = download_info.value
    assert download.suggested_filename == f"{lab.slug}.py"
    download.save_as(tmp_path / "saved.py")
    assert (tmp_path / "saved.py").read_text() == "print('mine')\n"


def test_an_unsent_draft_survives_a_reload_and_can_be_undone(page: Page, lab: Lab, learner_on_lab: User) -> None:
    code_fill(page, "half-written\n")
    page.wait_for_timeout(500)  # the draft is saved 300 ms after the last change (and when the page goes)
    page.reload()
    expect(page.get_by_test_id("draft-notice")).to_be_visible()
    assert code_value(page) == "half-written\n"
    page.locator("#code-field").screenshot(path=str(RESULTS / "editor-draft-restored.png"))
    page.get_by_test_id("draft-notice-action").click()  # Undo
    expect(page.get_by_test_id("draft-notice")).to_be_hidden()
    assert code_value(page) == lab.starter_code
    page.wait_for_timeout(500)
    page.reload()
    page.locator(CODE_CONTENT).wait_for()
    expect(page.get_by_test_id("draft-notice")).to_be_hidden()
    assert code_value(page) == lab.starter_code


def test_the_draft_is_offered_not_imposed_after_a_newer_submission(page: Page, lab: Lab, learner_on_lab: User) -> None:
    code_fill(page, "old draft\n")
    page.wait_for_timeout(500)
    newer = lab.starter_code + "\n# submitted from the client\n"  # elsewhere (the client, the API), since
    services.submission_create(learner=learner_on_lab, lab=lab, source="api", code=newer)
    page.reload()
    expect(page.get_by_test_id("draft-notice")).to_be_visible()
    assert code_value(page) == newer
    page.get_by_test_id("draft-notice-action").click()  # Restore the draft
    assert code_value(page) == "old draft\n"


def test_the_keyboard_alone_reaches_the_editor_and_leaves_it_with_escape_then_tab(
    page: Page, learner_on_lab: User
) -> None:
    page.get_by_test_id("editor-download").focus()
    page.keyboard.press("Tab")
    assert focused(page) == "div.cm-content"
    page.locator("#code-field").screenshot(path=str(RESULTS / "editor-keyboard-focus.png"))  # the focus ring
    description = page.locator(CODE_CONTENT).get_attribute("aria-describedby")
    expect(page.locator(f"#{description}")).to_contain_text("Esc")
    page.keyboard.press("Tab")
    assert focused(page) == "div.cm-content"  # Tab indents...
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert focused(page) == "input#id_upload"  # ...Escape then Tab moves on to the next field
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "div.cm-content"
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "button.button.secondary.small"  # and back out before it (Download)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1200, 800), (375, 812)])
def test_the_editor_fits_desktop_and_phone_in_light_and_dark(
    page: Page, lab: Lab, scheme: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=scheme)
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    code_fill(page, lab.starter_code + "\n# " + "a long comment line that runs well past a phone's width " * 3 + "\n")
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    scroller = page.locator("#code-field .cm-scroller")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # the long line scrolls inside the editor
    box = page.locator("#code-field .cm-editor").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    font_size = float(scroller.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px"))
    assert font_size >= (16 if width < 700 else 14)  # 16 px: iOS zooms into smaller editable text
    background = page.locator("#code-field .cm-editor").evaluate("e => getComputedStyle(e).backgroundColor")
    assert (background == "rgb(255, 255, 255)") == (scheme == "light")
    name = f"editor-{'phone' if width < 700 else 'desktop'}-{scheme}"
    RESULTS.mkdir(exist_ok=True)
    page.locator("#submit").screenshot(path=str(RESULTS / f"{name}.png"))

    page.locator(CODE_CONTENT).click(position={"x": 10, "y": 10})  # its centre lies off-screen, on the long line
    page.keyboard.press("ControlOrMeta+f")  # the search panel, in the page's language
    expect(page.get_by_role("textbox", name="Find")).to_be_focused()
    page.keyboard.type("return")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.locator("#code-field").screenshot(path=str(RESULTS / f"{name}-search.png"))


@pytest.fixture
def page_without_javascript(browser: Browser, live_server: object) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-US", java_script_enabled=False)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_without_javascript_the_textarea_submits_the_code(page_without_javascript: Page, lab: Lab) -> None:
    page = page_without_javascript
    learner = UserFactory(role=Role.LEARNER)
    login(page, learner.username, PASSWORD)
    page.goto(lab.get_absolute_url())
    expect(page.locator("#id_code")).to_be_visible()
    expect(page.get_by_test_id("editor-tools")).to_be_hidden()  # reset and download need JavaScript
    expect(page.get_by_test_id("editor-hint")).to_be_hidden()
    page.fill("#id_code", lab.starter_code + "# plain\n")
    page.get_by_test_id("submit-button").click()
    page.wait_for_url("**/runs/**")
    assert submitted_code(learner, lab) == (lab.starter_code + "# plain\n").strip()
