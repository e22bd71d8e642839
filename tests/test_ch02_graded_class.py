"""Chapter 2 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/02_alexnet_counting, gets exactly the expected points.

The points follow from otter's rule (a question's points are shared equally among its test cases) and
from which hidden cases each wrong answer fails (tests/test_ch02_grading.py shows those one by one). Four
notebooks execute the chapter; the mutations are combined where the points stay exact:

* untouched: the released notebook, 0 on every question;
* full_marks_reshuffled: every answer from the chapter, all metadata and cell ids stripped, the count_ops
  cell run twice, a code and a markdown cell of the student's own, the timing cell deleted: full marks;
* wrong_and_forged: a plausible wrong answer to every question, every self-check replaced by a cell that
  prints PASSED, two independent cells swapped, the timing cell deleted: the wrong answers' points;
* crash_and_endless_loop: a first cell that raises, and an endless loop as the answer to q2c (and the
  timing cell deleted): the loop is interrupted at the cell limit and the rest is graded (q2c earns
  nothing);
* broken (not JSON) and not_a_notebook.txt: a row each, with the reason."""

import copy
import csv
import io
import json
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import CHAPTERS, ROOT
from test_ch02_grading import (
    AT_224,
    CELL,
    FLOAT_DIVISION,
    GROUPS_FIXED_AT_TWO,
    KERNEL_IN_TWO_DIMENSIONS,
    NO_GROUPS_CHECK,
    ONLY_CONV_AND_LINEAR,
    replace_region,
)

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "02_alexnet_counting"
ANSWER_CELLS = (
    "count_parameters",
    "output_size",
    "rule",
    "count_ops",
    "answers",
    "conv_counts",
    "grouped",
)
WRONG = {
    "count_parameters": ONLY_CONV_AND_LINEAR,  # fails 4 of 5 cases: 0.4 of 2
    "output_size": FLOAT_DIVISION,  # 1 of 3: 0.666667 of 1
    "rule": KERNEL_IN_TWO_DIMENSIONS,  # 1 of 6: 2.5 of 3
    "answers": AT_224,  # 2 of 3: 0.666667 of 2
    "conv_counts": NO_GROUPS_CHECK,  # 1 of 2: 0.5 of 1
    "grouped": GROUPS_FIXED_AT_TWO,  # 1 of 2: 0.5 of 1
}
TIMING_CELL = "def time_by_kind("
SWAPPED = ("counted = [r for r in op_rows", "BATCH_SMALL, BATCH_LARGE = 1, 64")
HEADER = (
    "submission,q2a_params,q2b_output_size,q2b_ops,q2c_answers,q2_ex_conv_counts,"
    "q2_ex_grouped,total,possible,note"
)
NOT_JSON = '{"cells": [{"cell_type": "code", "source": "print(1)"'
EXPECTED = {  # submission: (points per question and total, note)
    "broken": (
        "0,0,0,0,0,0,0",
        # the reason's first line, cut at 150 characters
        "not a valid notebook (NotJSONError: Notebook does not appear to be JSON: "
        '\'{"cells": [{"cell_type": "code", "sourc...)',
    ),
    "crash_and_endless_loop": (
        "2,1,3,0,1,1,8",
        "1 cell(s) interrupted after CELL_TIMEOUT",
    ),
    "full_marks_reshuffled": ("2,1,3,2,1,1,10", ""),
    "not_a_notebook": ("0,0,0,0,0,0,0", "not a notebook (.ipynb): not_a_notebook.txt"),
    "untouched": ("0,0,0,0,0,0,0", ""),
    # otter rounds a question's score to 5 decimals: 2/3 is 0.66667, and the total 5.23334
    "wrong_and_forged": ("0.4,0.66667,2.5,0.66667,0.5,0.5,5.23334", ""),
}


def student():
    return copy.deepcopy(
        list(make_student.student_notebooks([CHAPTERS / f"{STEM}.md"]).values())[0]
    )


def index_of(notebook, phrase):
    found = [
        i
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and phrase in c.source
    ]
    assert len(found) == 1, f"{len(found)} cells contain {phrase!r}"
    return found[0]


def with_answers(notebook, wrong=None):
    """The student notebook answered: every stub's cell from the chapter, with the wrong bodies of
    `wrong` = {answer cell: body} put in."""
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    for key, body in (wrong or {}).items():
        replace_region(cells, key, body)
    for key in ANSWER_CELLS:
        chapter = [c for c in cells if c.cell_type == "code" and CELL[key] in c.source]
        cell = notebook.cells[index_of(notebook, CELL[key])]
        assert "NotImplementedError" in cell.source, f"{key}: not a stub"
        cell.source = chapter[0].source
    return notebook


def make_class(folder: Path):
    folder.mkdir()
    subs = {"untouched": student()}

    full = with_answers(student())
    at = index_of(full, CELL["count_ops"])
    full.cells.insert(at + 1, copy.deepcopy(full.cells[at]))  # run twice
    full.cells.insert(2, nbformat.v4.new_code_cell('my_notes = "try the VGG next"'))
    full.cells.insert(
        3, nbformat.v4.new_markdown_cell("My notes: count by hand first.")
    )
    del full.cells[index_of(full, TIMING_CELL)]
    stripped = json.loads(nbformat.writes(full))
    stripped["metadata"] = {}
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)

    wrong = with_answers(student(), WRONG)
    forged = 0
    for cell in wrong.cells:
        if cell.cell_type == "code" and cell.source.startswith("# Self-check"):
            cell.source = 'print("PASSED: all checks")'
            forged += 1
    assert forged == 6, f"{forged} self-checks forged"
    i, j = (index_of(wrong, phrase) for phrase in SWAPPED)
    wrong.cells[i], wrong.cells[j] = wrong.cells[j], wrong.cells[i]
    del wrong.cells[index_of(wrong, TIMING_CELL)]
    subs["wrong_and_forged"] = wrong

    looping = with_answers(student(), {"answers": "while True:\n    pass"})
    looping.cells.insert(
        0, nbformat.v4.new_code_cell('raise RuntimeError("a crash in the first cell")')
    )
    del looping.cells[index_of(looping, TIMING_CELL)]
    subs["crash_and_endless_loop"] = looping

    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "full_marks_reshuffled.ipynb").write_text(json.dumps(stripped))
    (folder / "broken.ipynb").write_text(NOT_JSON)
    (folder / "not_a_notebook.txt").write_text("my answers: 61 million parameters")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, autograders):
    base = tmp_path_factory.mktemp("ch2_class")
    # A cell may take 40 s (the endless loop's cost): the slowest, the setup's imports and the timing by
    # layer kind, take ~6 s and ~4 s alone.
    return grading_support.grade_class(
        base, STEM, autograders, make_class, cell_timeout=40, timeout=900
    )


def test_the_class_gets_its_exact_points(graded):
    out, _ = graded
    text = (out / f"{STEM}.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER.split(",")
    got = {row[0]: (",".join(row[1:-2]), row[-2], row[-1]) for row in rows[1:]}
    want = {name: (points, "10", note) for name, (points, note) in EXPECTED.items()}
    assert got == want, text


def test_feedback_names_the_mistakes(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_and_forged.md").read_text()
    for phrase in (
        "every module that owns parameters itself is a row",
        "a float has 53 bits",
        "in 1, 2 or 3 dimensions",
        "is the count for a 224x224 input",
        "must raise ValueError, not count",
        "group conv2, conv4 and conv5 by the argument",
    ):
        assert phrase in feedback, phrase
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched
    looping = (out / STEM / "feedback" / "crash_and_endless_loop.md").read_text()
    assert "answers lacks the keys" in looping
