"""Grade a folder of submissions of one chapter with its otter-grader autograder, locally and in parallel.

Run `_build/autograder/<stem>/autograder.zip` (tools/make_autograder.py) on the files of a folder and
merge them into the gradebook in _build/grades/ (the CSV is first copied to history/<stem>-<UTC>.csv):

* <stem>.csv -- a row per file (with --roster, per student: id, student, then its latest submission):
  submission, a column per question (points; a written question's from written/<question>-points.csv),
  total, possible, note (why a file was not graded, timed out, matched no student, was not handed in).
  Only the graded rows change; <stem>-canvas.csv (with --roster): its columns and the total;
* <stem>/feedback/<row>.md (per question the points and the failing tests' exception lines, never the
  hidden tests' code), <stem>/written/<question>.md (every row's written answer), <stem>/report.html
  (tools/grade_report.py), <stem>/executed/<row>.ipynb (the notebook as the grader ran it, outputs).

How a submission runs (see instructors.md for what this isolates and what it does not):

* this process imports otter once (~3 s) and forks one child per submission, at most JOBS at a time;
  the child starts a session of its own and runs otter's non-container grader (`otter.run.main`) in a
  fresh temporary folder that holds only that submission (nbformat-checked, kernelspec reset to
  python3, nothing else changed) and the autograder;
* each kernel gets an equal share of the cores: OMP_NUM_THREADS = cores // JOBS (at least 1) unless
  set. PyTorch otherwise starts one thread per core in every kernel; with two kernels contending for
  two cores, a chapter 3 submission took 73 s instead of 52 s;
* every notebook cell may run CELL_TIMEOUT seconds, then it is interrupted and the next cell runs
  (otter has no timeout: nbclient's defaults are set in the child). otter's own last cell, which runs
  the hidden tests, has no cell limit: the whole submission may take TIMEOUT seconds, then the child's
  process tree, kernel included, is killed and the row says so;
* all kernels share one data folder, DL_BOOK_DATA (default _build/grade_data), filled first;
* the parent reads the child's results.json after the child has ended, as untrusted data (shape
  checked, scores clamped to the question's points), deletes its folder, and only when every child
  has ended writes the gradebook (the rows and feedback it keeps were read before grading).

Usage: python tools/grade.py CHAPTER [SUBMISSIONS_DIR] [--jobs N] [--timeout S] [--cell-timeout S]
       [--roster CSV] [--canvas-column NAME] [--root DIR] [--autograder-dir DIR] [--out DIR]
Without SUBMISSIONS_DIR, nothing is graded: the written points are read again. Exit status 0
whenever the batch ran (a bad file gets a row with a note); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import math
import os
import re
import resource
import shutil
import signal
import symtable
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import nbformat
import psutil
import yaml
from nbclient import NotebookClient  # not nbconvert: see set_cell_timeout

ROOT = Path(__file__).resolve().parent.parent
# Seconds for a whole submission (kernel start and hidden tests included), and per notebook cell
# (`import torch` under load takes ~7 s).
DEFAULT_TIMEOUT, DEFAULT_CELL_TIMEOUT = 600, 60
# a results.json or executed notebook larger than this is not read
MAX_RESULT_BYTES = 5_000_000
# A written answer: a markdown line `**Answer to <name>** (written, graded by hand)`, then the answer.
ANSWER_LINE = re.compile(r"^\s*\*\*Answer to (\w+)\*\*.*$", re.M)
# otter's last cell runs the hidden tests (otter/execute/preprocessor.py, EXPORT_CELL_SOURCE).
GRADING_CELL_MARK = "Checker.check_if_not_already_checked"
# Canvas: <name>_[LATE_]<ID>_<submission id>_<file name>, -<n> before the extension if resubmitted
CANVAS = re.compile(r"[^_]+_(?:LATE_)?(\d+)_(\d+)_.*?(?:-(\d+))?(?:\.\w+)?")
ROSTER_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
GRADESCOPE_METADATA = "submission_metadata.yml"  # at the top of Gradescope's export
UNMATCHED = "not graded: matches no student of ROSTER; name it <SIS Login ID>.ipynb"
POLL = 0.25  # seconds between checks on the running children


class UsageError(Exception):
    """Misuse (unknown chapter, missing folder or autograder): exit 2 with the message."""


@dataclass
class Submission:
    name: str  # the row's name: the file's stem (the file name when two files share a stem)
    path: Path
    notebook: nbformat.NotebookNode | None = None
    note: str = ""
    scores: dict = field(default_factory=dict)  # {question: points earned}
    messages: dict = field(default_factory=dict)  # {question: [tests' messages]}
    seconds: float | None = None
    kernel: str = ""  # its kernel's peak resident memory and CPU time
    executed: bytes | None = None  # the notebook as otter ran it (for the instructor)
    pid: int | None = None  # while it runs
    workdir: Path | None = None
    deadline: float = 0.0
    started: float = 0.0
    descendants: set = field(default_factory=set)


# --- Before grading: read each file (in the parent; nothing runs) ---
def read_submission(path: Path, needed=frozenset()):
    """(notebook, "") or (None, reason). The kernelspec is reset to python3 (a Colab or R kernelspec
    would make otter fail), and run_what_answers_need; nothing else changes."""
    if path.suffix != ".ipynb":
        return None, f"not a notebook (.ipynb): {path.name}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing cell ids: nbformat adds them
            notebook = nbformat.reads(path.read_text(errors="replace"), as_version=4)
            nbformat.validate(notebook)
    except Exception as error:  # NotJSONError, ValidationError, ...
        first = str(error).strip().splitlines()[0][:150] if str(error).strip() else ""
        return None, f"not a valid notebook ({type(error).__name__}: {first})"
    kernel = dict(name="python3", display_name="Python 3", language="python")
    notebook.metadata["kernelspec"] = kernel
    return run_what_answers_need(notebook, needed), ""


SKIP = "otter_ignore"  # otter's tag: the book's own checks, timings and figures (tools/sync_twins.py)


def names_of(source: str):
    """(names the code binds globally, names it needs: reads or deletes before it binds them, or takes
    as arguments of its `test_` functions, as otter's tests take the notebook's globals)."""
    from IPython.core.inputtransformer2 import TransformerManager  # magics, `!pip`

    try:
        body = ast.parse(TransformerManager().transform_cell(source)).body
    except (SyntaxError, ValueError):
        return set(), set()  # no Python: it cannot run
    binds, needs = set(), set()
    for statement in body:  # in order: `x = 1; y = x` needs no earlier x
        top, bound = symtable.symtable(ast.unparse(statement), "c", "exec"), set()
        tables = [top]
        while tables:
            table = tables.pop()
            tables += table.get_children()
            for symbol in table.get_symbols():
                name, outside = symbol.get_name(), table is top or symbol.is_global()
                if outside and (symbol.is_assigned() or symbol.is_imported()):
                    bound.add(name)
                if outside and symbol.is_referenced() and name not in binds:
                    needs.add(name)
            if table.get_type() == "function" and table.get_name().startswith("test_"):
                needs |= set(table.get_parameters())
        names = [n for n in ast.walk(statement) if isinstance(n, ast.Name)]
        needs |= {n.id for n in names if isinstance(n.ctx, ast.Del)} - binds
        binds |= bound
    return binds, needs


def run_what_answers_need(notebook, needed=frozenset()):
    """The notebook (changed in place) with otter's skip tag taken off every tagged cell that binds a
    name a cell that runs needs, or the hidden tests (`needed`), until none does: grading skips the
    book's own checks, yet an answer may use anything the notebook defines."""
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    names = {id(c): names_of(c.source) for c in cells}
    skipped = [c for c in cells if SKIP in c.metadata.get("tags", [])]
    used = set(needed).union(*(names[id(c)][1] for c in cells if c not in skipped))
    while unskip := [c for c in skipped if names[id(c)][0] & used]:
        for cell in unskip:
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != SKIP]
            skipped.remove(cell)
            used |= names[id(cell)][1]
    return notebook


def hidden_tests_needs(autograder: Path) -> set:
    """What the autograder's tests need from the notebook (their `test_` functions' arguments, and
    what they read)."""
    with zipfile.ZipFile(autograder) as z:
        tests = [n for n in z.namelist() if re.fullmatch(r"tests/\w+\.py", n)]
        return set().union(*(names_of(z.read(n).decode())[1] for n in tests))


def written_answers(notebook, names) -> dict:
    """{name: answer text or None}: the text below each `**Answer to <name>**` line, in its cell and the
    markdown cells after it up to the next code cell or answer line (the first answer line counts)."""
    answers, current = {}, None
    for cell in notebook.cells if notebook is not None else []:
        if cell.cell_type != "markdown":
            current = None
            continue
        text, pos = cell.source, 0
        for match in ANSWER_LINE.finditer(text):
            if current is not None:
                answers[current].append(text[pos : match.start()])
            current = match.group(1) if match.group(1) not in answers else None
            if current is not None:
                answers[current] = []
            pos = match.end()
        if current is not None:
            answers[current].append(text[pos:])
    parts = {n: [p.strip() for p in answers.get(n, [])] for n in names}
    texts = {n: "\n\n".join(p for p in ps if p) for n, ps in parts.items()}
    return {name: text or None for name, text in texts.items()}


# --- The child: one submission ---
def _cell_timeout(seconds, cell):
    """nbclient's per-cell limit: none for otter's hidden-test cell (TIMEOUT bounds the whole run)."""
    return None if GRADING_CELL_MARK in cell.source else seconds


def set_cell_timeout(seconds: float) -> None:
    """Give nbclient a per-cell limit, then import otter (it has no timeout, and it builds its executor
    from a fresh Config, so only the traits' defaults reach it). In this order: traitlets caches immutable
    defaults when a subclass such as nbconvert's ExecutePreprocessor is created (on import)."""
    from nbclient import NotebookClient

    traits = NotebookClient.class_traits()
    traits["timeout_func"].default_value = partial(_cell_timeout, seconds)
    traits["interrupt_on_timeout"].default_value = True
    import otter.run  # noqa: F401  ~3 s, once: every forked child has it
    from nbconvert.preprocessors import ExecutePreprocessor

    executor = ExecutePreprocessor()
    if executor.timeout_func is None or not executor.interrupt_on_timeout:
        raise RuntimeError("cannot set the cell timeout: nbconvert imported early")


def _child(workdir: Path, autograder: Path) -> None:
    """Runs in the forked child: grade workdir/submission/submission.ipynb; never returns."""
    code = 1
    try:
        os.setsid()  # own session and process group: the parent kills it as a whole
        log = os.open(workdir / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1), os.dup2(log, 2)
        # otter unpacks the autograder (hidden tests included) into a mkdtemp: make it ours
        (tmp := workdir / "tmp").mkdir()
        os.environ["TMPDIR"] = str(tmp)  # the kernel's temporary files too
        tempfile.tempdir = None  # forget the parent's choice
        os.chdir(workdir)
        from otter.run import main as otter_run  # already imported (set_cell_timeout)

        (out := workdir / "out").mkdir()
        notebook = str(workdir / "submission" / "submission.ipynb")
        options = dict(autograder=str(autograder), output_dir=str(out), no_logo=True)
        results = otter_run(notebook, **options)
        cells = getattr(results.notebook, "cells", [])
        names = [o.get("ename") for c in cells for o in c.get("outputs", [])]
        kernel = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped: its peak, CPU
        cpu = kernel.ru_utime + kernel.ru_stime
        counts = f"{names.count('KeyboardInterrupt')} {kernel.ru_maxrss} {cpu:.1f}"
        (out / "counts.txt").write_text(counts)
        if getattr(results, "notebook", None) is not None:
            nbformat.write(results.notebook, str(out / "executed.ipynb"))
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(code)


def _kill(processes) -> None:
    for process in processes:
        with suppress(psutil.Error):
            process.kill()  # psutil checks that the pid was not reused


def _descendants(pid: int) -> set:
    with suppress(psutil.Error):
        return set(psutil.Process(pid).children(recursive=True))
    return set()


def start(sub: Submission, autograder: Path, timeout: float):
    sub.workdir = Path(tempfile.mkdtemp(prefix="grade-"))  # only this submission in it
    (sub.workdir / "submission").mkdir()
    nbformat.write(sub.notebook, sub.workdir / "submission" / "submission.ipynb")
    sys.stdout.flush(), sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(sub.workdir, autograder)
    sub.pid, sub.started = pid, time.monotonic()
    sub.deadline = sub.started + timeout


def finish(sub: Submission, questions, timed_out: bool, timeout: float) -> None:
    """Read the child's result (untrusted), then delete its folder and anything it left running."""
    sub.seconds = round(time.monotonic() - sub.started, 1)
    _kill(sub.descendants)  # e.g. a kernel a crashed otter left (pid reaped)
    auto = [q for q in questions if not q["written"]]
    if timed_out:
        sub.note = f"timed out after {timeout:g} s (TIMEOUT): killed, not graded; "
        sub.note += "look for an endless loop in code the tests call"
    else:
        read_results(sub, auto)
        executed = sub.workdir / "out" / "executed.ipynb"
        if executed.is_file() and not executed.is_symlink():
            if executed.stat().st_size <= MAX_RESULT_BYTES:
                sub.executed = executed.read_bytes()
    shutil.rmtree(sub.workdir, ignore_errors=True)


def read_results(sub: Submission, auto) -> None:
    out = sub.workdir / "out"
    path = out / "results.json"
    try:
        if not path.is_file() or path.is_symlink():
            raise ValueError("no results")
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise ValueError("results.json too large")
        data = json.loads(path.read_text(errors="replace"))
        tests = data["tests"] if isinstance(data, dict) else None
        if not isinstance(tests, list):
            raise ValueError("results.json has no list of tests")
    except Exception as error:
        lines = _lines(sub.workdir / "log.txt")
        why = lines[-1] if lines else str(error)
        sub.note = f"could not be graded: {why}"[:300]
        return
    tests = [t for t in tests if isinstance(t, dict)]
    named = [t for t in tests if isinstance(t.get("name"), str) and "score" in t]
    entries = {t["name"]: t for t in named}
    if not entries:  # "Autograder Failed": the hidden-test cell did not finish
        outputs = [t.get("output") for t in tests]
        texts = [s.strip() for s in outputs if isinstance(s, str) and s.strip()]
        last = [s.splitlines()[-1] for s in texts]
        sub.note = f"no scores from the autograder: {last[-1] if last else 'no output'}"
        sub.note = sub.note[:300]
        return
    missing = []
    for q in auto:
        entry = entries.get(q["name"])
        score = entry.get("score") if entry else None
        number = isinstance(score, int | float) and not isinstance(score, bool)
        if not number or not math.isfinite(score):
            missing.append(q["name"])
            continue
        sub.scores[q["name"]] = min(max(float(score), 0.0), float(q["points"]))
        if sub.scores[q["name"]] < q["points"]:
            output = entry.get("output")
            output = output if isinstance(output, str) else ""
            sub.messages[q["name"]] = failure_lines(output)
    notes = [f"no score for {', '.join(missing)}"] if missing else []
    interrupted = 0
    with suppress(OSError, ValueError):  # cells interrupted, kernel's peak KiB, CPU s
        counts = (out / "counts.txt").read_text()[:60]
        interrupted, peak, cpu = map(float, counts.split())
        sub.kernel = f", kernel peak {int(peak) // 1024} MB, {cpu:.1f} s CPU"
    if interrupted > 0:
        notes.append(f"{interrupted:g} cell(s) interrupted after CELL_TIMEOUT")
    sub.note = "; ".join(notes)


def failure_lines(output: str) -> list:
    """The last line of each failed test case in otter's output (`ExceptionType: message`)."""
    cases = re.split(r"\n(?=\s*\S+ - \d+ result:)", output)
    lines = [
        c.strip().splitlines()[-1].strip() for c in cases if "Test case failed" in c
    ]
    if not lines and output.strip():
        lines.append(output.strip().splitlines()[-1].strip())
    return [line[:500] for line in lines]


def _lines(path: Path) -> list:
    with suppress(OSError):
        lines = path.read_text(errors="replace").splitlines()
        return [s.strip() for s in lines if s.strip()]
    return []


def run_all(subs, questions, autograder, jobs, timeout) -> None:
    """Grade the notebooks, at most `jobs` at a time; every child is waited for or killed."""
    pending = [s for s in subs if s.notebook is not None]
    running = []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                running.append(pending.pop(0))
                start(running[-1], autograder, timeout)
            time.sleep(POLL)
            for sub in list(running):
                sub.descendants |= _descendants(sub.pid)
                done, _ = os.waitpid(sub.pid, os.WNOHANG)
                timed_out = not done and time.monotonic() > sub.deadline
                if timed_out:
                    _kill_group(sub)
                if done or timed_out:
                    running.remove(sub)
                    finish(sub, questions, timed_out, timeout)
                    line = f"  {sub.name}: {sub.seconds} s{sub.kernel} {sub.note}"
                    print(line.rstrip(), flush=True)
    finally:  # Ctrl-C or an error here: leave nothing running, no folder with the hidden tests
        for sub in running:
            _kill_group(sub)
            shutil.rmtree(sub.workdir, ignore_errors=True)


def _kill_group(sub: Submission) -> None:
    tree = sub.descendants | _descendants(sub.pid)
    with suppress(OSError):
        os.killpg(sub.pid, signal.SIGKILL)
    _kill(tree)  # the kernel runs in a session of its own: killpg misses it
    with suppress(ChildProcessError):
        os.waitpid(sub.pid, 0)


def prepare_data(root: Path, stem: str, data: Path, timeout: float) -> None:
    """Fill DL_BOOK_DATA once: run the solved twin up to its last cell that calls `cached(` or
    `load_cifar10(` (trained nets; CIFAR-10, or the offline mirror's decoded images); give every kernel
    the files' digests (dlbook.CACHE_DIGESTS): a file a submission rewrites is not used."""
    twin = root / "chapters" / f"{stem}.ipynb"
    cells = nbformat.read(twin, as_version=4).cells if twin.is_file() else []
    fills = re.compile(r"\b(cached|load_cifar10)\(")
    last = max((i for i, c in enumerate(cells) if fills.search(c.source)), default=-1)
    with tempfile.TemporaryDirectory() as cwd:
        meta, notebook = {"metadata": {"path": cwd}}, nbformat.v4.new_notebook()
        notebook.cells = cells[: last + 1]
        try:
            if last >= 0:  # a chapter that caches nothing needs no kernel
                NotebookClient(notebook, timeout=timeout, resources=meta).execute()
        except Exception as error:
            raise UsageError(f"{twin}'s cached results (for {data}): {error}") from None
    sums = {p.stem: p.read_text().strip() for p in data.glob("*.sha256")}
    os.environ["DL_BOOK_CACHE_SHA256"] = json.dumps(sums)


# --- The gradebook (written by the parent, after every child has ended) ---
def _num(x: float) -> str:
    return f"{x:g}"


def _letters(text) -> str:
    return re.sub(r"[^a-z]", "", str(text).lower())


def _number(text: str) -> float:
    return float(text) if re.fullmatch(r"\d*\.?\d+", text) else math.nan


def read_roster(path: Path) -> dict:
    """{ID: row} of the gradebook CSV Canvas exports (its "Points Possible" row has no ID)."""
    if not path.is_file():
        raise UsageError(f"no file ROSTER={path}")
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file, restval="")  # a short line: empty cells
        rows = {r["ID"].strip(): r for r in reader if (r.get("ID") or "").strip()}
    if missing := [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]:
        raise UsageError(
            f"ROSTER={path} has no column {missing}: give the gradebook CSV your LMS "
            f"exports (Canvas: Grades, Export), with the columns {ROSTER_COLUMNS}"
        )
    return rows


def roster_index(roster: dict) -> dict:
    """{token: ID}: each student's ID, SIS User ID, login (with and without @...) and name (letters
    only, last-first and first-last), lower case; a token two students share gives None."""
    index = {}
    for id_, r in roster.items():
        login, name = r["SIS Login ID"].strip().lower(), r["Student"]
        tokens = {id_, r["SIS User ID"].strip(), login, login.split("@")[0]}
        tokens |= {_letters(name), _letters("".join(name.split(",")[::-1]))}
        for token in tokens - {""}:
            index[token] = id_ if index.get(token, id_) == id_ else None
    return index


def _find(index: dict, text) -> str | None:
    text = str(text).strip().lower()  # an ID or login, its part before @, or a name
    return index.get(text) or index.get(text.split("@")[0]) or index.get(_letters(text))


def identify(sub: Submission, index: dict, metadata: dict):
    """(IDs of the submission's students, its order: the latest sorts last): Canvas's name, else
    Gradescope's metadata (each submitter's sid, email or name), else the file's name."""
    if match := CANVAS.fullmatch(sub.path.name):
        return [_find(index, match[1])], (int(match[2]), int(match[3] or 0))
    if isinstance(meta := metadata.get(sub.name), dict):
        when, keys = meta.get(":created_at"), (":sid", ":email", ":name")
        people = [p for p in meta.get(":submitters") or [] if isinstance(p, dict)]
        found = ((_find(index, p.get(k, "")) for k in keys) for p in people)
        ids = [next(filter(None, tokens), None) for tokens in found]
        return ids, (when.timestamp() if isinstance(when, datetime) else 0, 0)
    return [_find(index, sub.name)], (sub.path.stat().st_mtime, 0)


def match_roster(subs, roster, folder, questions, rows):
    """({ID: the student's latest submission}, rows): the students' rows so far, one per student
    without a submission, one per file no student matches (not graded)."""
    meta = folder / GRADESCOPE_METADATA if folder else None
    try:
        metadata = yaml.safe_load(meta.read_text()) if meta and meta.is_file() else {}
    except yaml.YAMLError as error:
        raise UsageError(f"{meta} is not YAML: {error}") from None
    metadata = metadata if isinstance(metadata, dict) else {}
    index, latest = roster_index(roster), {}
    rows = {k: r for k, r in rows.items() if r["id"]}
    for sub in subs:
        ids, order = identify(sub, index, metadata)
        for id_ in filter(None, ids):
            if id_ not in latest or order > latest[id_][0]:
                latest[id_] = (order, sub)
        if not any(ids):
            sub.note = UNMATCHED
            rows[sub.name] = new_row(sub, questions) | {"id": "", "student": ""}
    rows |= {i: new_row(None, questions, s) for i, s in roster.items() if i not in rows}
    return {id_: sub for id_, (_, sub) in latest.items()}, rows


def read_points(folder: Path, questions, keys, key_column: str) -> dict:
    """{question: {row key: points}} of the written/<question>-points.csv files, each checked
    against the points questions.yml states (a `Points Possible` row, if any, must equal them)."""
    result = {}
    for name, top in ((q["name"], q["points"]) for q in questions if q["written"]):
        if not (path := folder / f"{name}-points.csv").is_file():
            continue
        with path.open(newline="", encoding="utf-8-sig") as file:
            rows = [[c.strip() for c in r] + [""] for r in csv.reader(file) if any(r)]
        rows = rows or [[""]]
        table = {r[0]: r[1] for r in rows[1:]}
        if _number(stated := table.pop("Points Possible", f"{top}")) != top:
            raise UsageError(
                f"{path}: `Points Possible,{stated}`, but questions.yml gives {name} "
                f"{top:g} (printed in its statement): write {top:g} or delete the line"
            )
        given = {k: _number(v) for k, v in table.items() if v}
        head = rows[0][:2] == [key_column, "points"]
        wrong = [] if head else [f"the first line is not `{key_column},points`"]
        wrong += [f"{k!r} is no row of the gradebook" for k in given if k not in keys]
        over = (k for k, v in given.items() if not 0 <= v <= top)
        wrong += [f"{k}'s {table[k]!r} is not a number from 0 to {top:g}" for k in over]
        if wrong:
            raise UsageError(f"{path}: {'; '.join(wrong)}")
        result[name] = given
    return result


def read_previous(out: Path, stem: str, head: list):
    """The gradebook so far, read before grading: {key: row}, feedback {key: text}, written
    answers {question: {key: quoted}}. Its CSV is first copied to history/<stem>-<UTC time>.csv."""
    path, folder = out / f"{stem}.csv", out / stem
    if not path.is_file():
        return {}, {}, {}
    (out / "history").mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    shutil.copyfile(path, out / "history" / f"{stem}-{stamp}.csv")
    with path.open(newline="") as file:
        if (reader := csv.DictReader(file)).fieldnames != head:
            raise UsageError(
                f"{path} has the columns {reader.fieldnames}, not {head}: the questions "
                "or ROSTER changed; move it away to start a new gradebook"
            )
        rows = {r.get("id") or r["submission"]: r for r in reader}
    files = {p.stem: p for p in (folder / "feedback").glob("*.md")}
    written = {}
    for p in (folder / "written").glob("*.md"):
        parts = (s.partition("\n\n") for s in p.read_text().split("\n## ")[1:])
        written[p.stem] = {k: v.strip() for k, _, v in parts}
    return rows, {k: files[k].read_text() for k in rows if k in files}, written


def new_row(sub, questions, student=None) -> dict:
    """The row of a graded submission, or of a student without one (sub None)."""
    row = {"submission": "", "note": "no submission"}
    row |= {"submission": sub.name, "note": sub.note} if sub else {}
    for name in (q["name"] for q in questions):
        row[name] = _num(sub.scores[name]) if sub and name in sub.scores else ""
    if student:
        row |= {"id": student["ID"], "student": student["Student"]}
    return row


def feedback_text(sub: Submission, questions, stem: str) -> str:
    possible = _num(sum(q["points"] for q in questions if not q["written"]))
    lines = [f"# Feedback on {sub.name} ({stem})", ""]
    lines += [f"Autograded points: {_num(sum(sub.scores.values()))} / {possible}"]
    lines += ["", f"Note: {sub.note}"] if sub.note else []
    lines += ["", f"Graded in {sub.seconds:.1f} s."] if sub.seconds is not None else []
    for q in questions:
        lines += ["", f"## {q['title']} (`{q['name']}`)", ""]
        if q["written"]:
            lines.append(f"Written: graded by hand, out of {_num(q['points'])}.")
            continue
        score = _num(sub.scores.get(q["name"], 0))
        lines.append(f"{score} / {_num(q['points'])} points")
        if failing := sub.messages.get(q["name"], []):
            lines += ["", "Failing tests:"] + [f"- `{m}`" for m in failing]
    return "\n".join(lines) + "\n"


def _quoted(sub: Submission, name: str) -> str:
    answer = written_answers(sub.notebook, [name])[name] or "(no answer found)"
    return "\n".join(f"> {line}" for line in answer.splitlines())


def _write(path: Path, rows=(), text="") -> None:
    buffer = io.StringIO()  # the rows as CSV, or the text
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.unlink(missing_ok=True)  # a symlink planted there is replaced, not followed
    path.write_text(text or buffer.getvalue())


def write_gradebook(out: Path, stem: str, book, questions, roster, column) -> Path:
    """Write the CSV, the feedback, the written answers, the graded rows' executed notebooks, with a
    roster <stem>-canvas.csv, and the report. book: the columns, rows, graded {key: submission}, the
    previous feedback and written answers, the written points."""
    graded, rows, points, head = map(book.get, ("graded", "rows", "points", "head"))
    folder = out / stem
    shutil.rmtree(folder / "feedback", ignore_errors=True)  # nothing planted survives
    for name in ("feedback", "written", "executed"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for path in (folder / "executed").iterdir():  # the kept rows' notebooks stay
        if path.stem in graded or path.stem not in rows or not path.is_file():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    feedback = {k: feedback_text(s, questions, stem) for k, s in graded.items()}
    for key, text in (texts := book["feedback"] | feedback).items():
        (folder / "feedback" / f"{key}.md").write_text(text)
    for key, sub in graded.items():
        if sub.executed is not None:  # what the tests saw, outputs included
            (folder / "executed" / f"{key}.ipynb").write_bytes(sub.executed)
    for q in (q for q in questions if q["written"]):
        answers = {k: _quoted(s, q["name"]) for k, s in graded.items()}
        answers = book["written"].get(q["name"], {}) | answers
        answers = {k: answers[k] for k in sorted(answers) if k in rows}  # a row's each
        text = f"# {q['title']} (`{q['name']}`)\n\nWritten answers of {len(answers)} "
        text += "submissions, graded by hand (each quoted below its row's name).\n"
        text += "".join(f"\n## {k}\n\n{answer}\n" for k, answer in answers.items())
        (folder / "written" / f"{q['name']}.md").write_text(text)
    possible = sum(q["points"] for q in questions)
    for key, row in rows.items():
        for q, given in points.items():
            row[q] = _num(given[key]) if key in given else ""
        cells = [float(row[q["name"]]) for q in questions if row[q["name"]]]
        row["total"] = _num(sum(cells)) if row["submission"] or cells else ""
        row["possible"] = _num(possible)
    order = sorted(rows.values(), key=lambda r: (r.get("student", ""), r["submission"]))
    _write(out / f"{stem}.csv", [head, *(map(r.get, head) for r in order)])
    if roster:
        totals = (
            [*map(r.get, ROSTER_COLUMNS), rows[i]["total"]] for i, r in roster.items()
        )
        _write(out / f"{stem}-canvas.csv", [[*ROSTER_COLUMNS, column], *totals])
    import grade_report  # matplotlib: only once there is a gradebook to draw

    _write(folder / "report.html", text=grade_report.page(stem, questions, rows, texts))
    return out / f"{stem}.csv"


# --- The folder and the command line ---
def submissions_of(folder: Path) -> list:
    """Every file in the folder (hidden files and Gradescope's metadata aside) and every
    submission_<id>/ folder of a Gradescope export (its notebook), as rows sorted by name."""
    paths = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    files = [p for p in paths if p.is_file() and p.name != GRADESCOPE_METADATA]
    stems = [p.stem for p in files]
    subs = [Submission(p.name if stems.count(p.stem) > 1 else p.stem, p) for p in files]
    for p in (p for p in paths if p.is_dir() and p.name.startswith("submission_")):
        subs.append(Submission(p.name, next(iter(sorted(p.rglob("*.ipynb"))), p)))
    return sorted(subs, key=lambda s: s.name)


def command(chapter, submissions, **options) -> list[str]:
    """This tool's command line, for scripts and tests: options are its long options with
    underscores, e.g. command("01_logsumexp", folder, jobs=2, cell_timeout=20, out=out)."""
    argv = [sys.executable, str(Path(__file__).resolve()), chapter]
    argv += [str(submissions)] if submissions else []
    for option, value in options.items():
        argv += [f"--{option.replace('_', '-')}", str(value)]
    return argv


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="the chapter's stem, e.g. 01_logsumexp")
    parser.add_argument("submissions", type=Path, nargs="?", help="folder to grade")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT)
    parser.add_argument("--root", type=Path, default=ROOT, help="holds grading/")
    parser.add_argument("--autograder-dir", type=Path, help="ROOT/_build/autograder")
    parser.add_argument("--out", type=Path, help="default: ROOT/_build/grades")
    parser.add_argument("--roster", type=Path, help="the LMS's gradebook CSV")
    parser.add_argument("--canvas-column", help="Canvas's column (default: stem)")
    try:
        return grade(parser.parse_args(argv))
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2


def grade(args) -> int:
    root, stem, folder = args.root.resolve(), args.chapter, args.submissions
    chapters = sorted(p.name for p in (root / "grading").glob("*") if p.is_dir())
    if not stem or stem not in chapters:
        raise UsageError(
            f"unknown chapter {stem!r}: chapters with grading/<stem>/ are {chapters}; "
            "use make grade CHAPTER=<stem> SUBMISSIONS=<folder>"
        )
    if folder is not None and not folder.is_dir():
        raise UsageError(f"no folder {str(folder)!r} (SUBMISSIONS=<folder of files>)")
    built = (args.autograder_dir or root / "_build" / "autograder").resolve() / stem
    autograder, questions_json = built / "autograder.zip", built / "questions.json"
    if not autograder.is_file() or not questions_json.is_file():
        raise UsageError(f"no {autograder}: run `make assign` first")
    if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0:
        raise UsageError("JOBS, TIMEOUT and CELL_TIMEOUT must be positive")
    questions = json.loads(questions_json.read_text())
    if any("written" not in q for q in questions):  # built before points were stated
        raise UsageError(f"{questions_json} is out of date: run `make assign` again")
    out = (args.out or root / "_build" / "grades").resolve()
    roster = read_roster(args.roster) if args.roster else {}
    head = ["id", "student"] * bool(roster) + ["submission"]
    head += [q["name"] for q in questions] + ["total", "possible", "note"]
    rows, feedback, written = read_previous(out, stem, head)
    subs = submissions_of(folder) if folder else []
    graded = {sub.name: sub for sub in subs}
    if roster:
        graded, rows = match_roster(subs, roster, folder, questions, rows)
    points = read_points(out / stem / "written", questions, {*rows, *graded}, head[0])
    runs = list({id(sub): sub for sub in graded.values()}.values())  # a group's once
    needed = hidden_tests_needs(autograder)
    for sub in runs:
        sub.notebook, sub.note = read_submission(sub.path, needed)
    data = Path(
        os.environ.get("DL_BOOK_DATA") or root / "_build" / "grade_data"
    ).resolve()
    os.environ["DL_BOOK_DATA"] = str(data)  # one folder for every kernel: data once
    prepare_data(root, stem, data, args.timeout)
    set_cell_timeout(args.cell_timeout)
    share = max(1, (os.cpu_count() or 1) // args.jobs)  # of the cores, per kernel
    threads = os.environ.setdefault("OMP_NUM_THREADS", str(share))
    begin = time.monotonic()
    print(
        f"grading {len(runs)} of {len(subs)} files of {stem} with {args.jobs} jobs (TIMEOUT="
        f"{args.timeout:g} s, CELL_TIMEOUT={args.cell_timeout:g} s, OMP_NUM_THREADS={threads})",
        flush=True,
    )
    run_all(runs, questions, autograder, args.jobs, args.timeout)
    for sub in runs:  # unreadable files: 0 on every autograded question
        sub.scores = {q["name"]: 0 for q in questions if not q["written"]} | sub.scores
    rows |= {k: new_row(s, questions, roster.get(k)) for k, s in graded.items()}
    book = dict(head=head, rows=rows, graded=graded, feedback=feedback)
    book |= dict(written=written, points=points)
    column = args.canvas_column or stem
    path = write_gradebook(out, stem, book, questions, roster, column)
    seconds = [s.seconds for s in runs if s.seconds is not None]
    print(
        f"{path}: {len(rows)} rows, {len(graded)} graded; wall "
        f"{time.monotonic() - begin:.1f} s, {sum(seconds) / max(len(seconds), 1):.1f} "
        f"s per graded submission\nfeedback, written answers and report.html: {out / stem}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
