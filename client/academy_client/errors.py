"""What can go wrong, each with the exit status the ``academy`` command gives it.

0 passed, 1 not passed (or failed, timed out), 2 rejected by the platform, 3 usage, connection or
authentication errors — the statuses of ``manage.py submit_lab``, plus 3.
"""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_NOT_PASSED = 1
EXIT_REJECTED = 2
EXIT_ERROR = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it

TOKEN_REFUSED = "your token is invalid or revoked: run academy login"  # noqa: S105 - a message


class AcademyError(Exception):
    """A failure the learner can act on; its message says how."""

    exit_code = EXIT_ERROR


class UsageError(AcademyError):
    """A wrong command line, a missing file or setting."""


class ConnectionFailed(AcademyError):
    """The platform could not be reached, or did not answer in time."""


class AuthFailed(AcademyError):
    """No token, a refused one, or wrong credentials."""


class NotFound(AcademyError):
    """The platform answered 404."""


class ServerError(AcademyError):
    """The platform failed (5xx), or its answer was not what the API sends."""


class Rejected(AcademyError):
    """The platform refused a submission (400 with its errors, the daily quota, the rate limit)."""

    exit_code = EXIT_REJECTED

    def __init__(self, errors: list[str]) -> None:
        super().__init__("submission rejected:\n  " + "\n  ".join(errors))
        self.errors = errors
