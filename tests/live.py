"""Hear what the site publishes for open pages (``core.live``), on the test broker's Redis, as the
events server hears it; and read the token a page embeds for its stream."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.broker import redis_client
from core.live import CHANNEL_PREFIX, live_topics


@contextmanager
def heard() -> Iterator[list[dict[str, Any]]]:
    """The messages published on any topic while the block runs (and its commit, when it commits)."""
    pubsub = redis_client().pubsub()
    pubsub.psubscribe(CHANNEL_PREFIX + "*")
    assert pubsub.get_message(timeout=1)["type"] == "psubscribe"  # subscribed before anything is published
    messages: list[dict[str, Any]] = []
    try:
        yield messages
        while (message := pubsub.get_message(timeout=0.2)) is not None:
            messages.append(json.loads(message["data"]))
    finally:
        pubsub.close()


def topics_of(messages: list[dict[str, Any]]) -> list[str]:
    return [message["topic"] for message in messages]


TOKEN = re.compile(r'<script src="[^"]*/js/live\.[^"]*js" data-port="\d+"(?: data-token="([^"]*)")?')


def page_topics(html: str) -> list[str] | None:
    """The topics the page's stream may follow (its live.js script's token); None without a token."""
    scripts = TOKEN.findall(html)
    assert len(scripts) == 1, "a page opens exactly one stream"
    return live_topics(scripts[0]) if scripts[0] else None
