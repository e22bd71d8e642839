"""Chapter 4 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
against the hidden tests in grading/04_receptive_field, gets exactly the expected points.

The points follow from otter's rule (a question's points are shared equally among its test cases) and
from which hidden cases each wrong answer fails (tests/test_ch04_grading.py shows those one by one,
FAILED_CASES). Four submissions execute the chapter; each combines several mutations whose points stay
exact. The chapter trains a small network for its ERF section and caches the weights in DL_BOOK_DATA: the
grader gets a folder with a warm cache (the weights of the chapter's own run), so that no submission trains
(a cold cache would cost every submission the training run, ~4 times the rest of the chapter)."""

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
from nbformat import v4
from test_ch04_grading import (
    ACCEPTS_FLOATS,
    FAILED_CASES,
    NO_REFUSAL,
    P_AFTER_JUMP,
    SPREAD_HARD_CODED,
)

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "04_receptive_field"
FUNCTIONS = ("out_size", "receptive_field", "unseen_pixels", "path_spread")
HEADER = "submission,q4a_out_size,q4b_receptive_field,q4_ex_unseen,q4_ex_spread,total,possible,note"
# The endless loop's cost; the slowest cells (the small training, the setup's imports) take ~7 s and
# ~6 s alone.
CELL_TIMEOUT = 40
WRONG = [
    ("out_size", ACCEPTS_FLOATS),  # fails 1 of 3 cases: 2 of 3 points
    ("receptive_field", P_AFTER_JUMP),  # fails 3 of 4 cases: 1 of 4 points
    ("unseen_pixels", NO_REFUSAL),  # fails 1 of 2 cases: 1 of 2 points
    ("path_spread", SPREAD_HARD_CODED),  # fails 2 of 2 cases: 0 of 2 points
]
# {submission: (points of q4a, q4b, q4_ex_unseen, q4_ex_spread, total; note)}
EXPECTED = {
    # a plausible wrong answer to every question, every self-check forged to print PASSED, two
    # independent cells swapped, the figure of the receptive field's growth deleted
    "wrong_forged": ("2,1,1,0,4", ""),
    "bad_json": (
        "0,0,0,0,0",
        "not a valid notebook (NotJSONError: Notebook does not appear to be JSON: "
        '\'{\\n "cells": [\\n  {\\n   "cell_type": "m...)',
    ),
    # correct, all metadata and ids stripped, a solution cell duplicated, two cells inserted
    "correct_messy": ("3,4,2,2,11", ""),
    # correct, a crash inserted before the setup cell, an endless loop in the unseen_pixels cell (the
    # loop costs the cell limit; it is graded second in name order, so the other worker grades the rest)
    "crash_and_loop": ("3,4,2,2,11", "1 cell(s) interrupted after CELL_TIMEOUT"),
    "notes": ("0,0,0,0,0", "not a notebook (.ipynb): notes.txt"),
    "untouched": ("0,0,0,0,0", ""),
}


def test_the_wrong_answers_fail_the_cases_the_points_assume():
    assert [len(FAILED_CASES[wrong]) for _, wrong in WRONG] == [1, 3, 1, 2]


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
    """The student notebook answered: every stub's cell from the chapter, with `wrong` = (name, body)
    put in."""
    wrong = dict(wrong)
    for cell in notebook.cells:
        for name in FUNCTIONS:
            if cell.cell_type == "code" and f"def {name}(" in cell.source:
                cell.source = chapter_cell(name, wrong.get(name))
    return notebook


def index_of(notebook, start):
    matches = [i for i, c in enumerate(notebook.cells) if c.source.startswith(start)]
    assert len(matches) == 1, (start, matches)
    return matches[0]


def make_class(folder: Path):
    folder.mkdir()
    subs = {"untouched": student()}

    messy = with_answers(student())
    i = index_of(messy, "def receptive_field(")
    messy.cells.insert(
        i + 1, copy.deepcopy(messy.cells[i])
    )  # run twice: same definition
    messy.cells.insert(i, v4.new_markdown_cell("My notes: r, J and P, layer by layer."))
    messy.cells.insert(
        i, v4.new_code_cell('print("trying things out")\nscratch = 3 * 4')
    )
    stripped = json.loads(nbformat.writes(messy))
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
    assert forged == 4
    # The sympy check of the recurrences and the first code cell after it are independent: swap them.
    a = index_of(wrong, "L_SYM = 4")
    b = next(
        j for j in range(a + 1, len(wrong.cells)) if wrong.cells[j].cell_type == "code"
    )
    wrong.cells[a], wrong.cells[b] = wrong.cells[b], wrong.cells[a]
    del wrong.cells[index_of(wrong, "conv_geoms = geometries(features)")]  # a figure
    subs["wrong_forged"] = wrong

    loop = with_answers(student())
    loop.cells.insert(
        index_of(loop, "# Setup."), v4.new_code_cell('raise RuntimeError("oops")')
    )
    cell = loop.cells[index_of(loop, "def unseen_pixels(")]
    head, tail = cell.source.split("\n\n\nunseen_224 = ")
    cell.source = (
        head
        + "\n\n\nwhile True:  # left from debugging\n    pass\n\nunseen_224 = "
        + tail
    )
    subs["crash_and_loop"] = loop

    for name, notebook in subs.items():
        (folder / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    (folder / "correct_messy.ipynb").write_text(json.dumps(stripped))
    text = nbformat.writes(subs["untouched"])
    (folder / "bad_json.ipynb").write_text(text[: len(text) // 2])  # cut short
    (folder / "notes.txt").write_text("r = 1 + sum d(k-1) J\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, run_chapter, autograders):
    base = tmp_path_factory.mktemp("ch4_class")
    # The warm cache: the chapter's run (shared with test_ch04_receptive_field.py) trained and saved the
    # weights; the grader's kernels read them from DL_BOOK_DATA instead of training once per submission.
    data = base / "data"
    shutil.copytree(
        run_chapter(STEM).workdir / "data",
        data,
        ignore=shutil.ignore_patterns("cifar*"),
    )
    assert (data / "ch4_small_convnet.pt").is_file()
    return grading_support.grade_class(
        base,
        STEM,
        autograders,
        make_class,
        cell_timeout=CELL_TIMEOUT,
        timeout=600,
        env={"DL_BOOK_DATA": str(data)},
    )


def test_the_class_gets_its_exact_points(graded):
    out, _ = graded
    rows = list(csv.reader(io.StringIO((out / f"{STEM}.csv").read_text())))
    assert rows[0] == HEADER.split(",")
    got = {row[0]: (",".join(row[1:-2]), row[-2], row[-1]) for row in rows[1:]}
    want = {}
    for name, (points, note) in EXPECTED.items():
        *scores, total = points.split(",")
        want[name] = (",".join([*scores, total]), "11", note)
    assert got == want


def test_feedback_names_the_mistakes(graded):
    out, _ = graded
    feedback = (out / STEM / "feedback" / "wrong_forged.md").read_text()
    assert "the product of the strides *before* layer l" in feedback
    assert "refuse anything else with TypeError" in feedback
    assert "the stack refuses an input" in feedback
    assert "def test_" not in feedback, "the feedback shows hidden test code"
    untouched = (out / STEM / "feedback" / "untouched.md").read_text()
    assert "NotImplementedError" in untouched
