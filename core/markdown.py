"""Markdown for author content (lab and lesson text), sanitised so it cannot inject script."""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"pre", "code", "span", "table", "thead", "tbody", "tr", "th", "td", "img"}


def render_markdown(text: str) -> SafeString:
    html = _renderer.render(text or "")
    return mark_safe(nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer"))  # noqa: S308 - sanitised
