"""Chapter 5 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/05_fully_convolutional, gets exactly the expected points.

The chapter takes a minute or more to run, so the mutations are combined into three notebooks that
execute (plus two files that cannot be graded and cost nothing):

* untouched -- the released notebook: 0 on every autograded question (it stops at no cell: otter runs
  every cell, and every answer raises NotImplementedError);
* correct_mangled -- every stub's cell from the chapter, with all metadata stripped, the convolutionalize
  cell run twice (duplicated), a cell of the student's own inserted, the two timing cells deleted (the
  later cells that report the timings then fail), and a crash (raise) at the end of the first cell:
  full marks, since a failing cell does not stop the grading;
* wrong_forged -- a plausible wrong answer for every question (each passes its public self-check:
  tests/test_ch05_grading.py), every self-check cell forged to print PASSED, two independent cells
  swapped, the figure's cell and the timing cells deleted, and an endless loop before
  `def smallest_side(` in its cell: the loop is interrupted at the cell limit and the rest is graded; a
  forged check earns nothing.

No hidden test needs the timings, and without them no cell takes more than ~10 s alone, so the cell
limit (the endless loop's cost) can be short.

The points follow from otter's rule (a question's points are shared equally among its test cases) and
from which hidden cases each wrong answer fails (tests/test_ch05_grading.py shows them one by one)."""

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
from nbformat import v4
from test_ch05_grading import (
    BATCH_OF_ONE,
    COARSE_ON_CLASSIFIER_0,
    FIRST_LINEAR_BY_INDEX,
    JUMP_OF_THE_POOLS,
    NET2_WITHOUT_CHECKS,
    TYPED_SIDES,
    replace_region,
)

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "05_fully_convolutional"
# the lines that open the stubbed functions, and the cells holding them
ANSWER_CELLS = (
    "class Net2(",
    "def convolutionalize(",
    "def scores_batched(",
    "def coarse_twin(",
    "def scores_by_windows(",
    "def smallest_side(",
)
WRONG = [
    ("def copy_weights_from(", NET2_WITHOUT_CHECKS),  # fails 1 of 3 cases
    ("def convolutionalize(", FIRST_LINEAR_BY_INDEX),  # fails 1 of 4
    ("def scores_batched(", BATCH_OF_ONE),  # fails 1 of 3
    ("def coarse_twin(", COARSE_ON_CLASSIFIER_0),  # fails 2 of 2
    ("def scores_by_windows(", JUMP_OF_THE_POOLS),  # fails 1 of 2
    ("def smallest_side(", TYPED_SIDES),  # its cell never finishes (the loop): 0
]
HEADER = (
    "submission,q5a_net2,q5b_convolutionalize,q5c_proof,q5c_windows,q5_ex_coarse,"
    "q5_ex_pool,q5_ex_ratio,total,possible,note"
)
# The slowest cell left (the setup's imports) takes ~9 s alone, so 40 s leaves room for a machine four
# times slower. (With the timing cells in, 34 s alone, a correct notebook's timing cell was interrupted
# at 90 s in a clean-clone rehearsal.)
CELL_TIMEOUT = 40
TIMING_CELLS = ("REPEATS = ", "TIMING_SIZES = ")
# {submission: (points of the questions in HEADER's order, total, possible; note)}
EXPECTED = {
    "broken": (
        "0,0,,0,0,0,0,0,10",
        "not a valid notebook (NotJSONError: Notebook does not appear to be JSON: "
        "'{\"cells\": [oops')",
    ),
    "correct_mangled": ("2,3,,2,1,1,1,10,10", ""),
    "notes": ("0,0,,0,0,0,0,0,10", "not a notebook (.ipynb): notes.txt"),
    "untouched": ("0,0,,0,0,0,0,0,10", ""),
    # the total is the sum of the rounded points
    "wrong_forged": (
        "1.33333,2.25,,1.33333,0,0.5,0,5.41666,10",
        "1 cell(s) interrupted after CELL_TIMEOUT",
    ),
}
PROOF = "Cropping commutes with every stride-1 layer, so by induction the features do."


def student():
    return copy.deepcopy(
        list(make_student.student_notebooks([CHAPTERS / f"{STEM}.md"]).values())[0]
    )


def with_answers(notebook, wrong=()):
    """The student notebook answered: every stub's cell from the chapter (with the (anchor, body) pairs of
    `wrong` put in), and a proof under the written question's answer line."""
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    for anchor, body in wrong:
        replace_region(cells, anchor, body)
    for cell in notebook.cells:
        for anchor in ANSWER_CELLS:
            if cell.cell_type == "code" and anchor in cell.source:
                cell.source = next(c.source for c in cells if anchor in c.source)
        if cell.cell_type == "markdown" and cell.source.startswith("**Answer to"):
            cell.source += PROOF
    return notebook


def index_of(notebook, fragment):
    (index,) = [i for i, c in enumerate(notebook.cells) if fragment in c.source]
    return index


def without_timings(notebook):
    for fragment in TIMING_CELLS:
        del notebook.cells[index_of(notebook, fragment)]


def make_class(folder: Path):
    folder.mkdir()
    subs = {"untouched": student()}

    mangled = with_answers(student())
    setup = mangled.cells[index_of(mangled, "# Setup.")]
    setup.source += '\nraise RuntimeError("a crash at the end of the first cell")'
    without_timings(mangled)
    twice = index_of(mangled, "def convolutionalize(")
    duplicate = copy.deepcopy(mangled.cells[twice])
    duplicate.id = f"{duplicate.id}-again"
    mangled.cells.insert(twice + 1, duplicate)
    mangled.cells.insert(
        index_of(mangled, "class Net2("), v4.new_code_cell('print("my own notes")')
    )
    stripped = json.loads(nbformat.writes(mangled))
    stripped["metadata"] = {}
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)

    wrong = with_answers(student(), WRONG)
    for cell in wrong.cells:
        if cell.source.startswith("# Self-check"):
            cell.source = 'print("PASSED: all checks")'
    loop = wrong.cells[index_of(wrong, "def smallest_side(")]
    loop.source = "while True:\n    pass\n\n" + loop.source
    pool = index_of(wrong, "class PooledNet(")  # swapped with the exercise's statement
    wrong.cells[pool - 1], wrong.cells[pool] = wrong.cells[pool], wrong.cells[pool - 1]
    del wrong.cells[index_of(wrong, "import matplotlib.pyplot as plt")]
    without_timings(wrong)
    subs["wrong_forged"] = wrong

    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "correct_mangled.ipynb").write_text(json.dumps(stripped))
    (folder / "broken.ipynb").write_text('{"cells": [oops')
    (folder / "notes.txt").write_text("my answers are in the notebook")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, autograders):
    base = tmp_path_factory.mktemp("ch5_class")
    return grading_support.grade_class(
        base, STEM, autograders, make_class, cell_timeout=CELL_TIMEOUT, timeout=1500
    )


def test_the_class_gets_its_exact_points(graded):
    out, _ = graded
    rows = list(csv.reader(io.StringIO((out / f"{STEM}.csv").read_text())))
    assert rows[0] == HEADER.split(",")
    got = {row[0]: (",".join(row[1:-1]), row[-1]) for row in rows[1:]}
    assert got == EXPECTED


def test_feedback_names_the_mistakes(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_forged.md").read_text()
    for phrase in (
        "check the shapes first",
        "a classifier that starts with Dropout",
        "every image of the batch",
        "convolutions included",
    ):
        assert phrase in feedback, phrase
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched


def test_proofs_are_collected_for_grading_by_hand(graded):
    out, _ = graded
    text = (out / STEM / "written" / "q5c_proof.md").read_text()
    assert text.count(PROOF) == 2, "expected the proofs of the 2 answered notebooks"
