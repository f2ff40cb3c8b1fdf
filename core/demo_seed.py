"""Demo people for the embedded run and the journeys. Loaded only through ``seed_demo``."""

from __future__ import annotations

from core.models import Role, User
from core.services import user_create, user_set_role

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    # username, role, display name, preferred language ("" = follow the browser)
    ("admin", Role.ADMIN, "Ada Admin", ""),
    ("mentor", Role.MENTOR, "王老师 (Mentor Wang)", ""),
    ("mentor2", Role.MENTOR, "Maria Mentor", ""),
    ("learner", Role.LEARNER, "李明 (Li Ming)", ""),
    ("learner2", Role.LEARNER, "Lena Learner", ""),
)


def demo_users_seed(*, password: str) -> list[User]:
    """Create or reset the demo users so the printed logins always work."""
    users = []
    for username, role, display_name, language in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=password,
                role=role,
                email=f"{username}@example.com",
                display_name=display_name,
                preferred_language=language,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
            user_set_role(user=user, role=role)
        if role == Role.ADMIN and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        users.append(user)
    return users
