"""Content written in both languages: pick the active one, fall back to the other."""

from __future__ import annotations

from django.utils import translation


def is_chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def bilingual(en: str, zh: str) -> str:
    """The text in the active language, falling back to the other one when it is empty."""
    if is_chinese():
        return zh or en
    return en or zh
