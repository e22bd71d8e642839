"""Chapter 4's questions: questions.yml, the chapter's statements and the hidden tests agree, and the
book's own answers (cells marked `answer`) pass every hidden test and their self-checks (cells marked
`check`). The wrong answers, the stubs and other correct answers are variants, data in
grading/04_receptive_field/variants/ that tests/test_variants.py runs."""

import ast
import contextlib
import io

import grading_support
import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT

STEM = "04_receptive_field"
GRADING = ROOT / "grading" / STEM
QUESTIONS = [
    q["name"]
    for q in yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
]


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(QUESTIONS)
    positions = []
    for name in QUESTIONS:
        module, cases = grading_support.hidden_cases(STEM, name)
        assert module.name == name and module.points > 0 and len(cases) >= 2
        assert all(case.hidden for case in cases)
        phrase = f"Question `{name}` (autograded, {module.points} points)"
        assert source.count(phrase) == 1, f"the chapter does not pose {phrase}"
        positions.append(source.index(phrase))
    assert positions == sorted(positions), "questions posed out of order"


def definitions(source):
    """A cell's imports, functions, classes and UPPER_CASE constants: what later cells build on."""
    tree = ast.parse(source)
    kept = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)

    def constant(node):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [
            e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])
        ]
        return all(isinstance(t, ast.Name) and t.id.isupper() for t in names)

    assigns = (ast.Assign, ast.AugAssign)
    tree.body = [
        n
        for n in tree.body
        if isinstance(n, kept) or (isinstance(n, assigns) and constant(n))
    ]
    return compile(tree, "definitions", "exec")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The chapter's namespace: the setup, then every answer cell in full and the definitions of the
    other cells (the page's long computations skipped); and the check cells by question."""
    import os

    cells = [
        c for c in jupytext.read(CHAPTERS / f"{STEM}.md").cells if c.cell_type == "code"
    ]
    namespace, checks = {"__name__": "__main__"}, {}
    here = os.getcwd()
    os.chdir(CHAPTERS)  # the setup cell finds dlbook/ in ..
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cells[0].source, "setup", "exec"), namespace)
            for cell in cells[1:]:
                if "answer" in cell.metadata:
                    exec(
                        compile(cell.source, cell.metadata["answer"], "exec"), namespace
                    )
                elif "check" in cell.metadata:
                    checks.setdefault(cell.metadata["check"], []).append(cell.source)
                else:
                    exec(definitions(cell.source), namespace)
    finally:
        os.chdir(here)
    return namespace, checks


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_book_answer_passes_its_self_check_and_every_hidden_test(question, book):
    namespace, checks = book
    assert checks.get(question), f"no cell marked `check: {question}`"
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for source in checks[question]:
            exec(compile(source, "check", "exec"), dict(namespace))
    assert "PASSED:" in out.getvalue()
    assert grading_support.hidden_failures(STEM, question, namespace) == {}
