"""The lab page's code editor from a journey: CodeMirror hides the textarea (it stays the form field),
so a journey puts its code in through the editor's own API rather than `page.fill("#id_code")`."""

from __future__ import annotations

from playwright.sync_api import Page

CODE_CONTENT = "#code-field .cm-content"


def code_fill(page: Page, code: str) -> None:
    """Replace the editor's text with ``code`` (as pasting it would); the textarea follows."""
    page.locator(CODE_CONTENT).wait_for()
    page.evaluate("code => AcademyEditor.find(document.getElementById('id_code')).setValue(code)", code)


def code_value(page: Page) -> str:
    """What the form would submit now: the textarea's value."""
    return page.locator("#id_code").input_value()
