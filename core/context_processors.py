from __future__ import annotations

from django.http import HttpRequest

from core.roles import primary_role


def navigation(request: HttpRequest) -> dict[str, object]:
    return {"role": primary_role(request.user)}
