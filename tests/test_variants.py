"""Every answer variant gets the points it says, from the hidden tests, scored as otter scores them.

The data are files `grading/<stem>/variants/<question>/<name>.py`: a docstring saying what the answer does,
`POINTS` (what the question's hidden tests must give it), optionally `SELF_CHECK` ("passes" or "fails": the
verdict of the question's public cases, the chapter's self-check) and `MESSAGE` (a phrase a failure message
contains), then the answer's code, run after the chapter's setup cell as in a notebook. Everything runs
in-process: one end-to-end grading run per chapter is `make grade`'s job (tests/test_questions.py)."""

import contextlib
import gc
import io
import os
import re
import sys
from pathlib import Path

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT
from grading_support import META, declared
from otter.test_files.exception_test import ExceptionTestFile, test_case

sys.path.insert(0, str(ROOT))
import dlbook  # noqa: E402

GRADING = ROOT / "grading"
VARIANTS = sorted(GRADING.glob("*/variants/*/*.py"))
# The hidden tests load the helper module from the autograder zip; here, from the repository.
os.environ["DLBOOK_GRADER"] = str(ROOT / "dlbook" / "__init__.py")
QUESTIONS = [  # (stem, question) of every autograded question
    (folder.name, q["name"])
    for folder in sorted(p for p in GRADING.iterdir() if p.is_dir())
    for q in yaml.safe_load((folder / "questions.yml").read_text())["questions"]
    if not q.get("written")
]


def run_variant(path: Path, stem: str) -> dict:
    """The namespace (a notebook's globals) the chapter's setup cell, then the variant leave."""
    namespace = setup_namespace(stem)
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def graded(stem, question, namespace):
    """(score, possible, whether the public cases passed, failure messages) of the question's file,
    run and scored by otter (public cases count 0 points); each hidden failure must name its case."""
    path = GRADING / stem / "tests" / f"{question}.py"
    test_file = ExceptionTestFile.from_file(str(path))
    with contextlib.redirect_stdout(io.StringIO()):
        test_file.run(namespace)
    results = test_file.test_case_results
    public = all(r.passed for r in results if not r.test_case.hidden)
    unnamed = [r.message for r in results if not names_its_case(r)]
    assert not unnamed, f"{question}: hidden failures that name no case: {unnamed}"
    messages = [r.message for r in results if not r.passed]
    return test_file.score, test_file.possible, public, messages


def names_its_case(r):
    """Whether a case is public, passed, or its failure's last line (what the gradebook keeps)
    is `<Error>: <the case's name in words>: <more>`, not a bare exception."""
    words = r.test_case.body.test_func.__name__.removeprefix("test_").replace("_", " ")
    last = r.message.splitlines()[-1]
    return (
        r.passed or not r.test_case.hidden or bool(re.match(rf"\w+: {words}: \S", last))
    )


_SETUPS = {}


def setup_namespace(stem):
    """The chapter's first code cell (its setup), run once per chapter; copies are handed out."""
    if stem not in _SETUPS:
        cells = jupytext.read(CHAPTERS / f"{stem}.md").cells
        setup = next(c for c in cells if c.cell_type == "code")
        namespace = {"__name__": f"setup_{stem}"}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(setup.source, f"{stem} setup", "exec"), namespace)
        _SETUPS[stem] = namespace
    return dict(_SETUPS[stem])


@pytest.fixture(autouse=True)
def free_the_variants_models(request):
    """Chapter 5's variants build 1.4 GB nets that reference cycles keep: free them at once (a
    collection takes ~0.3 s, so only there)."""
    yield
    if "05_fully_convolutional" in request.node.name:
        gc.collect()


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: "/".join(p.parts[-4:])[:-3])
def test_the_variant_gets_its_points(path):
    stem, _, question = path.parts[-4:-1]
    assert "POINTS" in declared(path), f"{path}: say POINTS = <what the tests give>"
    namespace = run_variant(path, stem)
    assert declared(path) == {k: namespace[k] for k in META if k in namespace}, (
        f"{path}: POINTS, SELF_CHECK and MESSAGE are set once, at the top level"
    )
    score, possible, public, messages = graded(stem, question, namespace)
    assert score == pytest.approx(namespace["POINTS"]), (
        f"{path.name}: {score} of {possible} points, expected {namespace['POINTS']}\n"
        + "\n".join(messages)
    )
    check = namespace.get("SELF_CHECK", "passes" if public else "fails")
    assert check in {"passes", "fails"}, f"{path}: SELF_CHECK is passes or fails"
    assert public == (check == "passes"), f"{path.name}: self-check {check}? {messages}"
    if "MESSAGE" in namespace:
        assert any(namespace["MESSAGE"] in m for m in messages), (
            f"{path.name}: no failure message says {namespace['MESSAGE']!r}: {messages}"
        )


def shortfalls(folder, possible):
    """What a question's variants lack: two correct ones besides the book's, two wrong ones
    besides the stub, a MESSAGE on every wrong one."""
    said = {p.stem: declared(p) for p in folder.glob("*.py")}
    wrong = {n for n, d in said.items() if d["POINTS"] < possible}
    wrong |= {n for n, d in said.items() if d.get("SELF_CHECK") == "fails"}
    correct = set(said) - wrong - {"book"}
    lacks = [f"{n}: no MESSAGE" for n in sorted(wrong) if "MESSAGE" not in said[n]]
    lacks += [f"correct besides the book's: {correct}"] * (len(correct) < 2)
    return lacks + [f"wrong besides the stub: {wrong}"] * (len(wrong - {"stub"}) < 2)


@pytest.mark.parametrize("stem, question", QUESTIONS, ids=[q for _, q in QUESTIONS])
def test_every_question_has_correct_and_wrong_variants(stem, question):
    """Fairness as data: correct answers written otherwise get full points, wrong ones do not."""
    tests = GRADING / stem / "tests" / f"{question}.py"
    possible = ExceptionTestFile.from_file(str(tests)).possible
    assert shortfalls(GRADING / stem / "variants" / question, possible) == []


def test_the_checks_can_fail(tmp_path):
    """A wrong answer claiming full points; one correct variant and one wrong one without
    MESSAGE; a hidden case that lets the answer's StopIteration through (not hidden_case)."""
    path = tmp_path / "claims_too_much.py"
    path.write_text("POINTS = 2\n\n\ndef nu(x, beta):\n    return x.max()\n")
    stem, question = "01_logsumexp", "q1a_nu"
    score, possible, *_ = graded(stem, question, run_variant(path, stem))
    assert possible == 2 and score < 2
    (tmp_path / "wrong.py").write_text("POINTS = 0\n")
    assert len(shortfalls(tmp_path, 2)) == 3  # claims_too_much counts as correct here

    def test_first(items):
        next(items)

    cases = [test_case(points=1, hidden=True), dlbook.hidden_case(1)]
    first = ExceptionTestFile("q", "q", [c(test_first).to_dataclass() for c in cases])
    first.run({"items": iter([])})
    assert [names_its_case(r) for r in first.test_case_results] == [False, True]
