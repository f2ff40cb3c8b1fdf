"""Author Markdown: math for KaTeX, highlighted code, tables, and nothing that runs script."""

from __future__ import annotations

from pathlib import Path

from core.markdown import pygments_css, render_markdown

REPO = Path(__file__).resolve().parents[2]


def test_inline_and_display_math_become_math_elements_with_escaped_tex() -> None:
    html = render_markdown("Let $a<b$ hold.\n\n$$\n\\frac{1}{1+e^{-z}}\n$$\n")
    assert '<span class="math inline">a&lt;b</span>' in html
    assert '<div class="math block">' in html and "\\frac{1}{1+e^{-z}}" in html


def test_a_price_with_a_dollar_sign_is_not_math() -> None:
    assert "math" not in render_markdown("It costs 5$ and 6$ more.")


def test_fenced_code_is_highlighted_on_the_server() -> None:
    html = render_markdown("```python\ndef f(x):\n    return x\n```\n")
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="k">def</span>' in html


def test_unknown_code_language_is_shown_plain() -> None:
    html = render_markdown("```nosuchlang\n<b>x</b>\n```\n")
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_tables_keep_their_alignment() -> None:
    html = render_markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |\n")
    assert '<td style="text-align:center">1</td>' in html


def test_raw_html_and_script_links_are_neutralised() -> None:
    html = render_markdown('<script>alert(1)</script>\n\n[x](javascript:alert(1)) <b onclick="x()">b</b>')
    assert "<script" not in html and "<b " not in html and 'href="javascript' not in html


def test_pygments_stylesheet_in_static_matches_the_renderer() -> None:
    assert (REPO / "static" / "css" / "pygments.css").read_text() == pygments_css()


def test_vendored_katex_ships_every_font_its_stylesheet_names() -> None:
    katex = REPO / "static" / "vendor" / "katex"
    css = (katex / "katex.min.css").read_text()
    fonts = {line.split(")")[0] for line in css.split("url(")[1:]}
    assert fonts, "no @font-face found"
    assert all((katex / font).is_file() for font in fonts), sorted(f for f in fonts if not (katex / f).is_file())
