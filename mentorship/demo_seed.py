"""The demo cohort: `mentor` mentors `learner`, `mentor2` mentors `learner2`, on the path "AI
foundations for large models", with lab deadlines and a review rubric for every demo lab. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cohorts.models import Cohort, CohortMember, LabDeadline
from core.models import User
from courses.models import LearningPath
from labs.models import Lab
from mentorship.models import Criterion, Level, Rubric

DEMO_COHORT = "spring-2026"
PAIRS = (("learner", "mentor"), ("learner2", "mentor2"))
# lab -> days from today to its deadline (negative: already passed, to show the late policy)
DEADLINES = {"linear-regression": -1, "digits-mlp": 7, "two-spirals": 14, "digits-cnn": 21}
RUBRIC = (
    (
        ("Correctness", "正确性"),
        "Does the model reach the target for the right reasons (no test-set peeking, sound validation)?",
        "模型是否以正确的方式达到目标（没有偷看测试集、验证方法可靠）？",
    ),
    (
        ("Code clarity", "代码清晰度"),
        "Is train()/predict() easy to follow: names, small functions, no dead code?",
        "train()/predict() 是否易读：命名清楚、函数短小、没有无用代码？",
    ),
    (
        ("Experiment discipline", "实验规范"),
        "Are hyper-parameters explained, the curve logged every epoch, and time_left() respected?",
        "超参数是否有说明、每个 epoch 是否记录曲线、是否遵守 time_left()？",
    ),
)
LEVELS = ((("Missing", "未达到"), 0), (("Partly", "部分达到"), 3), (("Fully", "完全达到"), 5))


def _rubric_seed(lab: Lab) -> None:
    if Rubric.objects.filter(lab=lab).exists():
        return
    rubric = Rubric.objects.create(lab=lab)
    for position, ((title_en, title_zh), description_en, description_zh) in enumerate(RUBRIC, start=1):
        criterion = Criterion.objects.create(
            rubric=rubric,
            position=position,
            title_en=title_en,
            title_zh=title_zh,
            description_en=description_en,
            description_zh=description_zh,
        )
        for n, ((level_en, level_zh), points) in enumerate(LEVELS, start=1):
            Level.objects.create(criterion=criterion, position=n, title_en=level_en, title_zh=level_zh, points=points)


@transaction.atomic
def demo_cohort_seed() -> Cohort:
    today = timezone.localdate()
    cohort, created = Cohort.objects.get_or_create(
        slug=DEMO_COHORT,
        defaults={
            "name": "2026 春季班 · Spring 2026",
            "path": LearningPath.objects.filter(slug="ai-foundations").first(),
            "starts_on": today - dt.timedelta(days=14),
            "ends_on": today + dt.timedelta(days=60),
        },
    )
    users = {u.username: u for u in User.objects.filter(username__in=[name for pair in PAIRS for name in pair])}
    for learner, mentor in PAIRS:
        if learner in users and mentor in users:
            cohort.mentors.add(users[mentor])
            CohortMember.objects.get_or_create(
                cohort=cohort, learner=users[learner], defaults={"mentor": users[mentor]}
            )
    for lab in Lab.objects.filter(slug__in=DEADLINES):
        _rubric_seed(lab)
        if created:
            due = timezone.now().replace(hour=23, minute=0, second=0, microsecond=0)
            LabDeadline.objects.create(cohort=cohort, lab=lab, due_at=due + dt.timedelta(days=DEADLINES[lab.slug]))
    return cohort
