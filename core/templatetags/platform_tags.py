import re
from datetime import datetime, timedelta

from django import template
from django.conf import settings
from django.template import Context
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from core.live import live_token, user_topic
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


@register.inclusion_tag("core/_live_script.html", takes_context=True)
def live_script(context: Context) -> dict[str, object]:
    """The page's one stream of change hints (static/js/live.js, ``core.live``). A signed-in viewer's
    token grants their own topic (the badge, a mentor's queue) and the page's ``live_topics``: those
    the view put there, having checked the viewer may see them. Without a token the script opens no
    stream and the page scripts poll."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"port": settings.LIVE_EVENTS_PORT}
    own = user_topic(user.pk)
    token = live_token(topics=[own, *(context.get("live_topics") or [])])
    return {"token": token, "user_topic": own, "port": settings.LIVE_EVENTS_PORT}
