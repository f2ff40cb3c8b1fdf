"""Markdown for author content (lab descriptions, course summaries, lessons).

CommonMark and tables through markdown-it-py; ``$…$`` and ``$$…$$`` become math elements that the
vendored KaTeX typesets in the browser (``static/js/math.js``); fenced code is highlighted by Pygments
on the server. Raw HTML is off and the result goes through nh3, so author content cannot inject script.
"""

from __future__ import annotations

import functools
import html

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

PYGMENTS_STYLE = "github-dark"
_formatter = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _formatter) if lexer else html.escape(code)
    language = f' class="language-{html.escape(lang)}"' if lang else ""
    return f'<pre class="highlight"><code{language}>{body}</code></pre>\n'


_renderer = (
    MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    .enable("table")
    .use(dollarmath_plugin, allow_digits=False)  # <span class="math inline">, <div class="math block">
)
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"pre", "code", "span", "div", "table", "thead", "tbody", "tr", "th", "td", "img"}
_ALLOWED_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "td": {"style"},
    "th": {"style"},
}


def render_markdown(text: str) -> SafeString:
    return mark_safe(_render(text or ""))  # noqa: S308 - sanitised by nh3 in _render


@functools.lru_cache(maxsize=512)
def _render(text: str) -> str:
    """Markdown → sanitised HTML; a pure function of the text, so each process keeps the recent ones
    (a lesson with highlighted code takes milliseconds; pages show the same texts again and again)."""
    rendered = _renderer.render(text)
    cleaned = nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
    )
    return cleaned


def pygments_css() -> str:
    """The stylesheet for highlighted code; ``static/css/pygments.css`` is this, written by ``make assets``."""
    return HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".highlight")


def fenced_blocks(text: str, info: str) -> list[tuple[int, int, int, str]]:
    """The fenced code blocks of ``text`` whose info string is ``info``: (first line, line after the
    closing fence, nesting level — 0 at the top, more inside a list or quote —, content), lines
    counted from 0 as CommonMark reads them (a fence inside another fence is not one)."""
    return [
        (token.map[0], token.map[1], token.level, token.content)
        for token in _renderer.parse(text or "")
        if token.type == "fence" and token.info.strip() == info and token.map
    ]
