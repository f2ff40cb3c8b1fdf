"""Load the demo labs from their folders (labs/demo/<slug>/). Idempotent."""

from __future__ import annotations

from core.models import User
from labs.authoring import hidden_seed_for, lab_save
from labs.demo import DEMO_LAB_SLUGS, demo_lab, load_lab_definition
from labs.models import Lab, Submission
from labs.services import submission_create
from skills.catalogue import skills_seed


def demo_lab_seed(slug: str) -> Lab:
    """A demo lab from its folder, by the same ``lab_save`` as an instructor's ``import_lab``; published at
    once: its reference solution is proven by the test suite (tests/labs/test_demo_labs.py) rather than
    by a reference run at every start (an administrator can still run one from the lab's authoring page).
    A secret-seeded lab's hidden rows come from its secret seed (``hidden_seed_for``)."""
    lab_folder = demo_lab(slug, hidden_seed=hidden_seed_for)
    return lab_save(
        definition=lab_folder.definition,
        starter_code=lab_folder.starter_code,
        solution_code=lab_folder.solution_code,
        splits=lab_folder.data,
        scoring_code=lab_folder.scoring_code,
        files=lab_folder.files,
        published=True,
        hidden_seed=lab_folder.hidden_seed,
    )


def demo_labs_seed() -> list[Lab]:
    skills_seed()  # the skills the demo labs name (a lab seeded alone keeps only those already known)
    return [demo_lab_seed(slug) for slug in DEMO_LAB_SLUGS]


# What the demo learners have submitted when `make run` starts: (learner, lab, which code).
# The runs are real: they are queued here and the lab worker trains and scores them.
DEMO_SUBMISSIONS = (
    ("learner", "linear-regression", "solution"),
    ("learner", "digits-mlp", "starter"),
    ("learner", "digits-mlp", "solution"),
    ("learner2", "two-spirals", "solution"),
    ("learner2", "linear-regression", "starter"),
)


def demo_runs_seed() -> list[int]:
    """Queue the demo learners' submissions, once: a learner who already submitted is left alone."""
    learners = {u.username: u for u in User.objects.filter(username__in={name for name, *_ in DEMO_SUBMISSIONS})}
    done = set(Submission.objects.filter(learner__in=learners.values()).values_list("learner__username", flat=True))
    queued = []
    for username, slug, which in DEMO_SUBMISSIONS:
        if username not in learners or username in done:
            continue
        code = load_lab_definition(slug)[f"{which}_code"]
        lab = Lab.objects.get(slug=slug)
        run = submission_create(learner=learners[username], lab=lab, source=Submission.Source.CLI, code=code)
        queued.append(run.pk)
    return queued
