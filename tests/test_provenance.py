"""Every chapter page ends with a generated provenance note: when, with which versions, on which CPU, how long."""

import importlib.metadata
import platform
import re
import sys

import jupytext
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT

TEMPLATE = ROOT / "templates" / "provenance.md"
PACKAGES = ("torch", "torchvision", "sympy", "numpy")
KEYS = ("executed", "python", *PACKAGES, "cpu", "wall_s", "cpu_s")


def template_cells():
    cells = jupytext.reads(TEMPLATE.read_text(encoding="utf-8"), fmt="md:myst").cells
    return [c for c in cells if c.cell_type == "markdown"][0].source, [
        c for c in cells if c.cell_type == "code"
    ][0]


def prefix(stem):
    return f"ch{int(stem[:2])}"


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_chapter_ends_with_the_template_provenance_cell(stem):
    heading, cell = template_cells()
    cells = jupytext.read(CHAPTERS / f"{stem}.md").cells
    expected = cell.source.replace('PREFIX = "chN"', f'PREFIX = "{prefix(stem)}"')
    assert cells[-1].cell_type == "code" and cells[-1].source == expected, (
        f'{stem}: the last cell must be templates/provenance.md\'s cell with PREFIX = "{prefix(stem)}"'
    )
    assert cells[-1].metadata.get("tags") == ["remove-input"]
    assert cells[-2].cell_type == "markdown" and cells[-2].source.strip().endswith(
        heading.strip()
    )


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_provenance_values_describe_the_run(stem, run_chapter):
    glue = run_chapter(stem).glue
    values = {key: glue[f"{prefix(stem)}_measured_provenance_{key}"] for key in KEYS}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", values["executed"])
    assert values["python"] == platform.python_version()
    for package in PACKAGES:
        assert values[package] == importlib.metadata.version(package)
    assert values["cpu"] and "logical cores" in values["cpu"]
    assert 0 < values["cpu_s"] and 0 < values["wall_s"] < 3600
    assert (
        run_chapter(stem).seconds * 0.5
        < values["wall_s"]
        < run_chapter(stem).seconds + 30
    )
    assert "Executed " in run_chapter(stem).text


def test_site_pages_end_with_the_note(built_site):
    for stem in CHAPTER_STEMS:
        page = (built_site / "chapters" / f"{stem}.html").read_text(encoding="utf-8")
        assert "Provenance" in page and "Executed " in page and "logical cores" in page
        assert page.rindex("Executed ") > page.rindex("<h2"), (
            f"{stem}: the note is not in the last section"
        )


def test_reproducing_page_is_in_the_book(built_site):
    page = (built_site / "reproducing.html").read_text(encoding="utf-8")
    assert "requirements.txt" in page and "_measured" in page


def test_provenance_values_are_treated_like_timings():
    """The determinism test compares glued values across builds; provenance must be exempt, the rest not."""
    sys.path.insert(0, str(ROOT / "tools"))
    import bench

    names = [
        f"{prefix(stem)}_measured_provenance_{key}"
        for stem in CHAPTER_STEMS
        for key in KEYS
    ]
    assert bench.comparable_glue(dict.fromkeys(names, 1)) == {}
    assert bench.comparable_glue({"ch1_provenance_python": 1}) == {
        "ch1_provenance_python": 1
    }
