"""The demo challenge, ``digits-cup``: a practice phase on ``digits-cnn`` that is open when ``make run``
starts (it began a day ago and runs two weeks), then a Final on ``two-spirals``, the demo lab whose
hidden test rows come from a secret seed (fit for ranking). Idempotent: a challenge of that slug is
left as it is, dates included.

No entries are seeded: an entry is a real run, trained and scored by the lab worker (the demo learners'
runs, ``labs.demo_seed.demo_runs_seed``, are lab runs outside the challenge)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from challenges.models import Challenge
from challenges.services import challenge_create
from core.models import User
from labs.models import Lab

DEMO_CHALLENGE = "digits-cup"
PRACTICE_LAB, FINAL_LAB = "digits-cnn", "two-spirals"
PRACTICE_DAYS, FINAL_DAYS = 14, 7

TITLE = ("Digits Cup", "手写数字杯")
PHASE_TITLES = (("Warm-up: handwritten digits", "热身赛：手写数字"), ("Final: two spirals", "决赛：双螺旋"))

RULES_EN = """\
Digits Cup is a practice challenge on the platform's labs, open to everyone, alone or in a team.

**What to submit.** The same Python file as in a lab: `train(data, run)` and `predict(model, x)`. The
warm-up runs on the lab *digits-cnn* (8×8 handwritten digits, ten classes), the Final on *two-spirals*.
Each entry runs in the lab's sandbox under the lab's time and memory limits and is scored by accuracy.

**Limits.** Five entries a day in each phase, per learner or per team: a team shares one quota and has
one row on the leaderboard. Form your team before your first entry: whoever has entered alone stays
alone, and no one leaves a team after its first entry.

**Public and private leaderboards.** Each phase's hidden test set is split, stratified, into two halves.
The public half is scored at once and shown live, rounded. The private half is scored too but stays
sealed until the phase ends, and it decides the ranking: tuning to the public leaderboard does not pay.

**Final picks.** Before a phase ends, pick up to two of your entries for the final ranking. If you pick
none, your two best by public score count.

**Re-runs.** When a phase ends, every final pick is re-run with 3 seeds. The final ranking uses the mean
private score and shows its spread: a lucky seed wins nothing.

**Practice, not prizes.** The data of digits-cnn is scikit-learn's public digits set: its test answers
can be found outside this platform, so the warm-up is for learning. The Final's hidden test points are
drawn with a secret seed that only the platform holds, so its ranking is fair. Play fair: one account
per person, and no code shared between teams.
"""

RULES_ZH = "\n\n".join(
    (
        "手写数字杯是一场基于平台实验的练习赛，所有人都可以参加，个人或组队均可。",
        (
            "**提交什么。** 和做实验时一样，"
            "提交一个包含 `train(data, run)` 和 `predict(model, x)` 的 Python 文件。"
            "热身赛使用实验 *digits-cnn*（8×8 手写数字，共十类），决赛使用实验 *two-spirals*（双螺旋）。"
            "每次提交都在该实验的沙箱中运行，受实验的时间和内存限制约束，按准确率评分。"
        ),
        (
            "**提交限制。** 每个阶段每天最多提交五次，按个人或按队伍计算：一支队伍共用一份配额，"
            "在排行榜上只占一行。请在第一次提交之前组好队：已经以个人身份提交过的人不能再加入队伍；"
            "队伍提交过一次之后，任何成员都不能退出。"
        ),
        (
            "**公开榜与私有榜。** 每个阶段的隐藏测试集按类别分层，分成两半。公开的一半当即评分，"
            "并实时显示（分数经过四舍五入）。私有的一半同样当即评分，但在阶段结束前保密，最终名次由它决定："
            "一味针对公开榜调参并没有好处。"
        ),
        "**最终提交。** 阶段结束前，从自己的提交中最多选出两个参加最终排名；如果没有选择，则取公开分数最高的两个。",
        (
            "**重跑。** 阶段结束时，每个最终提交都会用 3 个不同的随机种子重新运行。"
            "最终排名按私有分数的平均值计算，并显示其波动范围：靠一个运气好的种子赢不了比赛。"
        ),
        (
            "**这是练习赛，不设奖金。** digits-cnn 的数据是 scikit-learn 公开的 digits 数据集，"
            "它的测试答案在平台之外也能找到，所以热身赛只是为了学习。"
            "决赛的隐藏测试点由只有平台掌握的秘密种子生成，因此决赛的排名是公平的。请公平竞赛："
            "每人只用一个账号，队伍之间不要共享代码。"
        ),
    )
)

PRIZE_EN = (
    "No prize money: this is a practice cup. The top three of the Final's ranking receive a certificate of "
    "recognition and are named on this page."
)
PRIZE_ZH = "不设奖金：这是一场练习赛。决赛排名前三的个人或队伍将获得荣誉证书，并在本页公布。"


@transaction.atomic
def demo_challenge_seed() -> Challenge:
    """``digits-cup``, published and open to everyone, once (after the demo labs and people)."""
    known = Challenge.objects.filter(slug=DEMO_CHALLENGE).first()
    if known is not None:
        return known
    labs = {lab.slug: lab for lab in Lab.objects.filter(slug__in=(PRACTICE_LAB, FINAL_LAB))}
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    practice_ends = hour + dt.timedelta(days=PRACTICE_DAYS)
    common = {"submissions_per_day": 5, "blind": False, "final_picks": 2, "rerun_seeds": 3}
    phases = [
        {
            "lab": labs[PRACTICE_LAB],
            "title_en": PHASE_TITLES[0][0],
            "title_zh": PHASE_TITLES[0][1],
            "starts_at": hour - dt.timedelta(days=1),
            "ends_at": practice_ends,
            **common,
        },
        {
            "lab": labs[FINAL_LAB],
            "title_en": PHASE_TITLES[1][0],
            "title_zh": PHASE_TITLES[1][1],
            "starts_at": practice_ends,
            "ends_at": practice_ends + dt.timedelta(days=FINAL_DAYS),
            **common,
        },
    ]
    return challenge_create(
        created_by=User.objects.get(username="admin"),
        slug=DEMO_CHALLENGE,
        title_en=TITLE[0],
        title_zh=TITLE[1],
        rules_en=RULES_EN,
        rules_zh=RULES_ZH,
        prize_en=PRIZE_EN,
        prize_zh=PRIZE_ZH,
        open_to_everyone=True,
        published=True,
        phases=phases,
    )
