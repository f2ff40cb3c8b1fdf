"""Push: the site tells the browsers watching a thing that it changed, as it happens.

A **topic** names a thing pages watch: ``run:<id>``, ``user:<id>`` (a user's badge and queue),
``board:<key>``, ``job:<id>``… Services that change a thing call ``live_publish(topic)``; when their
transaction commits, a message goes out on the broker's Redis (channel ``live:<topic>``). The events
server (``config/live_server.py``, an ASGI app) streams those messages to browsers as Server-Sent
Events; the page then fetches what changed through its usual, authorized URL. So a message is a
*hint*, never data: it carries the topic and small public facts (a state name), and whoever could
read the stream learns only that a thing changed.

A page may follow only the topics its view put into its **token** (``live_token``), signed with the
site's secret and valid ``LIVE_TOKEN_SECONDS``: the events server checks the signature and needs no
database, so 500 idle watchers cost it a heartbeat each ``LIVE_HEARTBEAT_SECONDS``. When the stream
is down (no events server, a proxy that buffers, an expired token), pages fall back to polling.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import redis
from django.conf import settings
from django.core import signing
from django.db import transaction

from core.broker import redis_client

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "live:"
TOKEN_SALT = "core.live"  # noqa: S105 - a namespace for the signatures, not a secret
MAX_TOPICS = 16


def live_channel(topic: str) -> str:
    return CHANNEL_PREFIX + topic


# The topics' names, in one place: the publishers and the views that grant them must agree.


def user_topic(user_id: int) -> str:
    """A user's unread badge and, for a mentor, their review queue (the message's ``what`` says which)."""
    return f"user:{user_id}"


def run_topic(run_id: int) -> str:
    return f"run:{run_id}"


def board_topic(challenge_slug: str, phase_position: int) -> str:
    """A challenge phase's public leaderboard (the phase as its address numbers it)."""
    return f"board:{challenge_slug}:{phase_position}"


def job_topic(kind: str, job_id: int) -> str:
    """A background job (``cohorts.models.Job``: a roster import, a gradebook export)."""
    return f"job:{kind}:{job_id}"


def live_publish(*topics: str, **facts: str | int | bool | None) -> None:
    """Tell the watchers of ``topics`` that they changed, once the current transaction commits (a
    rolled-back change tells no one). Best effort: a broker that is away loses the hint, and pages
    that miss one catch up at their next fetch or fallback poll."""

    def send() -> None:
        try:
            client = redis_client()
            with client.pipeline(transaction=False) as pipe:
                for topic in topics:
                    pipe.publish(live_channel(topic), json.dumps({"topic": topic, **facts}))
                pipe.execute()
        except redis.RedisError as exc:
            logger.info("live: could not publish %s: %s", ", ".join(topics), exc)

    transaction.on_commit(send)


def live_token(*, topics: Iterable[str]) -> str:
    """A signed, expiring permission to follow ``topics`` (the view already checked the viewer may)."""
    unique = list(dict.fromkeys(topics))[:MAX_TOPICS]
    return signing.dumps(unique, salt=TOKEN_SALT, compress=True)


def live_topics(token: str) -> list[str]:
    """The topics a token grants; raises ``signing.BadSignature`` (or its ``SignatureExpired``)."""
    topics = signing.loads(token, salt=TOKEN_SALT, max_age=settings.LIVE_TOKEN_SECONDS)
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise signing.BadSignature("not a list of topics")
    return topics[:MAX_TOPICS]
