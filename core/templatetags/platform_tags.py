import re
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text)


@register.filter(name="time_ago")
def time_ago(value: datetime) -> str:
    """ "just now" under a minute (timesince alone says "0 minutes ago"), else e.g. "3 hours ago"."""
    if timezone.now() - value < timedelta(minutes=1):  # also a time a little ahead (clock skew)
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value)}


NOT_PROSE = re.compile(r"#|```|~~~|\$\$|[-*+] |\d+[.)] |\||>|<|!\[")


@register.filter(name="summary")
def summary(markdown_text: str, length: int = 160) -> str:
    """A card's one-line teaser: the first paragraph of Markdown that is prose (not a heading, list,
    code or math), as plain text, cut at ``length`` characters."""
    for block in markdown_text.split("\n\n"):
        text = " ".join(block.split())
        if text and not NOT_PROSE.match(text):
            plain = strip_tags(render_markdown(text)).strip()
            return plain if len(plain) <= length else plain[: length - 1].rstrip() + "…"
    return ""
