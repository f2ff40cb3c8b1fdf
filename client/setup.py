"""Build hook for a checkout without symlinks (Git on Windows with ``core.symlinks=false``).

``academy_client/_platform/*.py`` are symlinks to the platform's own modules; where Git could not
make them, each is a one-line text file naming its target, and the wheel gets the target's contents
instead. With real symlinks (Linux, macOS) this changes nothing: setuptools copies what they point to.
"""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PLATFORM = Path("academy_client", "_platform")
LINK_TEXT = re.compile(r"(\.\./)+[\w./-]+\.py")


def link_target(source: Path) -> Path | None:
    """The file a symlink checked out as text names, or None for a real module."""
    if source.is_symlink() or source.stat().st_size > 200:
        return None
    text = source.read_text(encoding="utf-8", errors="replace")
    return (source.parent / text).resolve() if LINK_TEXT.fullmatch(text) else None


class BuildPy(build_py):
    def build_module(self, module: str, module_file: str, package: str) -> tuple[str, bool]:
        built = super().build_module(module, module_file, package)
        target = link_target(Path(module_file)) if Path(module_file).parent == PLATFORM else None
        if target is not None:
            Path(built[0]).write_bytes(target.read_bytes())
        return built


setup(cmdclass={"build_py": BuildPy})
