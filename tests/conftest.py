"""Shared fixtures: execute a chapter's .ipynb twin the way Colab would, and read its glued values."""

import ast
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
CHAPTER_STEMS = sorted(p.stem for p in CHAPTERS.glob("[0-9][0-9]_*.md"))


def glued_values(notebook):
    """{name: value} for every myst_nb.glue call in an executed notebook (literal values parsed)."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            text = output["data"].get("application/papermill.record/text/plain", "")
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
    return values


def cell_text_outputs(notebook):
    """All stream and text/plain outputs, joined; for asserting on what a reader sees."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append(output["data"]["text/plain"])
    return "\n".join(parts)


@dataclass
class ExecutedChapter:
    notebook: nbformat.NotebookNode
    glue: dict
    seconds: float
    workdir: Path

    @property
    def text(self):
        return cell_text_outputs(self.notebook)


def execute_notebook(source: Path, workdir: Path, timeout=900) -> ExecutedChapter:
    """Copy one notebook alone into workdir and run it top to bottom in a fresh kernel there."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / source.name
    shutil.copy(source, target)
    notebook = nbformat.read(target, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    return ExecutedChapter(notebook, glued_values(notebook), seconds, workdir)


SOLUTION_REGION = re.compile(r"(### BEGIN SOLUTION\n).*?(\n\s*### END SOLUTION)", re.S)


def replace_solution(cells, function_name, new_body):
    """Put new_body between the solution markers of the one code cell among `cells` that defines
    function_name (the plausible wrong answer a test injects). Edits the cells in place."""
    replaced = 0
    for cell in cells:
        if cell.cell_type == "code" and f"def {function_name}(" in cell.source:
            cell.source, count = SOLUTION_REGION.subn(
                lambda m: m.group(1) + new_body + m.group(2), cell.source
            )
            replaced += count
    assert replaced == 1, (
        f"expected one solution region defining {function_name}, found {replaced}"
    )


def execution_error(notebook, workdir: Path, timeout=600) -> str:
    """Run notebook top to bottom in a fresh kernel in workdir; it must fail. Returns the error's text
    (the failing cell, its traceback and the self-check's message)."""
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nbformat.from_dict(notebook),
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    return str(failure.value)


@pytest.fixture(scope="session")
def run_chapter(tmp_path_factory):
    """run_chapter("01_logsumexp") executes that chapter's twin once per test session, from an empty folder."""
    cache = {}

    def run(stem):
        if stem not in cache:
            twin = CHAPTERS / f"{stem}.ipynb"
            assert twin.exists(), f"{twin} is missing: run `make sync`"
            cache[stem] = execute_notebook(twin, tmp_path_factory.mktemp(stem))
        return cache[stem]

    return run


def make(target, cwd=ROOT):
    """`make <target>` as the README runs it, output captured."""
    import subprocess

    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def make_ok(target):
    """`make <target>` in the repository; fails the test with the end of its log if it fails."""
    result = make(target)
    assert result.returncode == 0, (
        f"make {target} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


@pytest.fixture(scope="session")
def built_site():
    """The strict HTML build (`make book`), run once per session; returns _build/html."""
    make_ok("book")
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def student_site():
    """`make student`, run once per session; returns _build/student/html (the solution-free site)."""
    make_ok("student")
    return ROOT / "_build" / "student" / "html"
