from __future__ import annotations

import factory

from core.models import Role, User
from core.services import user_create

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.Faker("name")
    role = Role.LEARNER

    @classmethod
    def _create(cls, model_class: type[User], *args: object, role: str, **kwargs: object) -> User:
        return user_create(password=PASSWORD, role=role, **kwargs)
