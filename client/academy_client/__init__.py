"""The learners' client of the AI academy: the ``academy`` command, and ``submit`` for notebooks.

    from academy_client import submit
    run = submit("digits-mlp")                      # the code cells this notebook has run
    run = submit("digits-mlp", file="solution.py", params={"epochs": 5})

Nothing heavy is imported here: the harness process of ``academy test`` starts from this package.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "submit"]


def submit(
    lab: str,
    file: str | None = None,
    *,
    params: dict[str, Any] | None = None,
    wait: bool = True,
    timeout: float | None = None,
    url: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Submit to ``lab`` the code of this notebook (or ``file``), follow the run live, return the run.

    See ``academy_client.notebook.submit`` for what is taken from a notebook."""
    from academy_client.notebook import submit as notebook_submit

    return notebook_submit(lab, file, params=params, wait=wait, timeout=timeout, url=url, token=token)
