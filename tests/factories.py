from __future__ import annotations

import datetime

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


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.Course"

    slug = factory.Sequence(lambda n: f"course-{n}")
    title_en = factory.Sequence(lambda n: f"Course {n}")
    title_zh = factory.Sequence(lambda n: f"课程 {n}")
    summary_en = "What this course teaches."
    summary_zh = "这门课程讲什么。"


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.Module"

    course = factory.SubFactory(CourseFactory)
    slug = factory.Sequence(lambda n: f"module-{n}")
    position = factory.Sequence(lambda n: n + 1)
    title_en = factory.Sequence(lambda n: f"Module {n}")
    title_zh = factory.Sequence(lambda n: f"模块 {n}")


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.Lesson"

    module = factory.SubFactory(ModuleFactory)
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    position = factory.Sequence(lambda n: n + 1)
    title_en = factory.Sequence(lambda n: f"Lesson {n}")
    title_zh = factory.Sequence(lambda n: f"第 {n} 课")
    body_en = "The sigmoid is $\\sigma(z) = 1/(1+e^{-z})$."
    body_zh = "Sigmoid 函数是 $\\sigma(z) = 1/(1+e^{-z})$。"
    minutes = 10


class PathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.LearningPath"

    slug = factory.Sequence(lambda n: f"path-{n}")
    title_en = factory.Sequence(lambda n: f"Path {n}")
    title_zh = factory.Sequence(lambda n: f"路径 {n}")


def course_with_lessons(*, modules: int = 2, lessons_per_module: int = 2, **course_fields: object) -> object:
    """A course whose lessons run 1..N through its modules, as an import makes them."""
    course = CourseFactory(**course_fields)
    position = 0
    for m in range(1, modules + 1):
        module = ModuleFactory(course=course, position=m, slug=f"{course.slug}-m{m}")
        for _ in range(lessons_per_module):
            position += 1
            LessonFactory(module=module, position=position, slug=f"{course.slug}-l{position}")
    return course


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cohorts.Cohort"

    slug = factory.Sequence(lambda n: f"cohort-{n}")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = datetime.date(2026, 3, 1)
    ends_on = datetime.date(2026, 6, 30)
