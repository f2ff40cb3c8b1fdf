"""The admin's count messages agree with their count: "1 token revoked.", "2 tokens revoked."."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from core.models import ApiToken, User
from core.services import token_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("count", "message"), [(1, "1 token revoked."), (2, "2 tokens revoked.")])
def test_revoking_tokens_in_the_admin_says_how_many_in_the_singular_or_plural(
    learner: User, admin_user: User, count: int, message: str
) -> None:
    User.objects.filter(pk=admin_user.pk).update(is_superuser=True)
    tokens = [token_create(user=learner, name=f"laptop {n}")[0] for n in range(count)]
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/core/apitoken/", {"action": "revoke", "_selected_action": [t.pk for t in tokens]}, follow=True
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
