"""Chapter 1 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/01_logsumexp, gets exactly the expected points.

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
# {submission: points of q1a_nu, (written), (written), q1b_grad, (written), q1c_limit, q1_ex_min, total}
EXPECTED = {
    "correct": "2,,,2,,2,1,7",
    "forged_checks": "2,,,0,,2,1,5",  # wrong_grad with every self-check printing PASSED
    "stripped": "2,,,2,,2,1,7",
    "untouched": "0,,,0,,0,0,0",
    "wrong_grad": "2,,,0,,2,1,5",  # fails all three cases
    "wrong_limit": "2,,,2,,1.33333,1,6.33333",  # fails 1 of 3 cases
    "wrong_min": "2,,,2,,2,0,6",  # fails both cases
    "wrong_nu": "1.33333,,,2,,2,1,6.33333",  # fails 1 of 3 cases
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


def make_class(folder: Path):
    folder.mkdir()
    subs = {
        "untouched": student(),
        "correct": with_answers(student()),
        "wrong_nu": with_answers(student(), [("nu", SHIFT_BY_BETA_MAX)]),
        "wrong_grad": with_answers(student(), [("grad_nu", SOFTMAX_WITHOUT_BETA)]),
        "wrong_limit": with_answers(
            student(), [("softmax_limit", TIES_WITH_A_TOLERANCE)]
        ),
        "wrong_min": with_answers(student(), [("smooth_min", SECOND_DIMENSION)]),
    }
    forged = copy.deepcopy(subs["wrong_grad"])
    for cell in forged.cells:
        if cell.source.startswith("# Self-check"):
            cell.source = 'print("PASSED: all checks")'
    subs["forged_checks"] = forged
    stripped = json.loads(nbformat.writes(subs["correct"]))
    stripped["metadata"] = {}
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)
    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "stripped.ipynb").write_text(json.dumps(stripped))


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
    got = {row[0]: (",".join(row[1:-2]), row[-2], row[-1]) for row in rows[1:]}
    assert got == {name: (points, "7", "") for name, points in EXPECTED.items()}


def test_feedback_names_the_mistake(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_nu.md").read_text()
    assert "shift by the largest exponent max(beta x)" in feedback
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched


def test_proofs_are_collected_for_grading_by_hand(graded):
    out, _ = graded
    for question in ("q1a_proof", "q1b_proof", "q1c_proof"):
        text = (out / STEM / "written" / f"{question}.md").read_text()
        assert text.count(PROOF) == 7, (
            f"{question}: expected the proofs of the 7 answered notebooks"
        )
