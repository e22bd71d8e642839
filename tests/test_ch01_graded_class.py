"""Chapter 1 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/01_logsumexp, gets exactly the expected points.

* untouched -- the released notebook: every answer raises NotImplementedError, 0 on every question;
* correct_mangled -- every stub's cell from the chapter, all metadata and cell ids stripped, nu's cell
  duplicated, a cell of the student's own inserted, a crash (raise) at the end of the first cell, after
  its definitions, and an endless loop after the definition in grad_nu's cell: full marks, since a
  failing cell does not stop the grading, and the loop is interrupted at the cell limit while the later
  questions are still graded;
* wrong_forged -- a plausible wrong answer to every question, every self-check cell forged to print
  PASSED, a figure's cell deleted and smooth_min's cell swapped with the text before it: partial
  points; a forged check earns nothing;
* broken.ipynb (not valid JSON) and notes.txt (not a notebook): a row each with the reason.

The points follow from otter's rule (a question's points are shared equally among its test cases) and
from which hidden cases each wrong answer fails (tests/test_ch01_grading.py shows those one by one)."""

import copy
import csv
import io
import json
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import CHAPTERS, ROOT, replace_solution
from nbformat import v4
from test_ch01_grading import (
    ONLY_ZERO_REFUSED,  # noqa: F401 - the same wrong answers
    SECOND_DIMENSION,
    SHIFT_BY_BETA_MAX,
    SOFTMAX_WITHOUT_BETA,
    TIES_WITH_A_TOLERANCE,
)

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "01_logsumexp"
FUNCTIONS = ("nu", "grad_nu", "softmax_limit", "smooth_min")
HEADER = "submission,q1a_nu,q1a_proof,q1b_proof,q1b_grad,q1c_proof,q1c_limit,q1_ex_min,total,possible,note"
INTERRUPTED = "1 cell(s) interrupted after CELL_TIMEOUT"
# {submission: (points of q1a_nu, (written), (written), q1b_grad, (written), q1c_limit, q1_ex_min,
#  total, possible; note)}
EXPECTED = {
    "broken": (
        "0,,,0,,0,0,0,7",
        "not a valid notebook (NotJSONError: Notebook does not appear to be JSON: "
        "'{\"cells\": [oops')",
    ),
    "correct_mangled": ("2,,,2,,2,1,7,7", INTERRUPTED),
    "notes": ("0,,,0,,0,0,0,7", "not a notebook (.ipynb): notes.txt"),
    "untouched": ("0,,,0,,0,0,0,7", ""),
    # nu fails 1 of 3 cases, grad_nu 3 of 3, softmax_limit 1 of 3, smooth_min 2 of 2; the total is the
    # sum of the rounded points
    "wrong_forged": ("1.33333,,,0,,1.33333,0,2.66666,7", ""),
}
PROOF = "By the sandwich k <= sum <= n, divide the logs by beta and let beta grow."


def chapter_cell(name, wrong=None):
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    if wrong is not None:
        replace_solution(cells, name, wrong)
    return next(
        c.source for c in cells if c.cell_type == "code" and f"def {name}(" in c.source
    )


def student():
    return copy.deepcopy(
        list(make_student.student_notebooks([CHAPTERS / f"{STEM}.md"]).values())[0]
    )


def with_answers(notebook, wrong=()):
    """The student notebook answered: every stub's cell from the chapter (with `wrong` = (name, body)
    put in), and a proof under every written question's answer line."""
    wrong = dict(wrong)
    for cell in notebook.cells:
        for name in FUNCTIONS:
            if cell.cell_type == "code" and f"def {name}(" in cell.source:
                cell.source = chapter_cell(name, wrong.get(name))
        if cell.cell_type == "markdown" and cell.source.startswith("**Answer to"):
            cell.source += PROOF
    return notebook


def index_of(notebook, fragment):
    (index,) = [i for i, c in enumerate(notebook.cells) if fragment in c.source]
    return index


def make_class(folder: Path):
    folder.mkdir()
    subs = {"untouched": student()}

    mangled = with_answers(student())
    setup = mangled.cells[index_of(mangled, "# Setup.")]
    setup.source += '\nraise RuntimeError("a crash at the end of the first cell")'
    twice = index_of(mangled, "def nu(")
    duplicate = copy.deepcopy(mangled.cells[twice])
    duplicate.id = f"{duplicate.id}-again"
    mangled.cells.insert(twice + 1, duplicate)
    mangled.cells.insert(twice, v4.new_code_cell('print("my own notes")'))
    # the loop costs the cell limit: in the first submission graded (name order), the other worker
    # grades the other two meanwhile
    mangled.cells[
        index_of(mangled, "def grad_nu(")
    ].source += "\n\nwhile True:\n    pass\n"
    stripped = json.loads(nbformat.writes(mangled))
    stripped["metadata"] = {}
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)

    wrong = with_answers(
        student(),
        [
            ("nu", SHIFT_BY_BETA_MAX),
            ("grad_nu", SOFTMAX_WITHOUT_BETA),
            ("softmax_limit", TIES_WITH_A_TOLERANCE),
            ("smooth_min", SECOND_DIMENSION),
        ],
    )
    for cell in wrong.cells:
        if cell.source.startswith("# Self-check"):
            cell.source = 'print("PASSED: all checks")'
    del wrong.cells[index_of(wrong, "fig, axes = plt.subplots(1, 2")]
    smooth = index_of(wrong, "def smooth_min(")
    assert wrong.cells[smooth - 1].cell_type == "markdown"
    wrong.cells[smooth - 1], wrong.cells[smooth] = (
        wrong.cells[smooth],
        wrong.cells[smooth - 1],
    )
    subs["wrong_forged"] = wrong

    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "correct_mangled.ipynb").write_text(json.dumps(stripped))
    (folder / "broken.ipynb").write_text('{"cells": [oops')
    (folder / "notes.txt").write_text("my answers are in the notebook")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, autograders):
    base = tmp_path_factory.mktemp("ch1_class")
    # A cell may take 30 s (the endless loop's cost): the slowest, the setup's imports, takes ~3 s alone.
    return grading_support.grade_class(
        base, STEM, autograders, make_class, cell_timeout=30, timeout=300
    )


def test_the_class_gets_its_exact_points(graded):
    out, _ = graded
    rows = list(csv.reader(io.StringIO((out / f"{STEM}.csv").read_text())))
    assert rows[0] == HEADER.split(",")
    got = {row[0]: (",".join(row[1:-1]), row[-1]) for row in rows[1:]}
    assert got == EXPECTED


def test_feedback_names_the_mistake(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_forged.md").read_text()
    assert "shift by the largest exponent max(beta x)" in feedback
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched


def test_proofs_are_collected_for_grading_by_hand(graded):
    out, _ = graded
    for question in ("q1a_proof", "q1b_proof", "q1c_proof"):
        text = (out / STEM / "written" / f"{question}.md").read_text()
        assert text.count(PROOF) == 2, (
            f"{question}: expected the proofs of the 2 answered notebooks"
        )
