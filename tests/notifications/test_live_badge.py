"""The unread badge of a user's open pages hears of every change to their unread count (``user:<id>``,
``what: unread``; core.live) when it commits, and of none that rolls back or changes nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from core.models import NotificationKind, User
from notifications.services import notification_mark_read, notifications_mark_all_read, notify
from tests.live import heard


class Boom(Exception):
    pass


def news_for(user: User) -> object:
    return notify(user=user, kind=NotificationKind.RUN_FINISHED, title="Tiny lab: score 0.9 — passed")


def notify_then_roll_back(user: User) -> None:
    with transaction.atomic():
        news_for(user)
        raise Boom


@pytest.mark.django_db
def test_new_news_and_reading_it_tell_the_users_badge(
    learner: User, other_learner: User, django_capture_on_commit_callbacks: object
) -> None:
    first = news_for(learner)
    news_for(learner)
    with heard() as messages, django_capture_on_commit_callbacks(execute=True):
        news_for(learner)
        notification_mark_read(notification=first)
        notification_mark_read(notification=first)  # read already: no change, no hint
        notifications_mark_all_read(user=learner)
        notifications_mark_all_read(user=learner)  # nothing left unread
    assert messages == [{"topic": f"user:{learner.pk}", "what": "unread"}] * 3


@pytest.mark.django_db
def test_news_that_rolls_back_tells_no_one(learner: User, django_capture_on_commit_callbacks: object) -> None:
    with heard() as messages, django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        notify_then_roll_back(learner)
    assert messages == []
