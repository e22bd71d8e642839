"""Code that fits the page: chapters (read through jupytext as notebooks, the way `make format` does),
twins and student notebooks are formatted and linted with ruff (ruff.toml), no code line over 88
characters (E501), so a desktop page needs no sideways scroll; tools, tests, grading and the helper
module are formatted and linted too (their comments may run longer)."""

import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT, run
from test_student_edition import demo_chapter

RUFF = Path(sys.executable).parent / "ruff"
LIMIT = tomllib.loads((ROOT / "ruff.toml").read_text())["line-length"]
NOTEBOOKS = [CHAPTERS / f"{stem}.ipynb" for stem in CHAPTER_STEMS] + [
    ROOT / "student" / f"{stem}.ipynb" for stem in CHAPTER_STEMS
]
PYTHON = ["tools", "tests", "_ext", "grading", "dlbook"]
FORMAT = ["format", "--check", "--diff"]
LINT = ["check", "--output-format", "concise"]
CHECK = [*LINT, "--extend-select", "E501"]  # in notebooks, lines fit the page


def ruff(*args, stdin=None):
    return run([str(RUFF), "--config", str(ROOT / "ruff.toml"), *args], input=stdin)


def on_chapter_source(args, stem):
    """ruff on the code cells of chapters/<stem>.md, read by jupytext as a notebook."""
    notebook = jupytext.writes(jupytext.read(CHAPTERS / f"{stem}.md"), fmt="ipynb")
    name = f"chapters/{stem}.md.ipynb"
    return ruff(*args, "--stdin-filename", name, "-", stdin=notebook)


def test_the_line_limit_is_the_one_a_desktop_page_shows():
    assert LIMIT == 88


@pytest.mark.parametrize("args", [FORMAT, CHECK], ids=["format", "check"])
def test_ruff_passes_on_chapters_twins_student_notebooks_and_python(args):
    results = [on_chapter_source(args, stem) for stem in CHAPTER_STEMS]
    results.append(ruff(*args, *map(str, NOTEBOOKS)))
    results.append(ruff(*(LINT if args == CHECK else args), *PYTHON))
    failed = [r.stdout[-4000:] + r.stderr[-2000:] for r in results if r.returncode]
    problems = "\n".join(failed)
    assert not problems, f"run `make format`, then wrap what remains:\n{problems}"


def test_ruff_can_fail_on_a_chapter_source(tmp_path, monkeypatch):
    """The checks are not blind: a long line, an unused import and unformatted code are found in a
    chapter's code cells read through jupytext."""
    code = f"import os\nx = {{'a':1}}\ny = '{'a' * 90}'"
    demo_chapter(tmp_path, f"```{{code-cell}} ipython3\n{code}\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "CHAPTERS", tmp_path)
    checked = on_chapter_source(CHECK, "09_demo")
    assert "F401" in checked.stdout and "E501" in checked.stdout
    assert on_chapter_source(FORMAT, "09_demo").returncode == 1
