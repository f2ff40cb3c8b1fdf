"""The client ships the platform's own harness, contract and scoring: the same files, not copies.

In the repository they are symlinks into workers/ and labs/; a built wheel holds their contents.
They must keep working on the oldest Python the client supports and import nothing the client
does not depend on (the standard library and numpy; torch only inside the harness's functions).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[1]
REPO = CLIENT.parent
PLATFORM = CLIENT / "academy_client" / "_platform"
SHARED = {"harness.py": "workers/harness.py", "contract.py": "workers/contract.py", "scoring.py": "labs/scoring.py"}
OLDEST_PYTHON = (3, 10)
ALLOWED_TOP_LEVEL = set(sys.stdlib_module_names) | {"numpy"}


@pytest.mark.parametrize(("name", "origin"), SHARED.items())
def test_each_shared_module_is_a_link_to_the_platforms_file(name: str, origin: str) -> None:
    link = PLATFORM / name
    assert link.is_symlink(), f"{link} must stay a symlink to {origin}, not a copy"
    assert link.resolve() == (REPO / origin).resolve()


@pytest.mark.parametrize("origin", SHARED.values())
def test_the_shared_modules_parse_on_the_oldest_supported_python(origin: str) -> None:
    ast.parse((REPO / origin).read_text(), feature_version=OLDEST_PYTHON)


@pytest.mark.parametrize("origin", SHARED.values())
def test_the_shared_modules_import_only_the_standard_library_and_numpy_at_the_top(origin: str) -> None:
    tree = ast.parse((REPO / origin).read_text())
    imported = set()
    for node in tree.body:  # module level; the harness imports torch inside its functions
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED_TOP_LEVEL, imported - ALLOWED_TOP_LEVEL


def test_the_client_itself_imports_no_site_code() -> None:
    forbidden = ("django", "rest_framework", "labs", "workers", "core", "config", "requests")
    for path in (CLIENT / "academy_client").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in forbidden], f"{path.name} imports {names}"


def wheel_build(tmp_path: Path, *, links_as_text: bool = False) -> zipfile.ZipFile:
    """A wheel of a copy of the client beside the three files, so that the links resolve as in the repository;
    ``links_as_text``: the links as Git on Windows checks them out without symlinks (one-line files)."""
    setuptools = pytest.importorskip("setuptools")  # the build backend, from this environment (no download)
    if tuple(int(part) for part in setuptools.__version__.split(".")[:2]) < (70, 1):
        pytest.importorskip("wheel")  # older setuptools builds wheels with the `wheel` package
    shutil.copytree(CLIENT, tmp_path / "client", symlinks=True, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    for name, origin in SHARED.items():
        (tmp_path / origin).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / origin, tmp_path / origin)
        link = tmp_path / "client/academy_client/_platform" / name
        if links_as_text:
            target = os.readlink(link)
            link.unlink()
            link.write_text(target)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
         str(tmp_path / "client")],
        capture_output=True, text=True, env={**os.environ, "PIP_NO_INDEX": "1"}, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("academy_client-*.whl")
    return zipfile.ZipFile(wheel)


@pytest.mark.parametrize("links_as_text", [False, True], ids=["symlinks", "links-checked-out-as-text"])
def test_a_built_wheel_holds_the_platforms_files(tmp_path: Path, links_as_text: bool) -> None:
    with wheel_build(tmp_path, links_as_text=links_as_text) as archive:
        for name, origin in SHARED.items():
            assert archive.read(f"academy_client/_platform/{name}") == (REPO / origin).read_bytes()
        entry_points = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt"))).decode()
    assert "academy = academy_client.cli:main" in entry_points
