"""Shared fixtures: the chapters as the book build executed them (run_chapter), chapter 1's twin run
alone the way Colab would (twin_alone), the site pipeline, and reading glued values."""

import ast
import contextlib
import functools
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import psutil
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS, BUILD = ROOT / "chapters", ROOT / "_build"
CHAPTER_STEMS = sorted(p.stem for p in CHAPTERS.glob("[0-9][0-9]_*.md"))
SESSION_START = time.monotonic()


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def glued_values(notebook):
    """{name: value} for every myst_nb.glue call in an executed notebook (literal values parsed)."""
    return {
        output["metadata"]["scrapbook"]["name"]: _literal(
            output["data"].get("application/papermill.record/text/plain", "")
        )
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("metadata", {}).get("scrapbook", {}).get("name") is not None
    }


@dataclass
class ExecutedChapter:
    notebook: nbformat.NotebookNode
    glue: dict
    seconds: float
    workdir: Path

    @property
    def outputs(self):
        return [o for cell in self.notebook.cells for o in cell.get("outputs", [])]

    @property
    def text(self):
        """All stream and text/plain outputs, joined: what a reader sees."""
        return "\n".join(
            o.get("text", "")
            if o.get("output_type") == "stream"
            else o["data"]["text/plain"]
            for o in self.outputs
            if o.get("output_type") == "stream" or "text/plain" in o.get("data", {})
        )

    @property
    def images(self):
        """How many PNG figures the chapter drew."""
        return sum("image/png" in o.get("data", {}) for o in self.outputs)


def run(command, **options):
    """The finished process of command, run in the repository, its output captured as text."""
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **options)


def run_notebook(notebook, workdir: Path, timeout=900):
    """Run the notebook (in place) top to bottom in a fresh kernel in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    resources = {"metadata": {"path": str(workdir)}}
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources=resources
    ).execute()


def execute_notebook(source: Path, workdir: Path, timeout=900) -> ExecutedChapter:
    """Copy one notebook alone into workdir and run it top to bottom in a fresh kernel there."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / source.name
    shutil.copy(source, target)
    notebook = nbformat.read(target, as_version=4)
    start = time.perf_counter()
    run_notebook(notebook, workdir, timeout)
    seconds = time.perf_counter() - start
    return ExecutedChapter(notebook, glued_values(notebook), seconds, workdir)


def built_chapter(stem) -> ExecutedChapter:
    """The chapter as the book build executed it (`make book`, cwd chapters/): the notebook myst-nb
    writes to _build/jupyter_execute, its glued values (moved by myst-nb to <stem>.glue.json), and the
    execution time that jupyter-cache recorded (the chapter's own provenance note if there is none)."""
    path = BUILD / "jupyter_execute" / "chapters" / f"{stem}.ipynb"
    assert path.is_file(), f"the book build wrote no {path.relative_to(ROOT)}"
    notebook = nbformat.read(path, as_version=4)
    if not any(cell.get("outputs") for cell in notebook.cells):
        # myst-nb 1.4 writes a chapter it re-read from jupyter-cache without its outputs
        notebook = _execution_cache().merge_match_into_notebook(notebook)[1]
    glue = glued_values(notebook)
    glue_file = path.with_suffix(".glue.json")
    if glue_file.is_file():
        for name, output in json.loads(glue_file.read_text(encoding="utf-8")).items():
            glue[name] = _literal(output.get("data", {}).get("text/plain", ""))
    seconds = _cached_execution_seconds(stem)
    if seconds is None:
        seconds = glue.get(f"ch{int(stem[:2])}_measured_provenance_wall_s", 0.0)
    return ExecutedChapter(notebook, glue, seconds, CHAPTERS)


def _execution_cache():
    from jupyter_cache import get_cache

    return get_cache(str(BUILD / ".jupyter_cache"))


def _cached_execution_seconds(stem):
    if not (BUILD / ".jupyter_cache").is_dir():
        return None
    records = _execution_cache().list_cache_records()
    records = [r for r in records if Path(r.uri).name == f"{stem}.md"]
    if records:
        return max(records, key=lambda r: r.created).data.get("execution_seconds")


@pytest.fixture(scope="session")
def run_chapter(built_site):
    """run_chapter("01_logsumexp"): that chapter as the book build executed it (no second execution).
    The strict build fails on any failing cell, a self-check's CheckFailed included. `workdir` is
    chapters/. Only tests/test_twins.py runs a twin again, alone in an empty folder."""
    return functools.cache(built_chapter)


@pytest.fixture(scope="module")
def chapter(run_chapter, request):
    """The chapter named by the test module's STEM, as the book build executed it."""
    return run_chapter(request.module.STEM)


def toc_files():
    """The book's files in reading order (_toc.yml): the root, then every chapter and section."""

    def files(entries):
        for entry in entries or []:
            if "file" in entry:
                yield entry["file"]
            for key in ("sections", "chapters"):
                yield from files(entry.get(key))
            for part in entry.get("parts", []):
                yield from files(part.get("chapters"))

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *files(toc.get("chapters")), *files(toc.get("parts"))]


ALONE = "01_logsumexp"  # the twin run alone: the cheapest chapter


@pytest.fixture(scope="session")
def twin_alone(tmp_path_factory):
    """Chapter 1's .ipynb twin run to the end in a fresh kernel, alone in an empty folder, with only
    the pip packages (its hidden first cell writes the book's helper module next to it)."""
    twin = CHAPTERS / f"{ALONE}.ipynb"
    assert twin.exists(), f"{twin} is missing: run `make sync`"
    return execute_notebook(twin, tmp_path_factory.mktemp("alone") / "empty")


def assert_ok(what, result):
    output = f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    assert result.returncode == 0, f"{what} failed:\n{output}"
    return result


# --- The site pipeline, in the background --------------------------------------------------------
# The book build, the student site, the PDF and the accessibility audit are a chain of long jobs, the
# suite's longest path. When a session collects tests that need any of them, the chain starts at
# collection, in a background thread, one step after the other, and the tests run at a lower priority
# (os.nice in the main thread only: Linux keeps a nice value per thread, and a child inherits its
# starting thread's). The chapter tests read the book build's executed notebooks (run_chapter), so no
# chapter runs twice. Tests that need a step run after every test that needs none, in the order of the
# steps they wait for. BOOK_TESTS_SERIAL=1 turns this off: a fixture then runs its step when needed.
def tex_available():
    return all(map(shutil.which, ("xelatex", "latexmk", "pdftotext", "pdfimages")))


def _a11y_command():
    sites = [f"reader={BUILD / 'html'}", f"student={BUILD / 'student' / 'html'}"]
    out = ["--out", str(BUILD / "a11y.json"), "--jobs", "2"]
    return [sys.executable, str(ROOT / "tools" / "a11y_audit.py"), *sites, *out]


def make_dry_run(target):
    """What `make -n <target>` would run."""
    command = ["make", "--no-print-directory", "-n", target]
    return assert_ok(command, run(command)).stdout


def book_build_command():
    """The one `jupyter-book build` line `make book` runs."""
    lines = make_dry_run("book").splitlines()
    (command,) = [line.strip() for line in lines if "jupyter-book build" in line]
    return command


BUILD_FLAGS = re.search(
    r"^BUILD_FLAGS := (.*)$", (ROOT / "Makefile").read_text(), re.M
)[1]
# step: (command, fixtures that need it); in the order they run (each needs those before it).
SITE_STEPS = {
    "book": (lambda: ["make", "--no-print-directory", "book"], {"built_site"}),
    "student": (lambda: ["make", "--no-print-directory", "student"], {"student_site"}),
    # `make pdf` without its prerequisites (built by then; `student` would rebuild in full)
    "pdf": (
        lambda: [sys.executable, "tools/build_pdf.py", "--build-flags", BUILD_FLAGS],
        {"built_pdf"},
    ),
    "a11y": (_a11y_command, {"a11y_report"}),
}


class SitePipeline:
    def __init__(self, steps):
        self.steps = steps
        self.done = {step: threading.Event() for step in steps}
        self.results = {}
        self.timeline = []  # (step, seconds after the session began it started, seconds it took)
        self.waits = []  # (step, when the tests began to wait for it, seconds they waited)
        self.process = None
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        threading.Thread(target=self._lower_the_tests, daemon=True).start()

    def _run(self):
        failed = None
        for step in self.steps:
            if failed or self.stopped:
                why = f"not run: step {failed!r} failed" if failed else "stopped"
                self.results[step] = subprocess.CompletedProcess([], 1, "", why)
            else:
                self.results[step] = self._execute(step)
                failed = step if self.results[step].returncode != 0 else None
            self.done[step].set()

    def _lower_the_tests(self):
        """Linux shares the CPU between sessions first (autogroups), and every Jupyter kernel runs
        in a session of its own, so os.nice misses the kernels the tests start. Every second, the
        sessions that pytest's descendants outside the running step started get nice 10."""

        def tree(process):
            with contextlib.suppress(psutil.Error, AttributeError):
                process = psutil.Process(process.pid)
                return {process.pid, *(c.pid for c in process.children(recursive=True))}
            return set()

        while not self.stopped and not self.done[self.steps[-1]].is_set():
            for pid in tree(psutil.Process()) - tree(self.process):
                with contextlib.suppress(OSError):
                    if os.getsid(pid) != os.getsid(0):  # not the shell's session
                        Path(f"/proc/{pid}/autogroup").write_text("10")
            time.sleep(1)

    def _execute(self, step):
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            began = time.monotonic()
            options = dict(stdout=out, stderr=err, text=True, start_new_session=True)
            self.process = subprocess.Popen(SITE_STEPS[step][0](), cwd=ROOT, **options)
            code = self.process.wait()
            took = time.monotonic() - began
            self.timeline.append((step, began - SESSION_START, took))
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                self.process.args, code, out.read(), err.read()
            )

    def result(self, step):
        if not self.done[step].is_set():  # the tests wait: when, and for how long
            began = time.monotonic()
            self.done[step].wait()
            self.waits.append((step, began - SESSION_START, time.monotonic() - began))
        return self.results[step]

    def stop(self):
        self.stopped = True
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)


_pipeline = None


def _needs(item):
    fixtures = set(getattr(item, "fixturenames", ()))
    return {step for step, (_, needs) in SITE_STEPS.items() if needs & fixtures}


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(session, config, items):
    global _pipeline
    if os.environ.get("BOOK_TESTS_SERIAL") != "1" and not config.option.collectonly:
        _start_early(items)
    needed = set().union(*(_needs(item) for item in items)) if items else set()
    if not needed:
        return
    # Tests that need no step first; then the others, in the order of the steps they wait for.
    order = list(SITE_STEPS)
    items.sort(key=lambda item: max((order.index(s) for s in _needs(item)), default=-1))
    if os.environ.get("BOOK_TESTS_SERIAL") == "1" or config.option.collectonly:
        return
    # Every step runs after those before it (the student site reads the book's execution cache).
    last = max(order.index(step) for step in needed)
    pdf = "pdf" in needed and tex_available()
    steps = [step for step in order[: last + 1] if step != "pdf" or pdf]
    student_check_as_committed()  # before `make student` rewrites student/
    _pipeline = SitePipeline(steps)
    # this thread only: the pipeline's thread and its steps keep their priority
    os.nice(10)


def pytest_terminal_summary(terminalreporter):
    # Where the suite's time goes: is the pipeline or the main thread the longer path?
    for what, spans in (("site pipeline", "timeline"), ("tests waited for", "waits")):
        if _pipeline is not None and getattr(_pipeline, spans):
            steps = ", ".join(
                f"{step} at {start:.0f} s for {took:.0f} s"
                for step, start, took in getattr(_pipeline, spans)
            )
            terminalreporter.write_line(f"{what}: {steps}")


def pytest_sessionfinish(session, exitstatus):
    if _pipeline is not None:
        _pipeline.stop()
    _worker.shutdown(cancel_futures=True)
    if exitstatus == 0:
        shutil.rmtree(_EARLY_ROOT)


def site_step(step):
    """The finished process of one pipeline step (run now if there is no pipeline)."""
    if _pipeline is not None and step in _pipeline.steps:
        return _pipeline.result(step)
    return run(SITE_STEPS[step][0]())


@functools.cache
def student_check_as_committed():
    """`tools/make_student.py --check` as run when the session started, before the pipeline's
    `make student` rewrote the student notebooks that drifted from the chapters."""
    return run([sys.executable, "tools/make_student.py", "--check"])


@pytest.fixture(scope="session")
def built_site():
    """The strict HTML build (`make book`), once per session; returns _build/html."""
    assert_ok("make book", site_step("book"))
    return BUILD / "html"


@pytest.fixture(scope="session")
def student_site(built_site):
    """`make student`, once per session; returns _build/student/html (the solution-free site)."""
    assert_ok("make student", site_step("student"))
    return BUILD / "student" / "html"


# --- Work that mostly waits (a class graded in kernels, endless loops killed at a timeout) --------
# starts at collection in one background thread when a collected test uses the fixture that
# registered it (@early); the fixture then takes its result (or runs it, BOOK_TESTS_SERIAL=1).
_EARLY = {}  # work (a function of a fresh folder): (its module, the fixture that takes its result)
_futures, _worker = {}, ThreadPoolExecutor(max_workers=1)
_EARLY_ROOT = Path(tempfile.mkdtemp(prefix="dl-book-early-"))  # removed if all pass


def _folder_for(work):
    (folder := _EARLY_ROOT / work.__name__).mkdir()
    return folder


def early(fixture):
    def register(work):
        _EARLY[work] = (work.__module__, fixture)
        return work

    return register


def _start_early(items):
    used = {(getattr(i, "module", None), f) for i in items for f in i.fixturenames}
    used = {(m.__name__, f) for m, f in used if m} | {("conftest", f) for _, f in used}
    for work in [w for w, key in _EARLY.items() if key in used]:
        _futures[work] = _worker.submit(work, _folder_for(work))


def early_result(work):
    """What `work` returned, or raised (run now, in this thread, if it was not started)."""
    if work not in _futures:
        _futures[work] = future = Future()
        try:
            future.set_result(work(_folder_for(work)))
        except Exception as error:  # noqa: BLE001 (raised below, to every caller)
            future.set_exception(error)
    return _futures[work].result()


@early("autograders")
def make_autograders(out):
    command = [sys.executable, "tools/make_autograder.py", "--out", str(out)]
    assert_ok("make_autograder", run(command))
    return out


@pytest.fixture(scope="session")
def autograders():
    """`tools/make_autograder.py` once per session: the folder of every graded chapter's autograder."""
    return early_result(make_autograders)


def run_cells(
    stem,
    *derivations,
    upto=False,
    answers=(),
    sources=(),
    extra="",
    wrong=None,
    edit=None,
    namespace=None,
):
    """Run chapter `stem`'s code cells in-process (in chapters/, quiet, `glue` a no-op); return
    their namespace. First the setup cell and either every cell before `derivations` (`upto`; timing
    cells aside) or the `:answer:` cells of the questions `answers` and the cells containing one of
    `sources`; or, given `namespace` (an earlier run's), that one instead, restored after. Then the
    source `extra`; then `wrong`, {name: function of the namespace giving its wrong value}; last the
    `:derivation:` cells of each of `derivations`. `edit` = (old, new) replaces `old`, found exactly
    once in the cells run. The tests show with it that a derivation's check stops a mistake."""
    import matplotlib

    matplotlib.use("Agg")  # figures drawn, never shown
    cells = jupytext.read(CHAPTERS / f"{stem}.md").cells
    code = [c for c in cells if c.cell_type == "code"]
    marked = [c for d in derivations for c in code if c.metadata.get("derivation") == d]
    # LookupError, not AssertionError: a test that expects a check to fail must not pass on it
    if {c.metadata["derivation"] for c in marked} != set(derivations):
        raise LookupError(f"{stem}: one of {derivations} marks no cell")
    restore = namespace is not None  # an earlier run's namespace, left as it was
    if restore:
        prelude = []
    elif upto:
        before = code[: code.index(marked[0])]
        prelude = [c for c in before if "timing" not in c.metadata]
    else:
        prelude = [code[0]] + [
            c
            for c in code[1:]
            if c.metadata.get("answer") in answers
            or any(piece in c.source for piece in sources)
        ]
    namespace = namespace if restore else {"__name__": "__main__"}
    saved = dict(namespace)
    prelude, checked = [c.source for c in prelude], [c.source for c in marked]
    if edit is not None:
        old, new = edit
        if sum(source.count(old) for source in prelude + checked) != 1:
            raise LookupError(f"{old!r} is not found exactly once in the cells run")
        prelude, checked = (
            [source.replace(old, new) for source in part] for part in (prelude, checked)
        )
    try:
        with contextlib.chdir(CHAPTERS), contextlib.redirect_stdout(io.StringIO()):
            for source in [*prelude, extra]:
                exec(compile(source, stem, "exec"), namespace)
                namespace["glue"] = lambda *args, **kwargs: None
            namespace.update({n: make(namespace) for n, make in (wrong or {}).items()})
            for source in checked:
                exec(compile(source, "derivation", "exec"), namespace)
    finally:
        if restore:
            namespace.clear()
            namespace.update(saved)
    return namespace
