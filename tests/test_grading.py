"""Autograding (tools/make_autograder.py, tools/grade.py) on the toy chapter in tests/grading_fixture/.

A class of submissions is made from the toy chapter's student notebook (tools/make_student.py) and its
solution, graded in ONE tools/grade.py run (JOBS=2, small timeouts), and the gradebook is compared
exactly: every row, every number, the notes, the feedback and the collected written answers; then that
nothing is left running or on disk, and that a submission could not write the gradebook.
"""

import ast
import contextlib
import copy
import csv
import io
import json
import os
import re
import shutil
import statistics
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat
import psutil
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT, early, early_result, run
from grading_support import grade_run

FIXTURE = ROOT / "tests" / "grading_fixture"
CHAPTER = FIXTURE / "chapters" / "00_toy.md"
STEM = "00_toy"
PYTHON = sys.executable
# Every toy submission runs in ~3 s alone (~6 s the untouched one), so 15 s per cell and 40 s per
# submission leave room for a loaded machine; the endless loops cost these limits.
JOBS, CELL_TIMEOUT, TIMEOUT = 2, 15, 40

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import bench_grade  # noqa: E402
import grade  # noqa: E402
import make_autograder  # noqa: E402
import make_student  # noqa: E402
import sync_twins  # noqa: E402

import dlbook  # noqa: E402

HEADER = "submission,q1_smooth_max,q2_conv_params,q3_why,total,possible,note"
TIMED_OUT = (
    f"timed out after {TIMEOUT} s (TIMEOUT): killed, not graded; "
    "look for an endless loop in code the tests call"
)
# {submission: (points of q1, q2, q3 (written: empty), total, possible (q3's 2 included); note)}
EXPECTED_ROWS = {
    "cell_loop": ("2,1.5,,3.5,5.5", "1 cell(s) interrupted after CELL_TIMEOUT"),
    "correct": ("2,1.5,,3.5,5.5", ""),
    "crash_first": ("0,1.5,,1.5,5.5", ""),
    "endless_in_tests": ("0,0,,0,5.5", TIMED_OUT),
    "forged_checks": ("1,1.5,,2.5,5.5", ""),
    "kernel_ir": ("2,1.5,,3.5,5.5", ""),
    "not_json": ("0,0,,0,5.5", "not a valid notebook (NotJSONError: Notebook does not "
                 "appear to be JSON: '{\"cells\": [oops')"),
    "notes": ("0,0,,0,5.5", "not a notebook (.ipynb): notes.txt"),
    "reordered": ("2,1.5,,3.5,5.5", ""),
    "stripped": ("2,1.5,,3.5,5.5", ""),
    "untouched": ("0,0,,0,5.5", ""),
    "vandal": ("2,1.5,,3.5,5.5", ""),
    "wrong_q1": ("1,1.5,,2.5,5.5", ""),
    "wrong_q2": ("2,0.5,,2.5,5.5", ""),
}  # fmt: skip


# --- The class -------------------------------------------------------------------------------------
def student_notebook():
    return list(make_student.student_notebooks([CHAPTER]).values())[0]


def solution_notebook():
    notebook = jupytext.read(CHAPTER)
    notebook.metadata.pop("jupytext", None)
    return notebook


def cell_index(notebook, text):
    return next(i for i, c in enumerate(notebook.cells) if text in c.source)


def replace_def(notebook, name, source):
    notebook.cells[cell_index(notebook, f"def {name}(")].source = source


NAIVE = "def smooth_max(xs):\n    return math.log(sum(math.exp(x) for x in xs))\n"
NO_BIAS = "def conv_params(c_in, c_out, k):\n    return c_out * c_in * k * k\n"


def make_class(folder: Path, out: Path):
    """Write the submissions of EXPECTED_ROWS into folder."""
    folder.mkdir()
    v4, edited = nbformat.v4, copy.deepcopy
    correct = solution_notebook()
    i = cell_index(correct, "**Answer to q3_why**")
    answer = "\n\nThe largest exponent becomes 0, so no term overflows."
    correct.cells[i].source += answer
    subs = {"untouched": student_notebook(), "correct": correct}

    subs["wrong_q1"] = wrong_q1 = edited(correct)
    replace_def(wrong_q1, "smooth_max", NAIVE)
    i = cell_index(wrong_q1, "**Answer to q3_why**")
    wrong_q1.cells[i].source = "**Answer to q3_why** (written, graded by hand)"
    text = "Because exp of a negative number is <= 1."
    wrong_q1.cells.insert(i + 1, v4.new_markdown_cell(text))

    subs["wrong_q2"] = wrong_q2 = student_notebook()
    solved = correct.cells[cell_index(correct, "def smooth_max(")].source
    replace_def(wrong_q2, "smooth_max", solved)
    replace_def(wrong_q2, "conv_params", NO_BIAS)

    subs["forged_checks"] = forged = edited(wrong_q1)
    for cell in forged.cells:
        if "Self-check" in cell.source:
            cell.source = 'print("PASSED: all checks")'

    subs["reordered"] = reordered = edited(correct)
    cells = reordered.cells
    setup = cells[cell_index(reordered, "# Setup.")]
    answers = [c for c in cells if "def " in c.source]
    markdown = [c for c in cells if c.cell_type == "markdown"]
    # the answers first, reversed; the setup twice; of the markdown only the first cell, no checks
    own = v4.new_code_cell("x = 1  # a cell of the student's own")
    reordered.cells = [*reversed(answers), edited(setup), own, setup, *markdown[:1]]

    subs["stripped"] = stripped = json.loads(nbformat.writes(correct))
    stripped.update(metadata={}, nbformat_minor=4)
    for cell in stripped["cells"]:
        cell["metadata"] = {}
        cell.pop("id", None)

    subs["cell_loop"] = cell_loop = edited(correct)
    i = cell_index(cell_loop, "def smooth_max(")
    # the endless loops sleep: their wait for the timeout costs no CPU
    loop = "import time\nwhile True:\n    time.sleep(1)"
    cell_loop.cells.insert(i + 1, v4.new_code_cell(loop))

    # passes its self-check; loops on the hidden tests' input
    subs["endless_in_tests"] = endless = edited(correct)
    replace_def(
        endless,
        "conv_params",
        "def conv_params(c_in, c_out, k):\n    import time\n    while c_in > 1:\n        time.sleep(1)\n"
        "    return c_out * (c_in * k * k + 1)\n",
    )

    subs["crash_first"] = crash = edited(correct)
    setup_cell = crash.cells[cell_index(crash, "# Setup.")]
    setup_cell.source = 'raise RuntimeError("boom")\n' + setup_cell.source

    subs["kernel_ir"] = kernel_ir = edited(correct)
    kernel_ir.metadata["kernelspec"] = dict(name="ir", display_name="R", language="R")

    # tries to write the gradebook and another's feedback
    subs["vandal"] = vandal = edited(correct)
    feedback = out / STEM / "feedback"
    vandal.cells.append(
        v4.new_code_cell(
            "import os\n"
            f"os.makedirs({str(feedback)!r}, exist_ok=True)\n"
            f"open({str(out / (STEM + '.csv'))!r}, 'w').write('vandal,9,9,,99,3.5,\\n')\n"
            f"open({str(feedback / 'correct.md')!r}, 'w').write('you got 0')\n"
            f"open({str(feedback / 'planted.md')!r}, 'w').write('planted')\n"
            # reports its kernel's thread limit and data folder, holds 500 MiB more
            f"open({str(out.parent / 'kernel_threads.txt')!r}, 'w').write(' '.join("
            "os.environ.get(v, 'unset') for v in ('OMP_NUM_THREADS', 'DL_BOOK_DATA')))\n"
            "big = b'x' * (500 << 20)\n"
            "for up in range(1, 8):\n"
            "    try:\n"
            "        open('../' * up + 'vandal.txt', 'w').write('x')\n"
            "    except OSError:\n"
            "        pass\n"
        )
    )

    for name, notebook in subs.items():
        writes = json.dumps if isinstance(notebook, dict) else nbformat.writes
        (folder / f"{name}.ipynb").write_text(writes(notebook))
    (folder / "not_json.ipynb").write_text('{"cells": [oops')
    (folder / "notes.txt").write_text("my answers are in the notebook")


def kernels_under(path: Path) -> list:
    """Processes whose working directory or TMPDIR is under path (the graders' kernels)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            places = (process.cwd(), process.environ().get("TMPDIR", ""))
            if any(str(path) in place for place in places):
                found.append(process)
    return found


@early("graded")
def grade_the_toy_class(base):
    built = base / "autograder"
    command = [PYTHON, "tools/make_autograder.py", "--root", FIXTURE, "--out", built]
    run(command, check=True)
    out = base / "grades"
    make_class(base / "submissions", out)
    tmp = base / "tmp"
    tmp.mkdir()
    grading = grade_run(
        STEM, base / "submissions", tmp, "OMP_NUM_THREADS", root=FIXTURE, autograder_dir=built,
        out=out, jobs=JOBS, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
    )  # fmt: skip
    return dict(base=base, built=built, out=out, tmp=tmp, run=grading)


@pytest.fixture(scope="module")
def graded():
    return early_result(grade_the_toy_class)


def test_gradebook_is_exact(graded):
    rows = list(csv.reader(io.StringIO((graded["out"] / f"{STEM}.csv").read_text())))
    wanted = [HEADER.split(",")] + [
        [name, *numbers.split(","), note]
        for name, (numbers, note) in sorted(EXPECTED_ROWS.items())
    ]
    assert [r[:-1] for r in rows] == [w[:-1] for w in wanted]  # the numbers first
    assert rows == wanted


def test_feedback_names_the_failing_tests(graded):
    feedback = graded["out"] / STEM / "feedback"
    assert sorted(p.stem for p in feedback.iterdir()) == sorted(EXPECTED_ROWS)
    wrong_q1 = (feedback / "wrong_q1.md").read_text()
    assert "1 / 2 points" in wrong_q1 and "1.5 / 1.5 points" in wrong_q1
    assert "AssertionError: overflow for large inputs: subtract the maximum first" in (
        wrong_q1
    )
    assert "Written: graded by hand, out of 2." in wrong_q1
    wrong_q2 = (feedback / "wrong_q2.md").read_text()
    assert "AssertionError: conv_params(3, 64, 11): count the biases too" in wrong_q2
    assert "conv_params(2, 3, 1)" in wrong_q2 and "return an int" not in wrong_q2
    untouched = (feedback / "untouched.md").read_text()
    assert "NotImplementedError: TODO: return log(sum(exp(x) for x in xs))" in untouched
    assert "Failing tests" not in (feedback / "correct.md").read_text()
    assert TIMED_OUT in (feedback / "endless_in_tests.md").read_text()
    assert "def test_" not in "".join(p.read_text() for p in feedback.iterdir())


def test_written_answers_are_collected(graded):
    written = graded["out"] / STEM / "written"
    assert [p.name for p in written.iterdir()] == ["q3_why.md"]
    text = (written / "q3_why.md").read_text()
    parts = (part.split("\n", 1) for part in text.split("\n## ")[1:])
    sections = {name: answer.strip() for name, answer in parts}
    assert sorted(sections) == sorted(EXPECTED_ROWS)
    expected = {
        "correct": "> The largest exponent becomes 0, so no term overflows.",
        "wrong_q1": "> Because exp of a negative number is <= 1.",
        "untouched": "> (no answer found)",
        "notes": "> (no answer found)",
    }
    assert {name: sections[name] for name in expected} == expected


def test_class_report(graded):
    """The CSV's means and medians, a histogram per question with points, the top failure message
    of the class (2 rows), the slowest submission (killed after TIMEOUT) and the timeouts."""
    html = (graded["out"] / STEM / "report.html").read_text()
    part = lambda title: html.split(f"<h2>{title}</h2>")[1].split("<h2>")[0]  # noqa: E731
    table = lambda title: [re.findall("<td>(.*?)</td>", r) for r in part(title).split("</tr>")][1:-1]  # noqa: E731 # fmt: skip
    points, rows = {r[0]: r for r in table("Points")}, list(csv.DictReader((graded["out"] / f"{STEM}.csv").open()))  # fmt: skip
    for name in ("q1_smooth_max", "q2_conv_params", "total"):
        values = [float(r[name]) for r in rows]
        assert points[name] == [name, "14", *(f"{f(values):.2f}" for f in (statistics.mean, statistics.median))]  # fmt: skip
    assert points["q3_why"] == ["q3_why", "0", "-", "-"]  # written: no points yet
    alts = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)">', part("Points"))  # fmt: skip
    assert [{q for q in points if q in alt} for alt in alts] == [{"q1_smooth_max"}, {"q2_conv_params"}]  # fmt: skip
    top = "AssertionError: overflow for large inputs: subtract the maximum first"
    assert table("Most frequent failures")[0] == ["q1_smooth_max", top, "2"]
    assert table("Slowest submissions")[0][0] == "endless_in_tests"
    assert ["endless_in_tests"] * 2 + [TIMED_OUT] in table("Timeouts")


def test_a_submission_cannot_write_anothers_feedback(graded):
    # a forged gradebook row or a planted feedback file fails the exact tests above
    feedback = graded["out"] / STEM / "feedback"
    assert (feedback / "correct.md").read_text().count("2 / 2 points") == 1


def test_kernels_share_the_cores_and_one_data_folder_and_report_their_memory(graded):
    # JOBS kernels each starting one PyTorch thread per core would contend for the cores
    threads, data = (
        max(1, (os.cpu_count() or 1) // JOBS),
        FIXTURE / "_build" / "grade_data",
    )
    assert (graded["base"] / "kernel_threads.txt").read_text() == f"{threads} {data}"
    found = bench_grade.LINE.findall(graded["run"].stdout)  # as bench-grade reads it
    peak = {name: int(mb) for name, _, mb, _ in found}
    assert peak["vandal"] >= peak["correct"] + 400  # the kernel's memory, not grade's
    assert f"OMP_NUM_THREADS={threads})" in graded["run"].stdout


def test_nothing_is_left_behind(graded):
    # No submission folder (with the hidden tests) survives. The vandal's `../vandal.txt` may: student
    # code runs as the grader's user, and grading is not a sandbox (instructors.md).
    left = sorted(p.name for p in graded["tmp"].iterdir())
    assert left in ([], ["vandal.txt"])
    assert not [p for p in graded["tmp"].rglob("*.py")]
    assert kernels_under(graded["base"]) == []


def regrade(graded, folder, out, **options):
    """grade.py over folder (None: nothing) into out with the class's autograder: {key: row}."""
    grade_run(
        STEM, folder, out.parent, "", root=FIXTURE, autograder_dir=graded["built"], out=out,
        jobs=JOBS, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT, **options,
    )  # fmt: skip
    return {r.get("id") or r["submission"]: r for r in csv.DictReader((out / f"{STEM}.csv").open())}  # fmt: skip


def test_a_late_file_changes_only_its_row(graded, tmp_path):
    out, late = shutil.copytree(graded["out"], tmp_path / "grades"), tmp_path / "late"
    late.mkdir()
    shutil.copy(graded["base"] / "submissions/correct.ipynb", late / "wrong_q2.ipynb")
    files = lambda: {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.*")}  # noqa: E731
    before, book = files(), f"{STEM}.csv"
    regrade(graded, late, out)
    now, (history,) = files(), (out / "history").iterdir()
    assert now[book] == before[book].replace(b"wrong_q2,2,0.5,,2.5", b"wrong_q2,2,1.5,,3.5")  # fmt: skip
    assert history.read_bytes() == before[book]  # the previous gradebook, kept
    changed = {p for p in before.keys() | now.keys() if before.get(p) != now.get(p)}
    assert changed == {book, f"history/{history.name}", *(f"{STEM}/{p}" for p in (
        "feedback/wrong_q2.md", "executed/wrong_q2.ipynb", "written/q3_why.md", "report.html"))}  # fmt: skip
    assert b"## correct\n\n> The largest exponent" in now[f"{STEM}/written/q3_why.md"]
    report = now[f"{STEM}/report.html"].decode()  # every row, kept seconds (40 s) too
    assert "<td>total</td><td>14</td><td>2.21</td>" in report and "<td>endless_in_tests</td><td>4" in report  # fmt: skip


ROSTER = {  # Al Moe hands in nothing
    "Doe, Jane": ["101", "S1", "jdoe", "A"], "Roe, Rich": ["102", "S2", "rroe@uni.edu", "A"],
    "Poe, Ed": ["103", "S3", "epoe", "B"], "Moe, Al": ["104", "S4", "amoe", "B"],
}  # fmt: skip


@pytest.fixture(scope="module")
def rostered(graded, tmp_path_factory):
    """Canvas names (an older file, a late resubmission), Gradescope's, a login, a stranger."""
    base = tmp_path_factory.mktemp("roster")
    folder, roster = base / "in", base / "roster.csv"
    (folder / "submission_77").mkdir(parents=True)
    for name in ("doejane_101_5001_hw.txt", "doejane_LATE_101_5002_hw-1.txt",
                 "mystery.txt", "submission_77/hw.txt"):  # fmt: skip
        (folder / name).write_text("")
    meta = '{submission_77: {":submitters": [{":name": Rich Roe, ":sid": S2}]}}'
    (folder / "submission_metadata.yml").write_text(meta)
    shutil.copy(graded["base"] / "submissions/correct.ipynb", folder / "epoe.ipynb")
    lines = [",".join(grade.ROSTER_COLUMNS), "Points Possible,,,,"]
    lines += [f'"{name}",{",".join(row)}' for name, row in ROSTER.items()]
    roster.write_text("\n".join(lines))
    options = dict(roster=roster, canvas_column="Chapter 0 (77)")
    rows = regrade(graded, folder, base / "grades", **options)
    return {"rows": rows, "out": base / "grades", "options": options}


def test_roster_names_each_rows_student(rostered):
    rows = rostered["rows"]
    assert {k: (r["id"], r["submission"]) for k, r in rows.items()} == {
        "101": ("101", "doejane_LATE_101_5002_hw-1"), "102": ("102", "submission_77"),
        "103": ("103", "epoe"), "104": ("104", ""), "mystery": ("", "mystery"),
    }  # fmt: skip
    assert (rows["104"]["note"], rows["mystery"]["note"]) == ("no submission", grade.UNMATCHED)  # fmt: skip


def test_canvas_csv_has_the_roster_and_the_column(rostered):
    rows = list(csv.reader((rostered["out"] / f"{STEM}-canvas.csv").open()))
    assert rows[0] == [*grade.ROSTER_COLUMNS, "Chapter 0 (77)"]
    totals = {"101": "0", "102": "0", "103": "3.5", "104": ""}
    assert rows[1:] == [[name, *row, totals[row[0]]] for name, row in ROSTER.items()]


def test_written_points_are_added(graded, rostered, tmp_path):
    out = shutil.copytree(rostered["out"], tmp_path / "grades")
    points = out / STEM / "written" / "q3_why-points.csv"
    points.write_text("id,points\nPoints Possible,2\n103,1.5\n")
    row = regrade(graded, None, out, **rostered["options"])["103"]
    assert (row["q3_why"], row["total"], row["possible"]) == ("1.5", "5", "5.5")
    assert "q3_why (of 2): 1 scored 1.5" in (out / STEM / "report.html").read_text()
    options = dict(out=out, root=FIXTURE, autograder_dir=graded["built"])
    for text, wanted in (  # over q3_why's stated 2 points; a maximum that is not the stated one
        ("id,points\n103,3\n999,1\n", "'999' is no row of the gradebook; 103's '3' is not a number from 0 to 2"),
        ("id,points\nPoints Possible,3\n103,3\n", "q3_why-points.csv: `Points Possible,3`, but questions.yml gives q3_why 2 (printed"),
    ):  # fmt: skip
        points.write_text(text)
        result = run(grade.command(STEM, None, **options, **rostered["options"]))
        assert result.returncode == 2 and wanted in result.stderr, result.stderr


# --- make_autograder -------------------------------------------------------------------------------
def test_zip_holds_the_hidden_tests_and_the_pins(graded):
    built = graded["built"] / STEM
    with zipfile.ZipFile(built / "autograder.zip") as z:
        names = set(z.namelist())
        assert {"tests/q1_smooth_max.py", "tests/q2_conv_params.py"} <= names
        assert "hidden=True" in z.read("tests/q1_smooth_max.py").decode()
        environment = z.read("environment.yml").decode()
        assert json.loads(z.read("otter_config.json")) == {"pdf": False}
    for pin in make_autograder.chapter_pins(ROOT / "requirements.txt"):
        assert pin in environment
    assert json.loads((built / "questions.json").read_text()) == [
        {"name": "q1_smooth_max", "title": "(a) a smooth maximum that does not overflow",
         "written": False, "points": 2},
        {"name": "q2_conv_params", "title": "(b) parameters of a convolution", "written": False, "points": 1.5},
        {"name": "q3_why", "title": "(c) why subtracting the maximum works", "written": True, "points": 2},
    ]  # fmt: skip
    student = nbformat.writes(student_notebook())
    assert "test_case" not in student and "hidden" not in student


Q1, Q2, Q3, TOY, YML = ("tests/q1_smooth_max.py", "tests/q2_conv_params.py", "tests/q3_why.py",
                        f"../../chapters/{STEM}.md", "questions.yml")  # fmt: skip
POSE = ("chapters/00_toy.md: pose question '{}' exactly once as \"Question `{}` ({})\" (the points "
        "come from its test file, a written question's from questions.yml); ")  # fmt: skip
MAKE_AUTOGRADER_ERRORS = {  # id: (file under grading/00_toy, from file, old, new; the error)
    "extra-test": ("tests/q9_extra.py", Q2, '"q2_conv_params"', '"q9_extra"',
                   "grading/00_toy/tests/q9_extra.py: no question 'q9_extra' in "
                   "grading/00_toy/questions.yml: add it there"),
    "missing-test": (Q2, None, None, None,
                     "question 'q2_conv_params' has no test file: write "
                     "grading/00_toy/tests/q2_conv_params.py or mark it `written: true`"),
    "written-with-test": (Q3, Q2, '"q2_conv_params"', '"q3_why"',
                          "grading/00_toy/tests/q3_why.py: 'q3_why' is a written question"),
    "name-mismatch": (Q1, Q1, '"q1_smooth_max"', '"q1"',
                      "grading/00_toy/tests/q1_smooth_max.py: `name = 'q1'` must equal the "
                      'file\'s name: write name = "q1_smooth_max"'),
    "zero-points": (Q1, Q1, "points = 2", "points = 0",
                    "grading/00_toy/tests/q1_smooth_max.py: `points` must be a number > 0"),
    "points-in-prose-differ": (Q1, Q1, "points = 2", "points = 3",
        POSE.format("q1_smooth_max", "q1_smooth_max", "autograded, 3 points") + "found ['(autograded, 2 points)']"),
    "written-points-in-prose-differ": (YML, YML, "points: 2", "points: 3",
        POSE.format("q3_why", "q3_why", "written, 3 points, graded by hand") + "found ['(written, 2 points, graded by hand)']"),
    "written-points-not-half": (YML, YML, "points: 2", "points: 0.3", "question 'q3_why': a written question states `points: "),
    "question-not-posed": (TOY, TOY, "Question `q3_why` (written, 2 points, graded by hand). ", "",
        POSE.format("q3_why", "q3_why", "written, 2 points, graded by hand") + "not found"),
}  # fmt: skip


@pytest.mark.parametrize("error", MAKE_AUTOGRADER_ERRORS)
def test_make_autograder_errors_are_clear(tmp_path, capsys, error):
    target, source, old, new, message = MAKE_AUTOGRADER_ERRORS[error]
    shutil.copytree(FIXTURE / "grading", tmp_path / "grading")
    shutil.copytree(FIXTURE / "chapters", tmp_path / "chapters")
    toy = tmp_path / "grading" / STEM
    if source is None:
        (toy / target).unlink()
    else:
        (toy / target).write_text((toy / source).read_text().replace(old, new))
    assert make_autograder.main(["--root", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "_build").exists()


def test_grading_runs_the_skipped_cells_an_answer_needs():
    """A skipped cell runs if a cell that runs, or a hidden test, needs a name it binds."""
    v4, skip = nbformat.v4, {"tags": [grade.SKIP]}
    cells = [v4.new_code_cell(f"{n} = 1", metadata=skip) for n in "kyzwv"]
    cells += map(v4.new_code_cell, ["def f(n):\n    return k * n", "def test_f(f, y): ...", "del w", "v = 2\nv"])  # fmt: skip
    notebook = grade.run_what_answers_need(v4.new_notebook(cells=cells), {"z"})
    assert [c.metadata["tags"] for c in notebook.cells[:5]] == [[]] * 4 + [[grade.SKIP]]


def test_grade_misuse(tmp_path):
    none = ["--autograder-dir", str(tmp_path / "none")]
    for args, message in (
        (["99_nope", str(tmp_path)], "unknown chapter '99_nope'"),
        ([STEM, str(tmp_path / "missing")], "no folder"),
        ([STEM, str(tmp_path), *none], "run `make assign` first"),
    ):
        result = run([*grade.command(*args[:2]), *args[2:], "--root", str(FIXTURE)])
        assert result.returncode == 2 and message in result.stderr, result.stderr


def test_the_repos_graded_chapters_are_consistent():
    """Every chapter is graded and passes make_autograder's check; its student notebook has an answer
    cell per written question and poses each question with its points; student/ holds no otter test."""
    folders = make_autograder.grading_folders(ROOT)
    assert [f.name for f in folders] == CHAPTER_STEMS, "every chapter is graded"
    for folder in folders:
        questions = make_autograder.check_chapter(folder, ROOT)
        notebook = ROOT / "student" / f"{folder.name}.ipynb"
        cells = nbformat.read(notebook, as_version=4).cells
        prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        headers = [m.group(1) for m in grade.ANSWER_LINE.finditer(prose)]
        written = [q["name"] for q in questions if q["written"]]
        assert headers == written, f"{notebook.name}: answer cells {headers}"
        for q in questions:  # the student reads each question's points where posed
            assert make_autograder.posed(q) in prose, f"{notebook.name}: {q['name']}"
    student_text = "".join(p.read_text() for p in (ROOT / "student").glob("*.ipynb"))
    for mark in ("OK_FORMAT", "@test_case", "@dlbook.hidden_case"):  # otter test files'
        assert mark not in student_text, mark


def hidden_test_fragments(path):
    """What would give a hidden test away: its function names and its long strings (messages).
    The question file's public cases are not hidden: students get them (dlbook._is_public)."""
    fragments = set()
    hidden = [n for n in ast.parse(path.read_text()).body if not dlbook._is_public(n)]
    for node in (inner for top in hidden for inner in ast.walk(top)):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            fragments.add(node.name)
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and len(text) > 30:
            fragments.add(text)
    return fragments


def hidden_test_files():
    folders = make_autograder.grading_folders(ROOT)
    return [path for f in folders for path in sorted((f / "tests").glob("*.py"))]


def test_hidden_test_search_finds_a_copied_test():
    """The search below can fail: pasted into a notebook, a hidden test is found by name and message."""
    path = ROOT / "grading" / "01_logsumexp" / "tests" / "q1b_grad.py"
    fragments = hidden_test_fragments(path)
    assert "test_no_overflow_for_large_beta" in fragments
    v4 = nbformat.v4
    pasted = v4.new_notebook(cells=[v4.new_code_cell(path.read_text())])
    found = leaked_fragments(path, nbformat.writes(pasted))
    assert "test_no_overflow_for_large_beta" in found
    assert any(" " in f for f in found), "no message of the test file was found"
    # A message a public case (the self-check) also has is public; hidden test names are not.
    shared = "fold_bn changed the layer it was given: fold a copy (copy.deepcopy)"
    ch3 = ROOT / "grading" / "03_batchnorm_folding" / "tests" / "q3a_fold_bn.py"
    assert shared in public_check_code("03_batchnorm_folding")
    assert not [f for f in leaked_fragments(ch3, shared) if "fold a copy" in f]
    assert leaked_fragments(ch3, ch3.read_text())
    assert len(hidden_test_files()) >= 4


@pytest.mark.slow
def test_no_hidden_test_reaches_students(student_site):
    """Nothing of a hidden test file (its test names, its messages) is in student/ or the student site."""
    site = [p for p in student_site.rglob("*") if p.suffix in {".html", ".ipynb"}]
    handed_out = [p for p in (ROOT / "student").iterdir() if p.is_file()] + site
    texts = (p.read_text(encoding="utf-8", errors="replace") for p in handed_out)
    text = "\n".join(texts)
    for path in hidden_test_files():
        leaked = leaked_fragments(path, text)
        assert not leaked, f"{path.relative_to(ROOT)} leaks to students: {leaked}"


def leaked_fragments(path, text):
    """The fragments of the hidden test file at path found in text. A hidden test may repeat a public
    self-check's message (the chapter shows it to everyone); its test names never."""
    public = public_check_code(path.parent.parent.name)
    return sorted(
        f
        for f in hidden_test_fragments(path)
        if f in text and (f.startswith("test_") or f not in public)
    )


def public_check_code(stem):
    """The code students get: the student notebook's code cells, public cases inlined."""
    (notebook,) = make_student.student_notebooks([CHAPTERS / f"{stem}.md"]).values()
    notebook = sync_twins.with_helper(notebook)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
