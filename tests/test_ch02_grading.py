"""Chapter 2's questions: the prose poses each question of grading/02_alexnet_counting/questions.yml
once, with the points of its hidden tests, and the chapter marks each one's answer and self-check cells.

What the hidden tests and the self-checks give each answer (the book's, the stubs, plausible wrong ones,
other correct ones) is data: grading/02_alexnet_counting/variants/<question>/*.py, run by
tests/test_variants.py."""

import re

import jupytext
import yaml
from conftest import CHAPTERS, ROOT
from grading_support import hidden_cases

STEM = "02_alexnet_counting"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = [q["name"] for q in QUESTIONS if not q.get("written")]


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    assert not any(q.get("written") for q in QUESTIONS)
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(names)
    posed = re.findall(r"Question `(\w+)` \(autograded, (\d+) points?\)", source)
    assert [name for name, _ in posed] == names, "the questions, in problem order"
    for name, shown in posed:
        module, cases = hidden_cases(STEM, name)
        assert module.name == name and len(cases) >= 2
        assert all(case.hidden for case in cases)
        assert int(shown) == module.points, f"{name}: the prose shows {shown} points"
        assert (shown == "1") == (f"`{name}` (autograded, 1 point)" in source)


def test_every_question_has_marked_answer_and_check_cells():
    cells = [
        c for c in jupytext.read(CHAPTERS / f"{STEM}.md").cells if c.cell_type == "code"
    ]
    for name in AUTOGRADED:
        answers = [c for c in cells if c.metadata.get("answer") == name]
        checks = [c for c in cells if c.metadata.get("check") == name]
        assert answers and checks, (
            f"{name}: {len(answers)} answer, {len(checks)} check cells"
        )
        assert all("### BEGIN SOLUTION" in c.source for c in answers), name
        assert all("hide-input" in c.metadata.get("tags", []) for c in checks), name
        assert (GRADING / "variants" / name).is_dir(), f"{name} has no variants"
