"""Code that fits the page: every code cell is formatted and linted with ruff (ruff.toml, `make format`),
and no code line is longer than 88 characters (ruff's E501), in a chapter's source, its twin and its
student notebook, so a desktop page shows every line without a sideways scroll; tools, tests, grading
and the helper module are formatted and linted too (their comments may run longer). A chapter's .md is read through jupytext as a notebook, the way
`make format` formats it, so ruff sees its code cells."""

import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT, run

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
    chapter = tmp_path / "09_demo.md"
    chapter.write_text(
        (CHAPTERS / f"{CHAPTER_STEMS[0]}.md").read_text().split("\n---\n", 1)[0]
        + "\n---\n\n# Demo\n\n```{code-cell} ipython3\nimport os\nx = {'a':1}\ny = '"
        + "a" * 90
        + "'\n```\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "CHAPTERS", tmp_path)
    checked = on_chapter_source(CHECK, "09_demo")
    assert "F401" in checked.stdout and "E501" in checked.stdout
    assert on_chapter_source(FORMAT, "09_demo").returncode == 1
