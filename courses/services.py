"""Writes of the curriculum: enrolling, completing lessons, remembering where a learner is, and
the tries at a lesson's exercises (``courses.exercises``)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from celery import current_app as celery_app  # the site's app (config.celery_app), the default in every thread
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bilingual import is_chinese
from core.broker import broker_reachable
from core.cache import cache_bump
from core.fragments import learners_changed, reading_generation
from core.models import User
from courses import exercises, selectors
from courses.exercises import AnswerUnreadable, Exercise, Feedback
from courses.models import (
    CodeCheck,
    CodeCheckState,
    Course,
    Enrollment,
    ExerciseProgress,
    Lesson,
    LessonCompletion,
    Progress,
)

logger = logging.getLogger(__name__)

CODE_CHECK_TASK = "courses.tasks.code_check"
# A code check still queued after this long was lost (a worker gone): it no longer blocks a new one.
CODE_CHECK_STALE = timedelta(seconds=exercises.CODE_TIMEOUT_S + 180)
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


class CourseActionRefused(Exception):
    """The learner may not do this (yet); ``message`` says why and what to do, in their language."""

    def __init__(self, message: str, *, missing: list[Course] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing or []


def enrollment_create(*, user: User, course: Course) -> Enrollment:
    """Enroll ``user`` in ``course`` once every prerequisite course is finished. Idempotent."""
    existing = selectors.enrollment_of(user, course)
    if existing is not None:
        return existing
    if not course.published:
        raise CourseActionRefused(_("This course is not open for enrollment yet."))
    missing = selectors.unmet_prerequisites(user, course)
    if missing:
        titles = ("、" if is_chinese() else ", ").join(c.title for c in missing)
        raise CourseActionRefused(
            _("Finish these courses before you enroll: %(courses)s.") % {"courses": titles}, missing=missing
        )
    try:
        with transaction.atomic():
            return Enrollment.objects.create(user=user, course=course)
    except IntegrityError:  # a double click: the other request enrolled first
        return Enrollment.objects.get(user=user, course=course)


def _require_enrollment(user: User, lesson: Lesson) -> None:
    if not Enrollment.objects.filter(user=user, course_id=lesson.course_id).exists():
        raise CourseActionRefused(_("Enroll in the course to track your progress."))


def lesson_complete(*, user: User, lesson: Lesson) -> Progress:
    """Mark ``lesson`` done (idempotent) and make it the place the learner continues from."""
    _require_enrollment(user, lesson)
    LessonCompletion.objects.get_or_create(user=user, lesson=lesson)
    lesson_visit(user=user, lesson=lesson)
    return selectors.course_progress(user=user, course=lesson.course)


def lesson_uncomplete(*, user: User, lesson: Lesson) -> Progress:
    _require_enrollment(user, lesson)
    LessonCompletion.objects.filter(user=user, lesson=lesson).delete()
    return selectors.course_progress(user=user, course=lesson.course)


def lesson_visit(*, user: User, lesson: Lesson) -> None:
    """Remember the lesson an enrolled learner is on (one UPDATE; nothing for the not enrolled)."""
    if user.is_authenticated and Enrollment.objects.filter(user=user, course_id=lesson.course_id).update(
        last_lesson=lesson, last_activity_at=timezone.now()
    ):
        cache_bump(reading_generation(user.pk))  # an UPDATE sends no signal


# --- exercises -----------------------------------------------------------------------------------


class ExerciseNotFound(Exception):
    """The lesson has no exercise with this id."""


def _exercise_of(lesson: Lesson, exercise_id: str) -> Exercise:
    exercise = lesson.exercise(exercise_id)
    if exercise is None:
        raise ExerciseNotFound(exercise_id)
    return exercise


def _progress_of(user: User, lesson: Lesson, exercise_id: str) -> ExerciseProgress:
    try:
        with transaction.atomic():
            return ExerciseProgress.objects.get_or_create(user=user, lesson=lesson, exercise=exercise_id)[0]
    except IntegrityError:  # two tries at once: the other one created it
        return ExerciseProgress.objects.get(user=user, lesson=lesson, exercise=exercise_id)


def _try_record(progress: ExerciseProgress, *, correct: bool, answer: str) -> ExerciseProgress:
    """Count one judged try; a solved exercise stays as it is (one UPDATE that skips solved rows)."""
    changes = {"tries": F("tries") + 1, "last_answer": answer, "updated_at": timezone.now()}
    if correct:
        changes.update(solved=True, solved_at=timezone.now())
    if ExerciseProgress.objects.filter(pk=progress.pk, solved=False).update(**changes):
        # an UPDATE sends no signal: what shows the learner's work (their skill profile) is told here
        learners_changed([progress.user_id])
    progress.refresh_from_db()
    return progress


def exercise_feedback(exercise: Exercise, progress: ExerciseProgress | None, *, state: str, message: str) -> Feedback:
    """What the learner reads after a check, with the hints and solution their tries earned."""
    tries = progress.tries if progress else 0
    wrong = progress.wrong_tries if progress else 0
    solved = bool(progress and progress.solved)
    return Feedback(
        state=state,
        message=message,
        tries=tries,
        solved=solved,
        hints=exercises.earned_hints(exercise, wrong),
        solution_html=exercises.earned_solution(exercise, solved=solved, wrong_tries=wrong),
    )


def exercise_check(*, user: User, lesson: Lesson, exercise_id: str, answer: list[str]) -> Feedback:
    """Judge ``answer`` (the form's values) to one exercise of ``lesson`` and record the try. An
    answer that cannot be judged (not a number, no choice) is no try. A code cell goes to the
    sandbox (``code_check_enqueue``): the feedback says "checking". ``ExerciseNotFound``."""
    exercise = _exercise_of(lesson, exercise_id)
    if exercise["kind"] == "code":
        return code_check_enqueue(user=user, lesson=lesson, exercise=exercise, code=answer[0] if answer else "")
    try:
        correct = exercises.answer_judge(exercise, answer)
    except AnswerUnreadable:
        progress = ExerciseProgress.objects.filter(user=user, lesson=lesson, exercise=exercise_id).first()
        unreadable = (
            _("That is not a number. Type digits, e.g. 2.5, -0.25, 1e-3 or 3/4.")
            if exercise["kind"] == "number"
            else _("Choose an answer first.")
        )
        return exercise_feedback(exercise, progress, state="invalid", message=unreadable)
    progress = _progress_of(user, lesson, exercise_id)
    already = progress.solved
    progress = _try_record(progress, correct=correct, answer=exercises.answer_text(exercise, answer))
    state = "correct" if correct else "wrong"
    return exercise_feedback(exercise, progress, state=state, message=_verdict(correct, already))


def _verdict(correct: bool, already_solved: bool) -> str:
    if correct:
        return _("Correct!")
    if already_solved:
        return _("Not this time — but you solved it before, and that stays.")
    return _("Not quite. Try again.")


# --- code cells, in the lab sandbox --------------------------------------------------------------


def code_check_enqueue(*, user: User, lesson: Lesson, exercise: Exercise, code: str) -> Feedback:
    """Store the cell as a ``CodeCheck`` and send it to the site worker, which runs it in the lab
    sandbox (``code_check_run``). One check at a time per learner and exercise; a broker that is
    away fails the check at once (not a try)."""
    progress = ExerciseProgress.objects.filter(user=user, lesson=lesson, exercise=exercise["id"]).first()
    if not code.strip() or len(code) > exercises.MAX_CODE_CHARS:
        message = _("Write some code first.") if not code.strip() else _("That cell is too long to check.")
        return exercise_feedback(exercise, progress, state="invalid", message=message)
    pending = CodeCheck.objects.filter(
        user=user,
        lesson=lesson,
        exercise=exercise["id"],
        state=CodeCheckState.QUEUED,
        created_at__gt=timezone.now() - CODE_CHECK_STALE,
    )
    if pending.exists():
        message = _("Your last cell is still being checked.")
        return exercise_feedback(exercise, progress, state="checking", message=message)
    check = CodeCheck.objects.create(user=user, lesson=lesson, exercise=exercise["id"], code=code.replace("\x00", ""))
    transaction.on_commit(lambda: _code_check_send(check_id=check.pk))
    return exercise_feedback(exercise, progress, state="checking", message=_("Checking your code…"))


def _code_check_send(*, check_id: int) -> None:
    sent = False
    if broker_reachable():
        try:
            celery_app.send_task(
                CODE_CHECK_TASK, args=[check_id], queue="default", ignore_result=True, retry_policy=PUBLISH_RETRY_POLICY
            )
            sent = True
        except Exception:
            logger.exception("could not queue code check %s", check_id)
    if not sent:
        _code_check_finish(
            check_id=check_id,
            state=CodeCheckState.FAILED,
            passed=None,
            message=_("The checker is not reachable just now; this did not count as a try. Try again in a minute."),
        )


def _code_check_finish(*, check_id: int, state: str, passed: bool | None, message: str) -> bool:
    """Move a queued check to its end (once: a replayed task changes nothing); whether it moved."""
    moved = CodeCheck.objects.filter(pk=check_id, state=CodeCheckState.QUEUED).update(
        state=state, passed=passed, message=message.replace("\x00", ""), finished_at=timezone.now()
    )
    return bool(moved)


def code_check_run(*, check_id: int) -> None:
    """Run one queued ``CodeCheck`` in the lab sandbox (the harness's ``exercise`` task: the cell,
    then the exercise's check) and record it as a try. A time limit, a crash or an error in the
    cell is the learner's try, with the reason as its message. Runs on the site worker."""
    from workers.author_jobs import AuthorJobFailed, run_author_job
    from workers.harness import EXERCISE_CELL_FILE, EXERCISE_CHECK_FILE

    check = CodeCheck.objects.select_related("lesson", "user").filter(pk=check_id, state=CodeCheckState.QUEUED).first()
    if check is None:
        return
    exercise = check.lesson.exercise(check.exercise)
    if exercise is None or exercise["kind"] != "code":
        _code_check_finish(check_id=check_id, state=CodeCheckState.FAILED, passed=None, message="")
        return
    files = {EXERCISE_CELL_FILE: check.code.encode(), EXERCISE_CHECK_FILE: exercise["check"].encode()}
    try:
        output = run_author_job("exercise", files, timeout=exercises.CODE_TIMEOUT_S, result_max_bytes=16 * 1024)
        passed, message = _exercise_result(output)
    except AuthorJobFailed as failed:
        passed, message = False, _sandbox_failure(str(failed))
    if _code_check_finish(check_id=check_id, state=CodeCheckState.DONE, passed=passed, message=message):
        progress = _progress_of(check.user, check.lesson, check.exercise)
        _try_record(progress, correct=passed, answer=exercises.answer_text(exercise, [check.code]))


def _exercise_result(output: str) -> tuple[bool, str]:
    """``out/exercise.json`` came out of the sandbox: read it as hostile, word it for the learner."""
    unreadable = False, _("Your code's result could not be read.")
    try:
        result = json.loads(output)
        passed, printed, error = result["passed"], result.get("output") or "", result.get("error")
        message = str(result.get("message") or "")[:1000]
    except (ValueError, KeyError, TypeError, AttributeError):
        return unreadable
    if not isinstance(passed, bool) or not isinstance(printed, str) or not isinstance(error, dict | None):
        return unreadable
    if passed:
        return True, _("Correct! Your code passes every check.")
    text = _error_words(error) if error else message or _("A check of your code failed.")
    if printed.strip():
        text += "\n" + _("Your code printed:") + "\n" + printed[:2000]
    return False, text


def _error_words(error: dict) -> str:
    """``Your code raised NameError: name 'y' is not defined (line 2).``"""
    kind, detail, line = str(error.get("type") or "")[:100], str(error.get("detail") or "")[:1000], error.get("line")
    raised = f"{kind}: {detail}" if detail else kind
    if error.get("where") == "cell":
        text = _("Your code raised %(error)s") % {"error": raised}
    else:
        text = _("The check raised %(error)s — does your code define every name the exercise asks for?") % {
            "error": raised
        }
    if isinstance(line, int) and not isinstance(line, bool):
        text += " " + _("(line %(line)d)") % {"line": line}
    return text


def _sandbox_failure(reason: str) -> str:
    """The sandbox's reason (``limit: time (10 s)`` and the output's end) in the learner's words."""
    first, _newline, rest = reason.partition("\n")
    if first.startswith("limit: time"):
        first = _("Your code did not finish within %(seconds)d seconds.") % {"seconds": exercises.CODE_TIMEOUT_S}
    elif first.startswith("limit: memory"):
        first = _("Your code used more memory than a cell may.")
    else:
        first = _("Your code stopped the checker: %(reason)s") % {"reason": first[:300]}
    return f"{first}\n{rest[-1000:]}".strip()
