"""Property tests (Hypothesis) of what learners and administrators upload: solution files (.py and
.ipynb) and roster CSVs. Whatever the bytes, the answer is a clean result or a clear refusal
(``SubmissionRejected``/``ContractError``, ``RosterError``, a per-row "invalid"), never another
exception; accepted code compiles; a roster import ends DONE with one outcome a row, and a refused
row leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import string
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cohorts.background import job_result_text, text_file
from cohorts.models import Cohort, CohortMember, Job
from cohorts.roster import COLUMNS, REPORT_COLUMNS, Outcome, RosterError, roster_decode, roster_import_run, roster_parse
from core.models import Role, User
from labs.validation import KINDS, PreparedCode, SubmissionRejected, kind_of, prepare_code
from tests.factories import CohortFactory, UserFactory
from workers.contract import ContractError, check_source, notebook_to_source

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DB_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

T = TypeVar("T")
CONTRACT = "def train(data, run):\n    return None\n\ndef predict(model, x):\n    return x\n"


def attempt(call: Callable[[], T], refusal: type[Exception]) -> tuple[T | None, Exception | None]:
    """(result, None) or (None, the refusal); any other exception propagates and fails the test."""
    try:
        return call(), None
    except refusal as error:
        return None, error


def assert_clean_or_rejected(raw: bytes, kind: str) -> PreparedCode | None:
    prepared, rejected = attempt(lambda: prepare_code(raw, kind), SubmissionRejected)
    if rejected is not None:
        assert rejected.errors and all(isinstance(e, str) and e for e in rejected.errors)
        return None
    assert check_source(prepared.code) == []
    compile(prepared.code, "solution.py", "exec", dont_inherit=True)  # accepted code is valid Python
    prepared.code.encode("utf-8")  # and storable text
    json.dumps(prepared.notes).encode("utf-8")
    assert "\x00" not in json.dumps(prepared.notes, ensure_ascii=False)  # PostgreSQL's jsonb refuses NUL
    return prepared


# --- Code files --------------------------------------------------------------------------------------


@FUZZ
@given(raw=st.binary(max_size=4096), kind=st.sampled_from(sorted(set(KINDS.values()))))
@example(raw=b"[" * 100_000 + b"]" * 100_000, kind="ipynb")  # nested too deep for the JSON decoder
@example(raw=b'{"cells": [], "n": ' + b"1" * 5000 + b"}", kind="ipynb")  # an int Python will not convert
@example(raw=b'{"worksheets": [{"cells": 5}]}', kind="ipynb")
@example(raw=b"-" * 200_000 + b"1", kind="py")  # nested too deep for the parser
@example(raw=b"a" + b".b" * 100_000, kind="py")
@example(raw=b"return 1\n" + CONTRACT.encode(), kind="py")  # parses, but does not compile
def test_any_bytes_give_clean_code_or_a_clear_rejection(raw: bytes, kind: str) -> None:
    assert_clean_or_rejected(raw, kind)


@FUZZ
@given(source=st.text(max_size=2000))
@example(source="x = '\ud800'")
@example(source="\x00")
def test_any_text_gives_a_list_of_contract_problems(source: str) -> None:
    problems = check_source(source)
    assert all(p.message for p in problems)
    if not problems:
        compile(source, "solution.py", "exec", dont_inherit=True)


@FUZZ
@given(name=st.text(max_size=80))
def test_any_file_name_is_a_known_kind_or_refused(name: str) -> None:
    kind, rejected = attempt(lambda: kind_of(name), SubmissionRejected)
    assert kind in KINDS.values() if rejected is None else "Upload a .py file or a .ipynb notebook" in str(rejected)


# Lines a notebook cell may hold: Python, and the IPython syntax the conversion must drop.
PYTHON_LINES = ["import math", "x = 1", "print('hi')", "", "# a comment", "y = [i for i in range(3)]"]
IPYTHON_LINES = [
    "%matplotlib inline",
    "%load_ext autoreload",
    "!pip install torch",
    "files = !ls",
    "t = %timeit sum(range(9))",
    "math.sqrt?",
    "??len",
]
BLOCKS = ["for i in range(2):\n    %time y = i\n", "if True:\n    !echo hi\n", "def helper():\n    %who\n"]
CELL_MAGICS = ["%%time", "%%timeit", "%%capture out", "%%bash", "%%writefile a.py", "%%javascript", "%%"]
NOISE = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def code_cell_source(draw: st.DrawFn, *, clean: bool) -> str | list[str]:
    lines = draw(st.lists(st.sampled_from(PYTHON_LINES + IPYTHON_LINES + BLOCKS), max_size=8))
    if not clean:
        lines += draw(st.lists(NOISE, max_size=3))
    magic = draw(st.sampled_from([None, *CELL_MAGICS]))
    if magic:
        lines.insert(0, magic)
    text = "\n".join(lines)
    return text.splitlines(keepends=True) if draw(st.booleans()) else text


@st.composite
def notebooks(draw: st.DrawFn) -> tuple[bytes, bool]:
    """An nbformat-like notebook as bytes, and whether it should be accepted."""
    clean = draw(st.booleans())
    cells = []
    for _ in range(draw(st.integers(0, 6))):
        cell_type = draw(st.sampled_from(["code", "markdown", "raw"] if clean else ["code", "markdown", "raw", "x"]))
        source = draw(code_cell_source(clean=clean)) if cell_type == "code" else draw(NOISE)
        cells.append({"cell_type": cell_type, "metadata": {}, "source": source})
    with_contract = draw(st.booleans())
    if with_contract:
        cells.insert(draw(st.integers(0, len(cells))), {"cell_type": "code", "source": CONTRACT.splitlines(True)})
    damaged = False
    if not clean and cells and draw(st.booleans()):  # damage one cell in a way a real file could be
        index = draw(st.integers(0, len(cells) - 1))
        cells[index] = draw(st.sampled_from([None, 3, "cell", {"cell_type": "code", "source": [1, 2]}]))
        damaged = True
    if draw(st.booleans()):
        notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    else:  # nbformat 3
        for cell in cells:
            if isinstance(cell, dict) and "source" in cell:
                cell["input"] = cell.pop("source")
        notebook = {"worksheets": [{"cells": cells}], "nbformat": 3}
    raw = json.dumps(notebook, ensure_ascii=draw(st.booleans())).encode()
    if draw(st.booleans()):
        raw = b"\xef\xbb\xbf" + raw  # a byte-order mark, as some editors write
    return raw, clean and with_contract and not damaged


@FUZZ
@given(case=notebooks())
def test_any_notebook_gives_valid_python_or_a_clear_rejection(case: tuple[bytes, bool]) -> None:
    raw, should_pass = case
    converted, error = attempt(lambda: notebook_to_source(raw), ContractError)
    if error is not None:
        assert str(error) and not should_pass
    else:
        source, notes = converted
        assert isinstance(source, str) and all(isinstance(n, str) for n in notes)
    prepared = assert_clean_or_rejected(raw, "ipynb")
    if should_pass:  # Python lines and IPython syntax only: the conversion must leave valid Python
        assert prepared is not None, prepare_code(raw, "ipynb")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(
    value=st.fixed_dictionaries(
        {},
        optional={
            "cells": JSON_VALUES,
            "worksheets": st.lists(st.dictionaries(st.sampled_from(["cells", "x"]), JSON_VALUES), max_size=3),
        },
    )
    | JSON_VALUES
)
def test_any_json_is_read_as_a_notebook_or_refused(value: object) -> None:
    raw = json.dumps(value).encode()
    converted, error = attempt(lambda: notebook_to_source(raw), ContractError)
    assert (converted is None) == bool(error and str(error))
    assert_clean_or_rejected(raw, "ipynb")


# --- Roster CSVs -------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "gb18030", "cp1252"]


@FUZZ
@given(text=st.text(max_size=300), encoding=st.sampled_from(ENCODINGS))
@example(text="username\n" + "a" * (1024 * 1024), encoding="utf-8")  # over the size limit
def test_any_file_bytes_decode_to_text_or_a_clear_refusal(text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", errors="surrogatepass")
    decoded, error = attempt(lambda: roster_decode(data), RosterError)
    if error is None:
        assert isinstance(decoded, str) and not decoded.startswith("\ufeff")
    else:
        assert str(error)


@FUZZ
@given(text=st.text(max_size=400))
@example(text="username\n" + "x" * 200_000 + "\n")  # one field over the csv module's limit
@example(text="username\n\x00\n")
@example(text="email,name\n\ud800,x\n")
@example(text='username\n"unterminated\n')
def test_any_text_parses_to_rows_or_a_clear_refusal(text: str) -> None:
    rows, error = attempt(lambda: roster_parse(text), RosterError)
    if error is not None:
        assert str(error)
    else:
        assert 0 < len(rows) <= 5000
        assert all(r.username or r.email or r.name or r.cohort or r.mentor or r.overflow for r in rows)


# Cells an administrator's spreadsheet may hold, good and hostile.
CELLS = st.one_of(
    st.sampled_from(
        [
            "lena",
            "omar",
            "maria",
            "spring",
            "autumn",
            "",
            "  lena  ",
            "LENA",
            "new@example.com",
            "NEW@example.com",
            "lena@example.com",
            "not-an-email",
            "a@b",
            "bad name!",
            '=HYPERLINK("http://x","y")',
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "名字",
            "x" * 151,
            "y" * 250 + "@example.com",
            "z" * 300,
            'quo"te',
            "a,b",
            "a;b",
            "line\nbreak",
        ]
    ),
    st.emails().map(str),
    st.text(alphabet=string.ascii_letters + string.digits + "._-@+ ", max_size=20),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)


@st.composite
def rosters(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from([*COLUMNS, "Email ", "USERNAME"]), min_size=1, max_size=6, unique=True))
    delimiter = draw(st.sampled_from([",", ";"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(names)
    for _ in range(draw(st.integers(0, 8))):
        writer.writerow(draw(st.lists(CELLS, min_size=0, max_size=len(names) + 1)))
    return ("\ufeff" if draw(st.booleans()) else "") + out.getvalue()


@pytest.fixture
def roster_world(db: None) -> tuple[User, Cohort]:
    admin = UserFactory(role=Role.ADMIN, username="ada")
    UserFactory(role=Role.LEARNER, username="lena", email="lena@example.com")
    UserFactory(role=Role.LEARNER, username="omar", email="")
    UserFactory(role=Role.MENTOR, username="maria")
    CohortFactory(slug="autumn")
    return admin, CohortFactory(slug="spring")


@DB_FUZZ
@given(text=rosters(), for_one_cohort=st.booleans())
def test_any_roster_imports_row_by_row_and_never_fails_the_job(
    roster_world: tuple[User, Cohort], text: str, for_one_cohort: bool
) -> None:
    admin, spring = roster_world
    with transaction.atomic():  # each example starts from the same world
        users_before = User.objects.count()
        rows, error = attempt(lambda: roster_parse(text), RosterError)
        if error is not None:
            return
        job = Job(kind=Job.Kind.ROSTER_IMPORT, requested_by=admin, cohort=spring if for_one_cohort else None)
        job.input_file.save("roster.csv", text_file(text), save=False)
        job.save()
        roster_import_run(job_id=job.pk)
        job.refresh_from_db()
        assert (job.state, job.error) == ("done", "")  # an unexpected error would fail the whole import
        summary = job.summary
        assert summary["rows"] == len(rows)
        assert summary["added"] + summary["already_present"] + summary["invalid"] == len(rows)
        assert CohortMember.objects.count() == summary["added"]  # refused rows leave no membership...
        assert User.objects.count() == users_before + summary["invited"]  # ...and no account
        report = list(csv.reader(io.StringIO(job_result_text(job))))
        assert report[0] == list(REPORT_COLUMNS) and len(report) == len(rows) + 1
        for line in report[1:]:
            assert line[4] in Outcome.values
            assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for cell in line[1:])  # no formulas
        transaction.set_rollback(True)
