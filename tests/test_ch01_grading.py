"""Chapter 1's questions, found by their cells' metadata: questions.yml, the hidden tests and the chapter
agree, and the book's own answers pass the self-checks and every hidden test. The wrong and the other
correct answers are data: grading/01_logsumexp/variants/ (tests/test_variants.py runs them)."""

import contextlib
import io

import grading_support
import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT

STEM = "01_logsumexp"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = sorted(q["name"] for q in QUESTIONS if not q.get("written"))
WRITTEN = sorted(q["name"] for q in QUESTIONS if q.get("written"))
CELLS = jupytext.read(CHAPTERS / f"{STEM}.md").cells
CODE = [cell for cell in CELLS if cell.cell_type == "code"]


def marked(key, question):
    """The sources of the code cells whose metadata `key` is `question`."""
    return [cell.source for cell in CODE if cell.metadata.get(key) == question]


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == AUTOGRADED
    assert sorted(p.name for p in (GRADING / "variants").iterdir()) == AUTOGRADED
    for name in AUTOGRADED + WRITTEN:
        assert f"Question `{name}`" in source, f"the chapter does not pose {name}"
    for name in AUTOGRADED:
        assert marked("answer", name) and marked("check", name), name
    written = {cell.metadata.get("written_answer") for cell in CELLS}
    assert set(WRITTEN) <= written, "a written question has no answer cell"


@pytest.mark.parametrize("question", AUTOGRADED)
def test_the_books_answer_passes_its_self_check_and_the_hidden_tests(question):
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(CODE[0].source, "setup", "exec"), namespace)
        for source in marked("answer", "q1a_nu") + marked("answer", question):
            exec(compile(source, "answer", "exec"), namespace)  # nu, then the answer
        for source in marked("check", question):
            exec(compile(source, "self-check", "exec"), namespace)
    assert "PASSED" in printed.getvalue()
    module, cases = grading_support.hidden_cases(STEM, question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert grading_support.hidden_failures(STEM, question, namespace) == {}
