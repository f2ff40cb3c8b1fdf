"""Grading reads runs of labs in cohorts with mentors: the fixtures of those apps' tests."""

from tests.labs.conftest import lab  # noqa: F401 - the fixture
from tests.mentorship.conftest import cohort, other_mentor  # noqa: F401 - the fixtures
