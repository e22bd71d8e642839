"""Code that fits the page: every code cell is formatted and linted with ruff (ruff.toml, `make format`),
and no code line is longer than 88 characters in a chapter, its twin or its student notebook, so a desktop
page shows every line without a sideways scroll."""

import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT

RUFF = Path(sys.executable).parent / "ruff"
LIMIT = tomllib.loads((ROOT / "ruff.toml").read_text())["line-length"]
TWINS = [CHAPTERS / f"{stem}.ipynb" for stem in CHAPTER_STEMS]
STUDENT = [ROOT / "student" / f"{stem}.ipynb" for stem in CHAPTER_STEMS]


def long_code_lines(cells, limit=LIMIT):
    """[(cell index, line)] for every code line longer than `limit` characters."""
    return [
        (i, line)
        for i, cell in enumerate(cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > limit
    ]


def test_the_line_limit_is_the_one_a_desktop_page_shows():
    assert LIMIT == 88


def test_the_length_check_finds_a_long_line():
    cells = [
        nbformat.v4.new_code_cell("x = 1\n" + "y = " + "1 + " * 21 + "1"),
        nbformat.v4.new_markdown_cell("a long prose line is fine " * 10),
    ]
    assert [i for i, _ in long_code_lines(cells)] == [0]


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_no_code_line_is_too_long(stem):
    sources = {
        f"chapters/{stem}.md": jupytext.read(CHAPTERS / f"{stem}.md").cells,
        f"chapters/{stem}.ipynb": nbformat.read(CHAPTERS / f"{stem}.ipynb", 4).cells,
        f"student/{stem}.ipynb": nbformat.read(
            ROOT / "student" / f"{stem}.ipynb", 4
        ).cells,
    }
    problems = [
        f"{name}, cell {i}: {len(line)} chars: {line.strip()[:70]}…"
        for name, cells in sources.items()
        for i, line in long_code_lines(cells)
    ]
    assert not problems, (
        f"code lines over {LIMIT} characters (`make format`, then wrap what remains):\n"
        + "\n".join(problems[:30])
    )


def ruff(*args):
    return subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True)


def test_code_cells_are_formatted_with_ruff():
    result = ruff(
        "format",
        "--check",
        "--diff",
        *map(str, TWINS + STUDENT),
        "tools",
        "tests",
        "_ext",
        "grading",
    )
    assert result.returncode == 0, (
        f"run `make format`:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    )


def test_code_cells_pass_ruff_check():
    result = ruff(
        "check",
        "--output-format",
        "concise",
        *map(str, TWINS + STUDENT),
        "tools",
        "tests",
        "_ext",
        "grading",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_ruff_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    assert ruff("check", str(bad)).returncode == 1


def test_format_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = {'a':1}\n")
    assert ruff("format", "--check", str(bad)).returncode == 1
