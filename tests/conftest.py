"""Shared fixtures: the chapters as the book build executed them (run_chapter), chapter 1's twin run
alone the way Colab would (twin_alone), the site pipeline, and reading glued values."""

import ast
import json
import os
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
SESSION_START = time.monotonic()


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


def built_chapter(stem) -> ExecutedChapter:
    """The chapter as the book build executed it (`make book`, cwd chapters/): the notebook myst-nb
    writes to _build/jupyter_execute, its glued values (moved by myst-nb to <stem>.glue.json), and the
    execution time that jupyter-cache recorded (the chapter's own provenance note if there is none)."""
    executed = ROOT / "_build" / "jupyter_execute" / "chapters"
    path = executed / f"{stem}.ipynb"
    assert path.is_file(), f"the book build wrote no {path.relative_to(ROOT)}"
    notebook = nbformat.read(path, as_version=4)
    glue = glued_values(notebook)
    glue_file = path.with_suffix(".glue.json")
    if glue_file.is_file():
        for name, output in json.loads(glue_file.read_text(encoding="utf-8")).items():
            text = output.get("data", {}).get("text/plain", "")
            try:
                glue[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                glue[name] = text
    seconds = _cached_execution_seconds(stem)
    if seconds is None:
        seconds = glue.get(f"ch{int(stem[:2])}_measured_provenance_wall_s", 0.0)
    return ExecutedChapter(notebook, glue, seconds, CHAPTERS)


def _cached_execution_seconds(stem):
    from jupyter_cache import get_cache

    cache = ROOT / "_build" / ".jupyter_cache"
    if not cache.is_dir():
        return None
    records = [
        r
        for r in get_cache(str(cache)).list_cache_records()
        if Path(r.uri).name == f"{stem}.md"
    ]
    if not records:
        return None
    return max(records, key=lambda r: r.created).data.get("execution_seconds")


@pytest.fixture(scope="session")
def run_chapter(built_site):
    """run_chapter("01_logsumexp"): that chapter as the book build executed it (no second execution).
    The book's strict build fails on any failing cell, a self-check's CheckFailed included. `workdir`
    is chapters/ (the build runs there; data it writes is in chapters/data). Only tests/test_twins.py
    runs a twin again, alone in an empty folder."""
    cache = {}

    def run(stem):
        if stem not in cache:
            cache[stem] = built_chapter(stem)
        return cache[stem]

    return run


ALONE = "01_logsumexp"  # the twin run alone: the cheapest chapter


@pytest.fixture(scope="session")
def twin_alone(tmp_path_factory):
    """Chapter 1's .ipynb twin run to the end in a fresh kernel, alone in an empty folder, with only
    the pip packages (its hidden first cell writes the book's helper module next to it)."""
    twin = CHAPTERS / f"{ALONE}.ipynb"
    assert twin.exists(), f"{twin} is missing: run `make sync`"
    return execute_notebook(twin, tmp_path_factory.mktemp("alone") / "empty")


def assert_ok(what, result):
    assert result.returncode == 0, (
        f"{what} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


# ------------------------------------------------------------------------------------------------
# The site pipeline, in the background.
#
# The book build, the student site, the PDF and the accessibility audit are a chain of long, mostly
# single-core jobs. When a session collects tests that need any of them, the chain starts at collection,
# in a background thread, one step after the other, the book build first. The chapter tests read the
# book build's executed notebooks (run_chapter), so no chapter runs twice. Tests that need a step run
# after every test that needs none, in the order of the steps they wait for; everything else (grading,
# the one twin and the one student notebook run alone) runs meanwhile on the other core.
# A fixture waits for its step. BOOK_TESTS_SERIAL=1 turns this off: each fixture then runs its step
# when first needed.
# ------------------------------------------------------------------------------------------------
def tex_available():
    return all(
        shutil.which(tool) for tool in ("xelatex", "latexmk", "pdftotext", "pdfimages")
    )


def _a11y_command():
    import sys

    return [
        sys.executable,
        str(ROOT / "tools" / "a11y_audit.py"),
        f"reader={ROOT / '_build' / 'html'}",
        f"student={ROOT / '_build' / 'student' / 'html'}",
        "--out",
        str(ROOT / "_build" / "a11y.json"),
        "--jobs",
        "1",
    ]


# step: (command, fixtures that need it); in the order they run (each needs those before it).
SITE_STEPS = {
    "book": (lambda: ["make", "--no-print-directory", "book"], {"built_site"}),
    "student": (lambda: ["make", "--no-print-directory", "student"], {"student_site"}),
    "pdf": (lambda: ["make", "--no-print-directory", "pdf"], {"built_pdf"}),
    "a11y": (_a11y_command, {"a11y_report"}),
}


class SitePipeline:
    def __init__(self, steps):
        import threading

        self.steps = steps
        self.done = {step: threading.Event() for step in steps}
        self.results = {}
        self.timeline = []  # (step, seconds after the session began it started, seconds it took)
        self.process = None
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import subprocess
        import tempfile

        failed = None
        for step in self.steps:
            if failed or self.stopped:
                why = f"not run: step {failed!r} failed" if failed else "stopped"
                self.results[step] = subprocess.CompletedProcess([], 1, "", why)
            else:
                with (
                    tempfile.TemporaryFile("w+") as out,
                    tempfile.TemporaryFile("w+") as err,
                ):
                    began = time.monotonic()
                    self.process = subprocess.Popen(
                        SITE_STEPS[step][0](),
                        cwd=ROOT,
                        stdout=out,
                        stderr=err,
                        text=True,
                        start_new_session=True,
                    )
                    code = self.process.wait()
                    self.timeline.append(
                        (step, began - SESSION_START, time.monotonic() - began)
                    )
                    out.seek(0)
                    err.seek(0)
                    self.results[step] = subprocess.CompletedProcess(
                        self.process.args, code, out.read(), err.read()
                    )
                if code != 0:
                    failed = step
            self.done[step].set()

    def result(self, step):
        self.done[step].wait()
        return self.results[step]

    def stop(self):
        import os
        import signal

        self.stopped = True
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)


_pipeline = None


def _needs(item):
    return {
        step
        for step, (_, fixtures) in SITE_STEPS.items()
        if fixtures & set(getattr(item, "fixturenames", ()))
    }


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(session, config, items):
    global _pipeline
    needed = set().union(*(_needs(item) for item in items)) if items else set()
    if not needed:
        return
    # Tests that need no step first; then the others, in the order of the steps they wait for (stable
    # otherwise), so a test waits only for the steps it needs.
    order = list(SITE_STEPS)
    items.sort(key=lambda item: max((order.index(s) for s in _needs(item)), default=-1))
    if os.environ.get("BOOK_TESTS_SERIAL") == "1" or config.option.collectonly:
        return
    # Every step runs after those before it (the student site reads the book's execution cache).
    last = max(list(SITE_STEPS).index(step) for step in needed)
    steps = [
        step
        for step in list(SITE_STEPS)[: last + 1]
        if step != "pdf" or ("pdf" in needed and tex_available())
    ]
    record_student_files_before_the_pipeline()
    _pipeline = SitePipeline(steps)


def pytest_terminal_summary(terminalreporter):
    # Where the suite's time goes: is the pipeline or the main thread the longer path?
    if _pipeline is not None and _pipeline.timeline:
        steps = ", ".join(
            f"{step} at {start:.0f} s for {took:.0f} s"
            for step, start, took in _pipeline.timeline
        )
        terminalreporter.write_line(f"site pipeline: {steps}")


def pytest_sessionfinish(session, exitstatus):
    if _pipeline is not None:
        _pipeline.stop()


def site_step(step):
    """The finished process of one pipeline step (run now if there is no pipeline)."""
    import subprocess

    if _pipeline is not None and step in _pipeline.steps:
        return _pipeline.result(step)
    return subprocess.run(
        SITE_STEPS[step][0](), cwd=ROOT, capture_output=True, text=True
    )


# `make student` rewrites student notebooks that drifted from the chapters; the drift tests must see
# the files as committed, so they read this record, taken before the pipeline starts.
STUDENT_AT_START = {}


def record_student_files_before_the_pipeline():
    import subprocess
    import sys

    if STUDENT_AT_START:
        return
    folder = ROOT / "student"
    STUDENT_AT_START["files"] = {
        p: p.read_text(encoding="utf-8") for p in folder.glob("*") if p.is_file()
    }
    STUDENT_AT_START["check"] = subprocess.run(
        [sys.executable, "tools/make_student.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def student_files_as_committed():
    """{path: text} of student/ as it was when the session started."""
    record_student_files_before_the_pipeline()
    return STUDENT_AT_START["files"]


def student_check_as_committed():
    """`tools/make_student.py --check` as run when the session started."""
    record_student_files_before_the_pipeline()
    return STUDENT_AT_START["check"]


@pytest.fixture(scope="session")
def built_site():
    """The strict HTML build (`make book`), once per session; returns _build/html."""
    assert_ok("make book", site_step("book"))
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def student_site(built_site):
    """`make student`, once per session; returns _build/student/html (the solution-free site)."""
    assert_ok("make student", site_step("student"))
    return ROOT / "_build" / "student" / "html"


@pytest.fixture(scope="session")
def autograders(tmp_path_factory):
    """`tools/make_autograder.py` once per session: the folder of every graded chapter's autograder."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("autograders")
    assert_ok(
        "make_autograder",
        subprocess.run(
            [sys.executable, "tools/make_autograder.py", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ),
    )
    return out
