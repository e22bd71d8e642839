"""The lean book's limits (issue 21), counted as CONTRIBUTING says; `pytest -s` prints the figures.

Visible code: code cells with no hide or remove tag, in the chapter source. The book's Python: chapter
code cells, the helper module, grading/ without its variants (data), tools/. Tests: pytest code in tests/."""

import statistics

import jupytext
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT

HIDDEN = {"hide-input", "remove-input", "remove-cell", "hide-cell"}


def code_cells(stem):
    notebook = jupytext.read(CHAPTERS / f"{stem}.md")
    return [c for c in notebook.cells if c.cell_type == "code"]


def lines(text):
    return len(text.splitlines())


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_a_chapters_visible_code_is_short(stem):
    cells = code_cells(stem)
    shown = [c for c in cells if not HIDDEN & set(c.metadata.get("tags", []))]
    marks = [{(k, c.metadata[k]) for c in s for k in ("answer", "check", "derivation") if k in c.metadata} for s in (cells, shown)]  # fmt: skip
    assert marks[0] == marks[1], f"hidden from the reader: {marks[0] - marks[1]}"
    visible = [lines(c.source) for c in shown]
    print(f"{stem}: {sum(visible)} visible lines in {len(visible)} cells, median "
          f"{statistics.median(visible)}, longest {max(visible)}")  # fmt: skip
    assert (
        sum(visible) <= 500 and statistics.median(visible) <= 15 and max(visible) <= 40
    )


def test_the_books_python_and_its_tests_fit_their_caps():
    files = [ROOT / "dlbook" / "__init__.py", *(ROOT / "tools").glob("*.py")]
    files += [p for p in (ROOT / "grading").rglob("*.py") if "variants" not in p.parts]
    chapters = sum(lines(c.source) for stem in CHAPTER_STEMS for c in code_cells(stem))
    python = chapters + sum(lines(p.read_text()) for p in files)
    tests = sum(lines(p.read_text()) for p in (ROOT / "tests").glob("*.py"))
    print(
        f"the book's Python: {python} lines ({chapters} in chapter code cells); tests: {tests}"
    )
    assert python <= 10_000 and tests <= 5_000
