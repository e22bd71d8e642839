"""Chapter 3 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/03_batchnorm_folding, gets exactly the expected points.

The points follow from otter's rule (a question's points are shared equally among its test cases) and
from which hidden cases each wrong answer fails (tests/test_ch03_grading.py shows those one by one):
q3a_fold_bn has 3 cases (1 point each), q3b_fold_net 2 (1 each), q3_ex_first_mismatch 2 (0.5 each),
q3_ex_bn_before 2 (1 each).

Three submissions execute the chapter (it costs about a minute each), so the mutations are combined:

* untouched -- the released notebook: every stub raises, 0 on every question;
* correct_stripped -- every stub's cell from the chapter, all metadata stripped, fold_bn's cell
  duplicated, a cell of its own inserted, a crash (raise) at the end of the first code cell, after its
  definitions, and an endless loop after the definition in fold_bn_into_next's cell (interrupted at the
  cell time limit; the function is defined, so it is graded): full marks;
* wrong_forged -- a plausible wrong answer to every question, every self-check cell forged to print
  PASSED, two independent cells swapped and the timing cell deleted: 2 + 1 + 0.5 + 1 of 8;

The loop is in the first submission graded (they go in name order), so the other worker grades the two
others meanwhile.
* not_json.ipynb (not valid JSON) and notes.txt (not a notebook): a row each with the reason.
"""

import copy
import csv
import io
import json
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import CHAPTERS, ROOT, replace_solution
from test_ch03_grading import (
    FOLD_ANY_BN_AFTER_LINEAR,
    MISMATCH_NO_MODE_CHECK,
    NET_ALWAYS_FLOAT32,
    NEXT_DEFAULT_EPS,
)

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "03_batchnorm_folding"
FUNCTIONS = ("fold_bn", "fold_net", "first_mismatch", "fold_bn_into_next")
WRONG = {
    "fold_bn": FOLD_ANY_BN_AFTER_LINEAR,  # fails the refusal case: 2 of 3
    "fold_net": NET_ALWAYS_FLOAT32,  # fails the fresh-nets case: 1 of 2
    "first_mismatch": MISMATCH_NO_MODE_CHECK,  # fails the training-mode case: 0.5 of 1
    "fold_bn_into_next": NEXT_DEFAULT_EPS,  # fails the unseen-eps case: 1 of 2
}
HEADER = (
    "submission,q3a_proof,q3a_fold_bn,q3b_fold_net,q3_ex_first_mismatch,"
    "q3_ex_bn_before_proof,q3_ex_bn_before,total,possible,note"
)
INTERRUPTED = "1 cell(s) interrupted after CELL_TIMEOUT"
EXPECTED = {  # {submission: (points of the six questions, total, note)}
    "correct_stripped": (",3,2,1,,2", "8", INTERRUPTED),
    "not_json": (",0,0,0,,0", "0", "not a valid notebook (NotJSONError: "),
    "notes": (",0,0,0,,0", "0", "not a notebook (.ipynb): notes.txt"),
    "untouched": (",0,0,0,,0", "0", ""),
    "wrong_forged": (",2,1,0.5,,1", "4.5", ""),
}
PROOF = "Per channel BN is s z + (beta - s mu); substitute z = W x + b."
# seconds: the slowest cell (loading the test set: decoding 10,000 JPEGs) takes ~9 s alone, so 40 s
# leaves room for a machine four times slower; the limit is also what the endless loop costs.
CELL_TIMEOUT = 40


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


def with_answers(notebook, wrong=None):
    """The student notebook answered: every stub's cell from the chapter (with the bodies of `wrong`,
    {function: body}, put in), and a proof under every written question's answer line."""
    wrong = wrong or {}
    for cell in notebook.cells:
        for name in FUNCTIONS:
            if cell.cell_type == "code" and f"def {name}(" in cell.source:
                cell.source = chapter_cell(name, wrong.get(name))
        if cell.cell_type == "markdown" and cell.source.startswith("**Answer to"):
            cell.source += PROOF
    return notebook


def index_of(notebook, text):
    (index,) = [i for i, c in enumerate(notebook.cells) if text in c.source]
    return index


def make_class(folder: Path):
    folder.mkdir()
    subs = {"untouched": student()}

    correct = with_answers(student())
    first_code = next(c for c in correct.cells if c.cell_type == "code")
    first_code.source += (
        '\nraise RuntimeError("a crash at the end of the first cell")\n'
    )
    duplicate = copy.deepcopy(correct.cells[index_of(correct, "def fold_bn(")])
    duplicate.id = "duplicate-of-fold-bn"
    correct.cells.insert(index_of(correct, "def fold_bn(") + 1, duplicate)
    correct.cells.insert(
        index_of(correct, "def fold_net("),
        nbformat.v4.new_code_cell("print('my own scratch cell')"),
    )
    next_cell = correct.cells[index_of(correct, "def fold_bn_into_next(")]
    next_cell.source += "\n\nwhile True:  # a test loop left behind\n    pass\n"
    stripped = json.loads(nbformat.writes(correct))
    stripped["metadata"] = {}
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)

    wrong = with_answers(student(), WRONG)
    for cell in wrong.cells:
        if cell.source.startswith("# Self-check"):
            cell.source = 'print("PASSED: all checks")'
    del wrong.cells[index_of(wrong, "def seconds_once(")]  # the timing cell
    a, b = (
        index_of(wrong, "def variance_conventions("),
        index_of(wrong, "def int8_quantize("),
    )
    wrong.cells[a], wrong.cells[b] = wrong.cells[b], wrong.cells[a]
    subs["wrong_forged"] = wrong

    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "correct_stripped.ipynb").write_text(json.dumps(stripped))
    (folder / "not_json.ipynb").write_text('{"cells": [')
    (folder / "notes.txt").write_text("my answers are in the notebook\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, run_chapter, autograders):
    base = tmp_path_factory.mktemp("ch3_class")
    # Each submission runs in a temporary folder of its own, so without a shared cache every one of
    # them would train SmallNet (minutes each). The chapter's own run (shared with its other tests)
    # leaves trained weights; a copy of them is the cache every submission reads through
    # DL_BOOK_DATA (read only: the weights match the chapter's CONFIG, so none writes).
    cache = base / "weights"
    cache.mkdir()
    shutil.copy(run_chapter(STEM).workdir / "data" / "ch3_smallnet.pt", cache)
    return grading_support.grade_class(
        base,
        STEM,
        autograders,
        make_class,
        cell_timeout=CELL_TIMEOUT,
        timeout=1500,
        env={"DL_BOOK_DATA": str(cache)},
    )


def test_the_class_gets_its_exact_points(graded):
    out, _ = graded
    rows = list(csv.reader(io.StringIO((out / f"{STEM}.csv").read_text())))
    assert rows[0] == HEADER.split(",")
    got = {row[0]: row[1:] for row in rows[1:]}
    assert sorted(got) == sorted(EXPECTED)
    for name, (points, total, note) in EXPECTED.items():
        row = got[name]
        assert (",".join(row[:-3]), row[-3], row[-2]) == (points, total, "8"), (
            name,
            row,
        )
        if name == "not_json":
            assert row[-1].startswith(note), (name, row[-1])
        else:
            assert row[-1] == note, (name, row[-1])


def test_feedback_names_the_mistakes(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_forged.md").read_text()
    for phrase in (
        "fold_bn accepted a Linear and a BatchNorm2d",
        "build it in the dtype of the net it is given",
        "accepted the BN net in training mode",
        "the BN's own eps",
    ):
        assert phrase in feedback, phrase
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched


def test_proofs_are_collected_for_grading_by_hand(graded):
    out, _ = graded
    for question in ("q3a_proof", "q3_ex_bn_before_proof"):
        text = (out / STEM / "written" / f"{question}.md").read_text()
        assert text.count(PROOF) == 2, (
            f"{question}: expected the proofs of the 2 answered notebooks"
        )
