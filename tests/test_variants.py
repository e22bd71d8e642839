"""Every answer variant gets the points it says, from the hidden tests, scored as otter scores them.

The data are files `grading/<stem>/variants/<question>/<name>.py`: a docstring saying what the answer does,
`POINTS` (what the question's hidden tests must give it), optionally `SELF_CHECK` ("passes" or "fails": the
verdict of the question's public cases, the chapter's self-check) and `MESSAGE` (a phrase a failure message
contains), then the answer's code. The variant runs after the chapter's setup cell, as in a notebook. Correct answers written differently from the book's must get full
points; plausible wrong ones must lose points or be stopped by the self-check. Everything runs in-process:
one end-to-end grading run per chapter is `make grade`'s job (tests/test_ch01_graded_class.py)."""

import contextlib
import gc
import io
import os
import sys
from pathlib import Path

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT
from grading_support import META, declared
from otter.test_files.exception_test import ExceptionTestFile

sys.path.insert(0, str(ROOT))

GRADING = ROOT / "grading"
VARIANTS = sorted(GRADING.glob("*/variants/*/*.py"))
# The hidden tests load the helper module from the autograder zip; here, from the repository.
os.environ["DLBOOK_GRADER"] = str(ROOT / "dlbook" / "__init__.py")


def autograded_questions():
    """[(stem, question)] of every chapter's questions.yml that is not written."""
    return [
        (folder.name, q["name"])
        for folder in sorted(p for p in GRADING.iterdir() if p.is_dir())
        for q in yaml.safe_load((folder / "questions.yml").read_text())["questions"]
        if not q.get("written")
    ]


def run_variant(path: Path, stem: str) -> dict:
    """The namespace the chapter's setup cell and then the variant's code leave, as a notebook's
    globals would be."""
    namespace = setup_namespace(stem)
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def graded(stem, question, namespace):
    """(score, possible, whether the public cases passed, failure messages) of the question's file,
    run and scored by otter (public cases count 0 points)."""
    path = GRADING / stem / "tests" / f"{question}.py"
    test_file = ExceptionTestFile.from_file(str(path))
    with contextlib.redirect_stdout(io.StringIO()):
        test_file.run(namespace)
    results = test_file.test_case_results
    public = all(r.passed for r in results if not r.test_case.hidden)
    messages = [r.message for r in results if not r.passed]
    return test_file.score, test_file.possible, public, messages


_SETUPS = {}


def chapter_cells(stem):
    return jupytext.read(CHAPTERS / f"{stem}.md").cells


def setup_namespace(stem):
    """The chapter's first code cell (its setup), run once per chapter; copies are handed out."""
    if stem not in _SETUPS:
        setup = next(c for c in chapter_cells(stem) if c.cell_type == "code")
        namespace = {"__name__": f"setup_{stem}"}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(setup.source, f"{stem} setup", "exec"), namespace)
        _SETUPS[stem] = namespace
    return dict(_SETUPS[stem])


@pytest.fixture(autouse=True)
def free_the_variants_models():
    """Chapter 5's variants build 1.4 GB nets that reference cycles keep: free them at once."""
    yield
    gc.collect()


@pytest.mark.parametrize(
    "path",
    VARIANTS,
    ids=[str(p.relative_to(GRADING).with_suffix("")) for p in VARIANTS],
)
def test_the_variant_gets_its_points(path):
    stem, _, question = path.parts[-4:-1]
    assert "POINTS" in declared(path), (
        f"{path}: say POINTS = <what the hidden tests give>"
    )
    namespace = run_variant(path, stem)
    assert declared(path) == {k: namespace[k] for k in META if k in namespace}, (
        f"{path}: POINTS, SELF_CHECK and MESSAGE are set once, at the top level"
    )
    score, possible, public, messages = graded(stem, question, namespace)
    assert score == pytest.approx(namespace["POINTS"]), (
        f"{path.name}: {score} of {possible} points, expected {namespace['POINTS']}\n"
        + "\n".join(messages)
    )
    verdict = namespace.get("SELF_CHECK")
    if verdict is not None:
        assert verdict in {"passes", "fails"}, f"{path}: SELF_CHECK is passes or fails"
        assert public == (verdict == "passes"), (
            f"{path.name}: the self-check {'passed' if public else 'failed'}, "
            f"expected it {verdict}. {messages}"
        )
    if "MESSAGE" in namespace:
        assert any(namespace["MESSAGE"] in m for m in messages), (
            f"{path.name}: no failure message says {namespace['MESSAGE']!r}: {messages}"
        )


@pytest.mark.parametrize(
    "stem, question", autograded_questions(), ids=[q for _, q in autograded_questions()]
)
def test_every_question_has_correct_and_wrong_variants(stem, question):
    """Fairness as data: correct answers written otherwise get full points, wrong ones do not."""
    folder = GRADING / stem / "variants" / question
    files = sorted(folder.glob("*.py"))
    tests = GRADING / stem / "tests" / f"{question}.py"
    possible = ExceptionTestFile.from_file(str(tests)).possible
    said = {p.stem: declared(p) for p in files}
    correct = [n for n, d in said.items() if d["POINTS"] == possible and n != "book"]
    wrong = [
        n
        for n, d in said.items()
        if d["POINTS"] < possible or d.get("SELF_CHECK") == "fails"
    ]
    assert len(correct) >= 2, (
        f"{folder}: correct variants besides the book's: {correct}"
    )
    assert wrong, f"{folder}: no wrong variant"


def test_a_variant_that_misstates_its_points_fails(tmp_path):
    """The check can fail: a wrong answer claiming full points is caught."""
    stem, question = "01_logsumexp", "q1a_nu"
    folder = tmp_path / stem / "variants" / question
    folder.mkdir(parents=True)
    path = folder / "claims_too_much.py"
    path.write_text("POINTS = 2\n\n\ndef nu(x, beta):\n    return x.max()\n")
    score, possible, _, _ = graded(stem, question, run_variant(path, stem))
    assert possible == 2 and score < 2
