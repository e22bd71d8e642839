"""Each graded chapter's questions agree in every place they live, and the book's answers get full marks
from the real autograder, end to end (one `tools/grade.py` run per chapter; chapter 1's is its class).

questions.yml lists them in the problem's order; the prose poses each once, with the points of its hidden
tests; an autograded question has its answer cells (marked `answer`, with the solution markers), a one-line
self-check cell (marked `check`) that runs the public cases of its file (which also holds its points and
at least two hidden cases), and a folder of answer variants; a written one has its model answer cell. Wrong and other correct answers are data, graded by tests/test_variants.py."""

import csv
import re
import sys

import jupytext
import nbformat
import pytest
import yaml
from conftest import CHAPTERS, ROOT, glued_values
from grading_support import grade_run, question_cases

sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402
import make_autograder  # noqa: E402
import sync_twins  # noqa: E402

STEMS = sorted(p.name for p in (ROOT / "grading").iterdir() if p.is_dir())


def questions(stem):
    path = ROOT / "grading" / stem / "questions.yml"
    return yaml.safe_load(path.read_text())["questions"]


def disagreements(stem, source):
    """What is wrong between questions.yml, the hidden tests and the chapter's source (the .md text)."""
    chapter = jupytext.reads(source, fmt="md:myst")
    cells = [c for c in chapter.cells if c.cell_type == "code"]
    autograded = [q["name"] for q in questions(stem) if not q.get("written")]
    tests = sorted(p.stem for p in (ROOT / "grading" / stem / "tests").glob("*.py"))
    wrong = [] if tests == sorted(autograded) else [f"test files {tests}"]
    posed = []
    for question in questions(stem):
        name, written, points = question["name"], question.get("written"), 0
        if written:
            points = question.get("points", 0)  # questions.yml's, as printed
            if f'"written_answer": "{name}"' not in source:
                wrong.append(f"{name}: no model answer cell")
        else:
            module, cases = question_cases(stem, name)
            points = module.points
            answers = [c for c in cells if c.metadata.get("answer") == name]
            checks = [c for c in cells if c.metadata.get("check") == name]
            if sum(case.hidden for case in cases) < 2:
                wrong.append(f"{name}: fewer than two hidden test cases")
            hidden = [c.points for c in cases if c.hidden]
            if any(not p or p * 2 % 1 for p in hidden) or sum(hidden) != points:
                wrong.append(f"{name}: hidden points {hidden}, not halves of {points}")
            if all(case.hidden for case in cases):
                wrong.append(f"{name}: no public case (hidden=False) to self-check")
            if not answers or any(
                "### BEGIN SOLUTION" not in c.source for c in answers
            ):
                wrong.append(f"{name}: no answer cell with the solution markers")
            if [c.source.strip() for c in checks] != [f'self_check("{name}")']:
                wrong.append(
                    f'{name}: no one-line self-check cell, self_check("{name}")'
                )
            if not (ROOT / "grading" / stem / "variants" / name).is_dir():
                wrong.append(f"{name}: no variants folder")
        phrase = make_autograder.posed(dict(name=name, written=written, points=points))
        if source.count(phrase) != 1:
            wrong.append(f"the chapter does not pose {phrase} once")
        posed.append(source.find(phrase))
    return wrong + ([] if posed == sorted(posed) else ["questions posed out of order"])


@pytest.mark.parametrize("stem", STEMS)
def test_the_questions_agree_everywhere(stem):
    assert disagreements(stem, (CHAPTERS / f"{stem}.md").read_text()) == []


def test_the_agreement_check_can_fail(monkeypatch):
    stem = "04_receptive_field"
    source = (CHAPTERS / f"{stem}.md").read_text()
    wrong_points = source.replace("(autograded, 3 points)", "(autograded, 2 points)", 1)
    unmarked = source.replace(":check: q4b_receptive_field", "", 1)
    by_hand = source.replace("(written, 1 point,", "(written, 2 points,", 1)
    assert disagreements(stem, wrong_points) and disagreements(stem, unmarked)
    phrase = "Question `q4_ex_unseen_count` (written, 1 point, graded by hand)"
    assert f"the chapter does not pose {phrase} once" in disagreements(stem, by_hand)
    module, cases = question_cases(stem, "q4a_out_size")  # 3 hidden cases of 1 point
    monkeypatch.setattr(f"{__name__}.question_cases", lambda *_: (module, cases))
    for points in (1.5, 0.75, 0.75), (2, 1, 0):  # quarters; a case worth nothing
        for case, p in zip([c for c in cases if c.hidden], points):
            case.points = p
        wrong = f"q4a_out_size: hidden points {list(points)}, not halves of 3"
        assert wrong in disagreements(stem, source)


@pytest.mark.parametrize("stem", [s for s in STEMS if s != "01_logsumexp"])
def test_the_books_answers_get_full_marks_and_glue_the_builds_values(
    stem, autograders, run_chapter, tmp_path, monkeypatch
):
    """The solved twin, as a student would submit it, through make_autograder's zip and tools/grade.py.
    Its data folder is the book build's (DL_BOOK_DATA): chapter 3 loads the net the build trained
    instead of training it again (the hidden tests grade the fold, not the training).
    Determinism: every value that fresh kernel glues equals the build's (timings aside), and it glues
    every name the cells it runs (not tagged `otter_ignore` as graded) spell out; chapter 1's twin in
    tests/test_determinism.py."""
    monkeypatch.setenv("DL_BOOK_DATA", str(CHAPTERS / "data"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    twin = sync_twins.twin_text(CHAPTERS / f"{stem}.md")
    notebook = nbformat.reads(twin, as_version=4)
    nbformat.write(notebook, submissions / "solved.ipynb")
    out = tmp_path / "grades"
    grade_run(
        stem, submissions, tmp_path, "DLBOOK_GRADER", autograder_dir=autograders,
        out=out, jobs=1, timeout=900, cell_timeout=600,
    )  # fmt: skip
    (row,) = csv.DictReader((out / f"{stem}.csv").open())
    written = sum(q["points"] for q in questions(stem) if q.get("written"))  # by hand
    assert float(row["total"]) == float(row["possible"]) - written > 0, row
    executed = nbformat.read(out / stem / "executed" / "solved.ipynb", 4)
    graded, cells = glued_values(executed), executed.cells
    run = "".join(c.source for c in cells if "otter_ignore" not in str(c.metadata))
    assert set(re.findall(r'glue\(\s*"(\w+)"', run)) <= set(graded), "cells not run"
    built = run_chapter(stem).glue
    built = {name: built.get(name, "<not in the build>") for name in graded}
    assert bench.glue_differences(built, graded) == {}, (
        "fix the seed, or name it _measured"
    )
