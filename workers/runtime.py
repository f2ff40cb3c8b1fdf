"""The Python environment learner code runs on: the interpreter's standard library plus
``requirements/lab-runtime.txt`` (torch, numpy and what they need), and nothing else.

Not the worker's own virtualenv: that one holds scikit-learn, whose bundled copy of the digits
data let learner code look up every test row of a lab (the outside review's finding 4), and
Django, Celery and the site's code. Built once by ``make`` (``python -m workers.runtime build``)
into ``$LAB_RUNTIME_DIR`` (default ``<repo>/var/lab-runtime``); the lab worker image builds the
same into ``/opt/lab-runtime``.

Inside the sandbox its packages are mounted at ``/opt/labrunner/site-packages`` and compiled
for that path, and nothing in it names the host: no console scripts (their ``#!`` line is
the builder's interpreter) and no ``direct_url.json`` (the wheel's path on the builder).
The interpreter's own site-packages folders are hidden under empty mounts.

Standard library only: the supervisor imports this module.
"""

from __future__ import annotations

import argparse
import os
import site
import subprocess
import sys
from pathlib import Path

from workers.jobdirs import remove_tree

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements" / "lab-runtime.txt"
SITE_INSIDE = "/opt/labrunner/site-packages"
BUILT_MARK = ".built"


def runtime_dir() -> Path:
    return Path(os.environ.get("LAB_RUNTIME_DIR") or REPO_ROOT / "var" / "lab-runtime")


def site_packages() -> Path | None:
    """The built runtime's packages folder, or None when it has not been built."""
    folder = runtime_dir()
    return folder / "site-packages" if (folder / BUILT_MARK).is_file() else None


def base_python() -> str:
    """The interpreter itself, not a virtualenv's wrapper (whose pyvenv.cfg names the venv)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def interpreter_site_dirs() -> list[str]:
    """The base interpreter's own site-packages folders that exist: hidden in the sandbox."""
    prefixes = {sys.base_prefix, sys.base_exec_prefix}
    candidates = set(site.getsitepackages(list(prefixes)))
    candidates |= {"/usr/lib/python3/dist-packages", f"/usr/local/lib/python3.{sys.version_info.minor}/dist-packages"}
    return sorted(os.path.realpath(p) for p in candidates if os.path.isdir(p))


def build(target: Path, requirements: Path = REQUIREMENTS) -> None:
    """Install ``requirements`` into ``target/site-packages``, replacing what was there."""
    staging = target.with_name(target.name + ".new")
    remove_tree(staging)
    packages = staging / "site-packages"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    subprocess.run([*pip, "--target", str(packages), "-r", str(requirements)], check=True)
    remove_tree(packages / "bin")
    for origin in packages.glob("*.dist-info/direct_url.json"):
        origin.unlink()
    # Compiled for the path they have in the sandbox (read-only there: no .pyc can be written
    # at run time, and without them every fresh sandbox would compile torch again).
    # A few files are not meant to compile (templates, test data): compileall's status says so, and
    # those are then compiled, or fail, at import time as usual.
    compile_all = [sys.executable, "-m", "compileall", "-q", "-j", "0", "-d", SITE_INSIDE, str(packages)]
    subprocess.run(compile_all, check=False, stdout=subprocess.DEVNULL)
    (staging / BUILT_MARK).write_text(requirements.read_text())
    remove_tree(target)
    os.rename(staging, target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the lab runtime (what learner code runs on).")
    parser.add_argument("command", choices=["build", "path"])
    args = parser.parse_args(argv)
    if args.command == "build":
        build(runtime_dir())
    print(runtime_dir())


if __name__ == "__main__":
    main()
