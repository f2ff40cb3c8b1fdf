"""Cohorts: who is in which cohort, with which mentor. Services: the writes (reads are in ``cohorts.selectors``).

The database already holds "one cohort per learner per path" (``CohortMember.path``); the services
check it first so callers get a sentence, not an IntegrityError."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cohorts.models import Cohort, CohortMember
from core.models import User


class CohortError(ValueError):
    """A membership change the rules refuse; the message is shown to the person who asked."""


def can_manage_cohorts(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("core.administer")


# --- Services ---------------------------------------------------------------------------


def _check_mentor(mentor: User) -> None:
    if not mentor.has_perm("core.mentor"):
        raise CohortError(_("%(user)s does not have the mentor role.") % {"user": mentor.username})


def cohort_member_conflict(*, cohort: Cohort, learner: User) -> CohortMember | None:
    """The learner's membership in another cohort of the same path, which forbids joining ``cohort``."""
    if cohort.path_id is None:
        return None
    others = CohortMember.objects.filter(learner=learner, path_id=cohort.path_id).exclude(cohort=cohort)
    return others.select_related("cohort").first()


@transaction.atomic
def cohort_member_add(*, cohort: Cohort, learner: User, mentor: User | None = None) -> CohortMember:
    """Put ``learner`` in ``cohort`` (optionally with a mentor, who also becomes one of the cohort's mentors).

    Refuses (``CohortError``) a learner already in this cohort or in another cohort of the same path,
    a user without the learner role, and a mentor without the mentor role."""
    if not learner.has_perm("core.learn"):
        raise CohortError(_("%(user)s does not have the learner role.") % {"user": learner.username})
    if mentor is not None:
        _check_mentor(mentor)
    if CohortMember.objects.filter(cohort=cohort, learner=learner).exists():
        raise CohortError(_("%(user)s is already in %(cohort)s.") % {"user": learner.username, "cohort": cohort})
    conflict = cohort_member_conflict(cohort=cohort, learner=learner)
    if conflict is not None:
        raise CohortError(
            _("%(user)s is already in %(cohort)s, another cohort of the same path.")
            % {"user": learner.username, "cohort": conflict.cohort}
        )
    try:
        with transaction.atomic():
            member = CohortMember.objects.create(cohort=cohort, learner=learner, mentor=mentor)
    except IntegrityError as exc:  # a concurrent add won the race
        raise CohortError(
            _("%(user)s could not join %(cohort)s: they joined a cohort meanwhile.")
            % {"user": learner.username, "cohort": cohort}
        ) from exc
    if mentor is not None:
        cohort.mentors.add(mentor)
    return member


def cohort_member_remove(*, cohort: Cohort, learner: User) -> bool:
    """Take ``learner`` out of ``cohort``; False if they were not in it."""
    deleted, _per_model = CohortMember.objects.filter(cohort=cohort, learner=learner).delete()
    return deleted > 0


@transaction.atomic
def cohort_mentor_set(*, member: CohortMember, mentor: User | None) -> CohortMember:
    """Give a member a mentor (who becomes one of the cohort's mentors), or none with ``mentor=None``."""
    if mentor is not None:
        _check_mentor(mentor)
        member.cohort.mentors.add(mentor)
    member.mentor = mentor
    member.save(update_fields=["mentor"])
    return member
