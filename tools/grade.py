"""Grade a folder of submissions of one chapter with its otter-grader autograder, locally and in parallel.

One job: run `_build/autograder/<stem>/autograder.zip` (tools/make_autograder.py) on every file in a
folder and write the gradebook:

* _build/grades/<stem>.csv -- one row per file, sorted: submission, one column per question (points
  earned; empty for a written question), total, possible (the autograded points), note (why a file could
  not be graded, or timed out);
* _build/grades/<stem>/feedback/<submission>.md -- per question the points and, when not full, the
  failing tests' messages (the exception line only: the hidden tests' code is not shown);
* _build/grades/<stem>/written/<question>.md -- every submission's answer to a written question;
* _build/grades/<stem>/executed/<submission>.ipynb -- the notebook as the grader ran it, with its outputs.

How a submission runs (see instructors.md for what this isolates and what it does not):

* this process imports otter once and forks one child per submission (importing otter costs ~3 s), at
  most JOBS at a time; the child starts a session of its own and runs otter's non-container grader
  (`otter.run.main`, what `otter run` does) in a fresh temporary folder that holds only that submission
  (nbformat-checked, kernelspec reset to python3, nothing else changed) and the autograder;
* each kernel gets an equal share of the cores: OMP_NUM_THREADS = cores // JOBS (at least 1) unless
  OMP_NUM_THREADS is already set. PyTorch otherwise starts one thread per core in every kernel; with
  two kernels contending for two cores, a chapter 3 submission took 73 s instead of 52 s;
* every notebook cell may run CELL_TIMEOUT seconds, then it is interrupted and the next cell runs
  (otter has no timeout: nbclient's defaults are set in the child). otter's own last cell, which runs the
  hidden tests, has no cell limit: the whole submission may take TIMEOUT seconds, then the child's
  process tree, kernel included (it runs in a session of its own), is killed and the row says so;
* the parent reads the child's results.json from the child's folder after the child has ended, as
  untrusted data (shape checked, scores clamped to the question's points), deletes the folder, and only
  when every child has ended writes the gradebook (a submission cannot write it).

Usage: python tools/grade.py CHAPTER SUBMISSIONS_DIR [--jobs N] [--timeout S] [--cell-timeout S]
       [--root DIR] [--autograder-dir DIR] [--out DIR]
Exit status 0 whenever the batch ran (a bad file gets a row with a note); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parent.parent
# Seconds for a whole submission (kernel start and hidden tests included), and per notebook cell
# (`import torch` under load takes ~7 s).
DEFAULT_TIMEOUT, DEFAULT_CELL_TIMEOUT = 600, 60
MAX_RESULT_BYTES = (
    5_000_000  # a results.json or executed notebook larger than this is not read
)
# A written answer: a markdown line `**Answer to <name>** (written, graded by hand)`, then the answer.
ANSWER_LINE = re.compile(r"^\s*\*\*Answer to (\w+)\*\*.*$", re.M)
# otter's last cell runs the hidden tests (otter/execute/preprocessor.py, EXPORT_CELL_SOURCE).
GRADING_CELL_MARK = "Checker.check_if_not_already_checked"
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
    # {question: [failing tests' messages]}
    messages: dict = field(default_factory=dict)
    seconds: float | None = None
    executed: bytes | None = None  # the notebook as otter ran it (for the instructor)
    # while it runs
    pid: int | None = None
    workdir: Path | None = None
    deadline: float = 0.0
    started: float = 0.0
    descendants: set = field(default_factory=set)


# ----------------------------------------------------------------------------------------------------
# Before grading: read each file (in the parent; nothing runs)
# ----------------------------------------------------------------------------------------------------
def read_submission(path: Path):
    """(notebook, "") or (None, reason). The kernelspec is reset to python3 (a Colab or R kernelspec
    would make otter fail); nothing else changes."""
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
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook, ""


def written_answers(notebook, names) -> dict:
    """{name: answer text or None}: the text below each `**Answer to <name>**` line, in its cell and the
    markdown cells after it up to the next code cell or answer line (the first answer line counts)."""
    answers, current = {}, None
    for cell in notebook.cells if notebook is not None else []:
        if cell.cell_type != "markdown":
            current = None
            continue
        text = cell.source
        pos = 0
        for match in ANSWER_LINE.finditer(text):
            if current is not None:
                answers[current].append(text[pos : match.start()])
            current = match.group(1) if match.group(1) not in answers else None
            if current is not None:
                answers[current] = []
            pos = match.end()
        if current is not None:
            answers[current].append(text[pos:])
    result = {}
    for name in names:
        text = "\n\n".join(p.strip() for p in answers.get(name, []) if p.strip())
        result[name] = text or None
    return result


# ----------------------------------------------------------------------------------------------------
# The child: one submission
# ----------------------------------------------------------------------------------------------------
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
        raise RuntimeError(
            "could not set the cell timeout: nbconvert was imported too early"
        )


def _child(workdir: Path, autograder: Path) -> None:
    """Runs in the forked child: grade workdir/submission/submission.ipynb; never returns."""
    code = 1
    try:
        os.setsid()  # own session and process group: the parent kills it as a whole
        log = os.open(workdir / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        # otter unpacks the autograder (hidden tests included) into a mkdtemp: make it ours
        tmp = workdir / "tmp"
        tmp.mkdir()
        os.environ["TMPDIR"] = str(tmp)  # the kernel's temporary files too
        tempfile.tempdir = None  # forget the parent's choice
        os.chdir(workdir)
        from otter.run import main as otter_run  # already imported (set_cell_timeout)

        out = workdir / "out"
        out.mkdir()
        results = otter_run(
            str(workdir / "submission" / "submission.ipynb"),
            autograder=str(autograder),
            output_dir=str(out),
            no_logo=True,
        )
        interrupted = sum(
            output.get("ename") == "KeyboardInterrupt"
            for cell in getattr(results.notebook, "cells", [])
            for output in cell.get("outputs", [])
        )
        (out / "interrupted.txt").write_text(str(interrupted))
        if getattr(results, "notebook", None) is not None:
            nbformat.write(results.notebook, str(out / "executed.ipynb"))
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _kill(processes) -> None:
    for process in processes:
        try:
            process.kill()  # psutil checks that the pid was not reused
        except psutil.Error:
            pass


def _descendants(pid: int) -> set:
    try:
        return set(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return set()


def start(sub: Submission, autograder: Path, timeout: float):
    sub.workdir = Path(tempfile.mkdtemp(prefix="grade-"))  # only this submission in it
    (sub.workdir / "submission").mkdir()
    nbformat.write(sub.notebook, sub.workdir / "submission" / "submission.ipynb")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(sub.workdir, autograder)
    sub.pid = pid
    sub.started = time.monotonic()
    sub.deadline = sub.started + timeout


def finish(sub: Submission, questions, timed_out: bool, timeout: float) -> None:
    """Read the child's result (untrusted), then delete its folder and anything it left running."""
    sub.seconds = round(time.monotonic() - sub.started, 1)
    # e.g. a kernel left by a crashed otter (the pid is reaped: no new lookup)
    _kill(sub.descendants)
    auto = [q for q in questions if q["points"] is not None]
    if timed_out:
        sub.note = (
            f"timed out after {timeout:g} s (TIMEOUT): killed, not graded; "
            "look for an endless loop in code the tests call"
        )
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
    entries = {
        t["name"]: t
        for t in tests
        if isinstance(t, dict) and isinstance(t.get("name"), str) and "score" in t
    }
    if not entries:  # "Autograder Failed": the hidden-test cell did not finish
        outputs = [t.get("output") for t in tests if isinstance(t, dict)]
        last = [
            s.strip().splitlines()[-1]
            for s in outputs
            if isinstance(s, str) and s.strip()
        ]
        sub.note = (
            f"no scores from the autograder: {last[-1] if last else 'no output'}"[:300]
        )
        return
    missing = []
    for q in auto:
        entry = entries.get(q["name"])
        score = entry.get("score") if entry else None
        if (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
        ):
            missing.append(q["name"])
            continue
        sub.scores[q["name"]] = min(max(float(score), 0.0), float(q["points"]))
        if sub.scores[q["name"]] < q["points"]:
            output = entry.get("output")
            sub.messages[q["name"]] = failure_lines(
                output if isinstance(output, str) else ""
            )
    notes = []
    if missing:
        notes.append(f"no score for {', '.join(missing)}")
    try:
        interrupted = int((out / "interrupted.txt").read_text()[:10])
    except (OSError, ValueError):
        interrupted = 0
    if interrupted > 0:
        notes.append(f"{interrupted} cell(s) interrupted after CELL_TIMEOUT")
    sub.note = "; ".join(notes)


def failure_lines(output: str) -> list:
    """The last line of each failed test case in otter's output (`ExceptionType: message`)."""
    cases = re.split(r"\n(?=\s*\S+ - \d+ result:)", output)
    lines = []
    for case in cases:
        if "Test case failed" in case:
            rows = [line.strip() for line in case.splitlines() if line.strip()]
            lines.append(rows[-1])
    if not lines and output.strip():
        lines.append(output.strip().splitlines()[-1].strip())
    return [line[:500] for line in lines]


def _lines(path: Path) -> list:
    try:
        return [
            s.strip()
            for s in path.read_text(errors="replace").splitlines()
            if s.strip()
        ]
    except OSError:
        return []


def kernel_threads(jobs: int) -> int:
    """Threads per kernel when `jobs` kernels share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // jobs)


def run_all(subs, questions, autograder, jobs, timeout) -> None:
    """Grade the notebooks, at most `jobs` at a time; every child is waited for or killed."""
    pending = [s for s in subs if s.notebook is not None]
    running = []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                sub = pending.pop(0)
                start(sub, autograder, timeout)
                running.append(sub)
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
                    print(
                        f"  {sub.name}: {sub.seconds} s {sub.note}".rstrip(), flush=True
                    )
    finally:  # Ctrl-C or an error here: leave nothing running, no folder with the hidden tests
        for sub in running:
            _kill_group(sub)
            shutil.rmtree(sub.workdir, ignore_errors=True)


def _kill_group(sub: Submission) -> None:
    tree = sub.descendants | _descendants(sub.pid)
    try:
        os.killpg(sub.pid, signal.SIGKILL)
    except OSError:
        pass
    _kill(tree)  # the kernel runs in a session of its own: killpg misses it
    try:
        os.waitpid(sub.pid, 0)
    except ChildProcessError:
        pass


# ----------------------------------------------------------------------------------------------------
# The gradebook (written by the parent, after every child has ended)
# ----------------------------------------------------------------------------------------------------
def _num(x: float) -> str:
    return f"{x:g}"


def csv_text(subs, questions) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["submission", *(q["name"] for q in questions), "total", "possible", "note"]
    )
    possible = sum(q["points"] for q in questions if q["points"] is not None)
    for sub in subs:
        cells = [
            "" if q["points"] is None else _num(sub.scores.get(q["name"], 0))
            for q in questions
        ]
        total = sum(sub.scores.values())
        writer.writerow([sub.name, *cells, _num(total), _num(possible), sub.note])
    return buffer.getvalue()


def feedback_text(sub: Submission, questions, stem: str) -> str:
    auto = [q for q in questions if q["points"] is not None]
    possible = sum(q["points"] for q in auto)
    lines = [
        f"# Feedback on {sub.name} ({stem})",
        "",
        f"Autograded points: {_num(sum(sub.scores.values()))} / {_num(possible)}",
    ]
    if sub.note:
        lines += ["", f"Note: {sub.note}"]
    for q in questions:
        lines += ["", f"## {q['title']} (`{q['name']}`)", ""]
        if q["points"] is None:
            lines.append("Written: graded by hand.")
            continue
        score = sub.scores.get(q["name"], 0)
        lines.append(f"{_num(score)} / {_num(q['points'])} points")
        failing = sub.messages.get(q["name"], [])
        if failing:
            lines += ["", "Failing tests:"] + [f"- `{m}`" for m in failing]
    return "\n".join(lines) + "\n"


def written_text(question, subs) -> str:
    lines = [
        f"# {question['title']} (`{question['name']}`)",
        "",
        f"Written answers of {len(subs)} submissions, graded by hand (each quoted below its "
        "submission's name).",
    ]
    for sub in subs:
        answer = written_answers(sub.notebook, [question["name"]])[question["name"]]
        quoted = "\n".join(
            f"> {line}" for line in (answer or "(no answer found)").splitlines()
        )
        lines += ["", f"## {sub.name}", "", quoted]
    return "\n".join(lines) + "\n"


def write_gradebook(out: Path, stem: str, subs, questions) -> Path:
    """Write (replacing) the CSV and the folder of feedback and written answers."""
    folder = out / stem
    # nothing from an earlier run, or planted by a submission, survives
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "feedback").mkdir(parents=True)
    (folder / "written").mkdir()
    (folder / "executed").mkdir()
    for sub in subs:
        (folder / "feedback" / f"{sub.name}.md").write_text(
            feedback_text(sub, questions, stem)
        )
        if sub.executed is not None:  # what the tests saw, outputs included
            (folder / "executed" / f"{sub.name}.ipynb").write_bytes(sub.executed)
    for q in questions:
        if q["points"] is None:
            (folder / "written" / f"{q['name']}.md").write_text(written_text(q, subs))
    csv_path = out / f"{stem}.csv"
    # a symlink planted there is replaced, not followed
    csv_path.unlink(missing_ok=True)
    csv_path.write_text(csv_text(subs, questions))
    return csv_path


# ----------------------------------------------------------------------------------------------------
def submissions_of(folder: Path) -> list:
    """Every file in the folder (hidden files aside), as rows sorted by name."""
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
    )
    stems = [p.stem for p in files]
    subs = [
        Submission(p.stem if stems.count(p.stem) == 1 else p.name, p) for p in files
    ]
    return sorted(subs, key=lambda s: s.name)


def command(chapter, submissions, **options) -> list[str]:
    """This tool's command line, for scripts and tests: options are its long options with
    underscores, e.g. command("01_logsumexp", folder, jobs=2, cell_timeout=20, out=out)."""
    argv = [sys.executable, str(Path(__file__).resolve()), chapter, str(submissions)]
    for option, value in options.items():
        argv += [f"--{option.replace('_', '-')}", str(value)]
    return argv


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="the chapter's stem, e.g. 01_logsumexp")
    parser.add_argument("submissions", type=Path, help="folder of submitted files")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT)
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="folder that holds grading/"
    )
    parser.add_argument(
        "--autograder-dir", type=Path, help="default: ROOT/_build/autograder"
    )
    parser.add_argument("--out", type=Path, help="default: ROOT/_build/grades")
    args = parser.parse_args(argv)
    try:
        return grade(args)
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2


def grade(args) -> int:
    root = args.root.resolve()
    stem = args.chapter
    chapters = sorted(p.name for p in (root / "grading").glob("*") if p.is_dir())
    if not stem or stem not in chapters:
        raise UsageError(
            f"unknown chapter {stem!r}: chapters with grading/<stem>/ are {chapters}; "
            "use make grade CHAPTER=<stem> SUBMISSIONS=<folder>"
        )
    if not args.submissions.is_dir():
        raise UsageError(
            f"no folder {str(args.submissions)!r} (SUBMISSIONS=<folder of files>)"
        )
    built = (args.autograder_dir or root / "_build" / "autograder").resolve() / stem
    autograder, questions_json = built / "autograder.zip", built / "questions.json"
    if not autograder.is_file() or not questions_json.is_file():
        raise UsageError(f"no {autograder}: run `make assign` first")
    if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0:
        raise UsageError("JOBS, TIMEOUT and CELL_TIMEOUT must be positive")
    questions = json.loads(questions_json.read_text())
    out = (args.out or root / "_build" / "grades").resolve()
    subs = submissions_of(args.submissions)
    for sub in subs:
        sub.notebook, sub.note = read_submission(sub.path)
    set_cell_timeout(args.cell_timeout)
    os.environ.setdefault("OMP_NUM_THREADS", str(kernel_threads(args.jobs)))

    begin = time.monotonic()
    print(
        f"grading {len(subs)} files of {stem} with {args.jobs} jobs "
        f"(TIMEOUT={args.timeout:g} s, CELL_TIMEOUT={args.cell_timeout:g} s, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']})",
        flush=True,
    )
    run_all(subs, questions, autograder, args.jobs, args.timeout)
    for sub in subs:  # unreadable files: 0 on every autograded question
        for q in questions:
            if q["points"] is not None:
                sub.scores.setdefault(q["name"], 0)
    csv_path = write_gradebook(out, stem, subs, questions)
    wall = time.monotonic() - begin
    graded = [s.seconds for s in subs if s.seconds is not None]
    print(
        f"{csv_path}: {len(subs)} rows; wall {wall:.1f} s, "
        f"{(sum(graded) / len(graded)) if graded else 0:.1f} s per graded submission"
    )
    print(
        f"feedback: {out / stem / 'feedback'}   written answers: {out / stem / 'written'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
