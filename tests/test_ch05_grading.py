"""Chapter 5's questions, their cells and their answer variants: every question of questions.yml is posed
in the chapter with the points of its hidden tests; every autograded one has answer and self-check cells
(marked by metadata) and a variants folder (grading/05_fully_convolutional/variants/<question>/, checked by
tests/test_variants.py) with at least two correct answers besides the book's."""

import ast

import jupytext
import yaml
from conftest import CHAPTERS, ROOT
from grading_support import hidden_cases

STEM = "05_fully_convolutional"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = sorted(q["name"] for q in QUESTIONS if not q.get("written"))


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    written = [q["name"] for q in QUESTIONS if q.get("written")]
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == AUTOGRADED
    # the problem's order: Net2, convolutionalize, the equivalence; then the exercises
    posed = [source.index(f"Question `{name}` (") for name in names]
    assert posed == sorted(posed), (
        "the questions are not posed in questions.yml's order"
    )
    for name in AUTOGRADED:
        module, cases = hidden_cases(STEM, name)
        assert module.name == name and module.points > 0 and len(cases) >= 2
        unit = "point" if module.points == 1 else "points"
        assert f"Question `{name}` (autograded, {module.points:g} {unit})" in source
    for name in written:
        assert f"Question `{name}` (written, graded by hand)" in source
        assert f'"written_answer": "{name}"' in source


def test_every_autograded_question_has_marked_cells_and_variants():
    cells = [
        c for c in jupytext.read(CHAPTERS / f"{STEM}.md").cells if c.cell_type == "code"
    ]
    for name in AUTOGRADED:
        answers = [c for c in cells if c.metadata.get("answer") == name]
        checks = [c for c in cells if c.metadata.get("check") == name]
        assert answers and all("### BEGIN SOLUTION" in c.source for c in answers), name
        assert checks and all(
            "hide-input" in c.metadata.get("tags", []) for c in checks
        )
        module, _ = hidden_cases(STEM, name)
        full, correct = module.points, []
        for path in sorted((GRADING / "variants" / name).glob("*.py")):
            tree = ast.parse(path.read_text())
            assert ast.get_docstring(tree), f"{path}: say what the answer does"
            values = {
                t.id: eval(ast.unparse(node.value), {})  # a number or a string
                for node in tree.body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name) and t.id in ("POINTS", "SELF_CHECK")
            }
            assert 0 <= values["POINTS"] <= full, path
            if values["POINTS"] == full and path.stem != "book":
                correct.append(path.stem)
        assert len(correct) >= 2, f"{name}: correct variants {correct}"
