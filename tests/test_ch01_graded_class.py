"""Chapter 1 graded for real: a class made from its student notebook, graded in one `tools/grade.py` run
with the autograder zip (hidden tests and the zip's own copy of the helper module), gets exactly the
points its data says: untouched (every answer raises NotImplementedError) 0 on every question; correct
(each answer cell, metadata `answer: <question>`, holds the chapter's answer) full marks; wrong (each
answer cell holds a wrong variant, grading/01_logsumexp/variants/<question>/<name>.py) its POINTS.

The robustness cases (a crash, an endless loop, ...) are graded on the toy chapter (test_grading.py);
which hidden cases each variant fails is test_variants.py's: here the points come through otter."""

import ast
import csv
import functools
import io
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from conftest import CHAPTERS, ROOT, early, early_result, make_autograders
from grading_support import META, declared, grade_run, question_cases

sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

STEM = "01_logsumexp"
GRADING = ROOT / "grading" / STEM
CHAPTER = CHAPTERS / f"{STEM}.md"


def questions():
    """{name: points, or None for a written question} in questions.yml's order."""
    listed = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
    return {
        q["name"]: None
        if q.get("written")
        else question_cases(STEM, q["name"])[0].points
        for q in listed
    }


def answers(notebook):
    """{question: [code cells whose metadata says `answer: <question>`]}, in cell order."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("answer"):
            found.setdefault(cell.metadata["answer"], []).append(cell)
    return found


def book_answers():
    """{question: the chapter's answer code}."""
    found = answers(jupytext.read(CHAPTER))
    assert found, f"{CHAPTER.name}: no code cell has the metadata `answer: <question>`"
    return {q: "\n\n".join(c.source for c in cells) for q, cells in found.items()}


class Variant:
    """A variant file: its code without the docstring and the data (POINTS, SELF_CHECK, MESSAGE)."""

    def __init__(self, path: Path):
        text = path.read_text()
        drop = set()
        for i, node in enumerate(ast.parse(text).body):
            docstring = i == 0 and isinstance(node, ast.Expr)
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if docstring or getattr(target, "id", None) in META:
                drop |= set(range(node.lineno, node.end_lineno + 1))
        kept = [line for n, line in enumerate(text.splitlines(), 1) if n not in drop]
        self.code = "\n".join(kept).strip()
        self.points = declared(path)["POINTS"]
        self.defines = defined_names(ast.parse(self.code))


def defined_names(tree):
    """Top-level names a piece of code binds (imports aside: a module is the same everywhere)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {
                n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)
            }
    return names


def wrong_answers(book, full):
    """{question: wrong Variant}: one wrong variant per question where they can share a notebook.

    A notebook's final state holds one definition per name, so two chosen variants must not define the
    same name, and a question that keeps the book's answer must not define or use a name a chosen variant
    defines (else that question's points would not be the book's). Later questions are tried first:
    their answers may use earlier ones, which a wrong earlier answer would then change."""
    chosen = {}
    for question, points in reversed(full.items()):
        folder = GRADING / "variants" / question
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            variant = Variant(path)
            if variant.points < points and fits({**chosen, question: variant}, book):
                chosen[question] = variant
                break
    return chosen


def fits(chosen, book):
    taken = set()
    for variant in chosen.values():
        if variant.defines & taken:
            return False
        taken |= variant.defines
    for question, code in book.items():
        if question not in chosen:
            tree = ast.parse(code)
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            if (defined_names(tree) | used) & taken:
                return False
    return True


def student():
    """The student notebook as `make student` writes it (the helper module inlined first)."""
    (notebook,) = make_student.student_notebooks([CHAPTER]).values()
    return nbformat.reads(make_student.notebook_text(notebook), as_version=4)


def answered(code_of):
    """The student notebook with each question's answer cells replaced by code_of[question] (its first
    answer cell gets the code, the others are emptied)."""
    notebook = student()
    cells = answers(notebook)
    missing = sorted(set(code_of) - set(cells))
    assert not missing, f"student/{STEM}.ipynb: no answer cell for {missing}"
    for question, code in code_of.items():
        first, *rest = cells[question]
        first.source = code
        for cell in rest:
            cell.source = ""
    return notebook


@functools.cache
def class_plan():
    """({submission: {question: expected points}}, the book's answers, the wrong variants)."""
    full = {q: p for q, p in questions().items() if p is not None}
    book = book_answers()
    assert sorted(book) == sorted(full), "answer cells and autograded questions differ"
    wrong = wrong_answers(book, full)
    assert wrong, f"grading/{STEM}/variants holds no wrong variant to grade"
    expected = {
        "untouched": dict.fromkeys(full, 0),
        "correct": full,
        "wrong": {q: wrong[q].points if q in wrong else p for q, p in full.items()},
    }
    return expected, book, wrong


@early("graded")
def grade_chapter_1s_class(base):
    """The class graded in one `tools/grade.py` run (JOBS=2) with the autograder zip's own copy of
    the helper module (no DLBOOK_GRADER); returns the grades folder."""
    _, book, wrong = class_plan()
    (base / "submissions").mkdir()
    mixed = {**book, **{q: v.code for q, v in wrong.items()}}
    subs = {"untouched": student(), "correct": answered(book), "wrong": answered(mixed)}
    for name, notebook in subs.items():
        (base / "submissions" / f"{name}.ipynb").write_text(nbformat.writes(notebook))
    # The limits only stop a hung run: the slowest cell (the setup's imports) takes ~3 s alone.
    grade_run(
        STEM, base / "submissions", base, "DLBOOK_GRADER", out=base / "grades", jobs=2,
        autograder_dir=early_result(make_autograders), timeout=600, cell_timeout=120,
    )  # fmt: skip
    return base / "grades"


@pytest.fixture(scope="module")
def graded():
    return early_result(grade_chapter_1s_class)


def test_the_class_gets_its_exact_points(graded):
    expected, _, _ = class_plan()
    rows = list(csv.reader(io.StringIO((graded / f"{STEM}.csv").read_text())))
    names = list(questions())
    assert rows[0] == ["submission", *names, "total", "possible", "note"]
    autograded = {q for q, p in questions().items() if p is not None}
    got = {}
    for row in rows[1:]:
        cells = dict(zip(names, row[1:]))
        assert all(cells[q] == "" for q in names if q not in autograded), row
        got[row[0]] = ({q: float(cells[q]) for q in autograded}, row[-1])
    assert sorted(got) == sorted(expected)
    for name, points in expected.items():
        scores, note = got[name]
        assert note == "", f"{name}: {note}"
        assert scores == pytest.approx(points, abs=1e-4), name
