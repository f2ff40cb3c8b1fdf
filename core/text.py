"""Text as every database we run on can store it.

PostgreSQL refuses NUL in text (psycopg2 raises before sending) and "\\u0000" in jsonb; a lone
surrogate (a str such as "\\ud800", from a JSON escape or a ``surrogateescape`` decoding) cannot be
encoded as UTF-8 at all. SQLite stores both, so nothing else in the suite would notice. Learner
output, metric names, file names and comments can hold either: pass them through ``db_text``
before they are written.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def db_text(value: str) -> str:
    """``value`` without NUL characters and with every lone surrogate replaced by U+FFFD.

    A surrogate pair ("\\ud83d\\ude00") becomes the character it encodes, as a JSON decoder reads
    it; every other character, 4-byte ones (emoji, CJK extensions) included, is kept."""
    if not _UNSTORABLE.search(value):
        return value
    joined = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined.replace("\x00", "")
