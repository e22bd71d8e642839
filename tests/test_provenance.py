"""Every chapter page ends with a generated provenance note (dlbook.provenance): when, with which versions,
on which CPU, how long; read from the book build's execution of each chapter."""

import importlib.metadata
import platform
import re

import pytest
from conftest import CHAPTER_STEMS

PACKAGES = ("torch", "torchvision", "sympy", "numpy")
KEYS = ("executed", "python", *PACKAGES, "cpu", "wall_s", "cpu_s")


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_provenance_values_describe_the_run(stem, run_chapter):
    glue = run_chapter(stem).glue
    values = {key: glue[f"ch{int(stem[:2])}_measured_provenance_{key}"] for key in KEYS}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", values["executed"])
    assert values["python"] == platform.python_version()
    for package in PACKAGES:
        assert values[package] == importlib.metadata.version(package)
    assert values["cpu"] and "logical cores" in values["cpu"]
    assert 0 < values["cpu_s"] and 0 < values["wall_s"]


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
